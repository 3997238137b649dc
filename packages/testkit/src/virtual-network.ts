/**
 * Real Endpoints on virtual time, each behind the peer interface the client layer uses
 * (`PeerPort`, as NetchatPeer offers it), joined by core's one simulated network
 * (`@netchat/core/testing`: the run loop, latency and loss, programs' timers on its clock).
 * `run` moves the clock from one datagram or deadline to the next and hands each endpoint's
 * events to its listeners: front-end logic is tested in-process, and no test sleeps.
 */
import {
  type Address,
  type DeclineReason,
  Endpoint,
  type EndpointOptionsInput,
  errors,
  formatAddress,
  KnownPeers,
  type NetchatEvent,
  type SessionId,
} from '@netchat/core';
import { SimulatedNetwork } from '@netchat/core/testing';

/** One program on the network: its endpoint, its port for the client, and what it saw. */
export class VirtualPeer {
  readonly events: NetchatEvent[] = [];
  readonly knownPeers = KnownPeers.inMemory();
  private readonly listeners: ((event: NetchatEvent) => void)[] = [];
  /** Whether the program is frozen (stopped): it neither reads nor sends, its timers wait. */
  frozen = false;

  constructor(
    readonly net: VirtualNetwork,
    public endpoint: Endpoint,
    readonly address: Address,
  ) {}

  onEvent(listener: (event: NetchatEvent) => void): void {
    this.listeners.push(listener);
  }

  deliver(event: NetchatEvent): void {
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
  }

  async resolve(host: string, port: number): Promise<Address> {
    if (host === 'localhost') return { host: '127.0.0.1', port };
    if (!/^[\d.]+$|:/.test(host)) throw errors.invalidAddress(host, 'host name not found');
    return { host, port };
  }

  connectTo(address: Address): SessionId {
    if (formatAddress(address) === formatAddress(this.address))
      throw errors.selfConnect(formatAddress(address));
    return this.endpoint.connect(address, this.net.now);
  }

  accept(session: SessionId): void {
    this.endpoint.accept(session, this.net.now);
  }

  decline(session: SessionId, reason?: DeclineReason, detail?: string): void {
    this.endpoint.decline(session, this.net.now, reason, detail);
  }

  send(session: SessionId, text: string): number {
    return this.endpoint.send(session, text, this.net.now);
  }

  closeSession(session: SessionId): void {
    this.endpoint.close(session, this.net.now);
  }

  setNick(nick: string): void {
    this.endpoint.setNick(nick, this.net.now);
  }

  setTyping(session: SessionId, typing: boolean): boolean {
    return this.endpoint.setTyping(session, typing, this.net.now);
  }

  session(session: SessionId) {
    return this.endpoint.session(session);
  }
}

/**
 * The network of VirtualPeers. Its `timers` (`set`, `clear`) are the shape the client and the
 * CLI take; they run as the clock reaches them, between datagrams.
 */
export class VirtualNetwork extends SimulatedNetwork<VirtualPeer> {
  add(host: string, port: number, options: EndpointOptionsInput = {}): VirtualPeer {
    return this.place(new VirtualPeer(this, new Endpoint(options), { host, port }));
  }

  /** The program crashed and started again with the same key at the same address: a new endpoint. */
  restart(peer: VirtualPeer, options: EndpointOptionsInput = {}): VirtualPeer {
    const endpoint = new Endpoint(options, { identity: peer.endpoint.identity });
    return this.place(new VirtualPeer(this, endpoint, peer.address));
  }

  /**
   * Runs until `until()` holds or `maxMs` of virtual time pass (or nothing is left to happen).
   * A duration, where core's network takes an end time: the client's tests count from now.
   */
  override run(until: () => boolean = () => false, maxMs = 600_000): boolean {
    return super.run(until, this.now + maxMs);
  }

  protected override told(peer: VirtualPeer, event: NetchatEvent): void {
    peer.deliver(event);
  }
}

export { settle } from '@netchat/core/testing';
