/**
 * Real Endpoints on virtual time, joined by a virtual network with latency and loss, each behind
 * the peer interface the client layer uses (`PeerPort`, as NetchatPeer offers it). `run` moves
 * the clock from one datagram or deadline to the next and hands each endpoint's events to its
 * listeners: front-end logic is tested in-process, and no test sleeps. (Core's own tests have a
 * richer network of their own, for the protocol.)
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

/** mulberry32: the same "random" numbers on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface InFlight {
  at: number;
  order: number;
  from: Address;
  to: Address;
  data: Uint8Array;
}

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

/** A program's timer on the network's clock (what it would do with setTimeout). */
interface VirtualTimer {
  at: number;
  order: number;
  run: () => void;
}

export class VirtualNetwork {
  now = 0;
  latency = 5;
  loss = 0;
  /** Return false to drop a datagram (a partition). */
  filter: (from: Address, to: Address) => boolean = () => true;
  private readonly peers = new Map<string, VirtualPeer>();
  private inFlight: InFlight[] = [];
  private order = 0;
  private readonly random: () => number;
  private pendingTimers: VirtualTimer[] = [];

  /**
   * Timers on this network's clock, in the shape the client and the CLI take (`set`, `clear`):
   * `run` fires each when its time comes, as it moves from one datagram or deadline to the next.
   */
  readonly timers = {
    set: (run: () => void, delayMs: number): unknown => {
      const timer = { at: this.now + Math.max(0, delayMs), order: this.order++, run };
      this.pendingTimers.push(timer);
      return timer;
    },
    clear: (handle: unknown): void => {
      this.pendingTimers = this.pendingTimers.filter((t) => t !== handle);
    },
  };

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  add(host: string, port: number, options: EndpointOptionsInput = {}): VirtualPeer {
    const address = { host, port };
    const peer = new VirtualPeer(this, new Endpoint(options), address);
    this.peers.set(formatAddress(address), peer);
    return peer;
  }

  /** The program crashed and started again with the same key at the same address: a new endpoint. */
  restart(peer: VirtualPeer, options: EndpointOptionsInput = {}): VirtualPeer {
    const fresh = new VirtualPeer(
      this,
      new Endpoint(options, { identity: peer.endpoint.identity }),
      peer.address,
    );
    this.peers.set(formatAddress(peer.address), fresh);
    return fresh;
  }

  /** Moves what each endpoint wants to send onto the wire and hands its events to its listeners. */
  collect(): void {
    for (let again = true; again; ) {
      again = false;
      for (const peer of this.peers.values()) {
        if (peer.frozen) continue;
        for (let t = peer.endpoint.pollTransmit(); t; t = peer.endpoint.pollTransmit()) {
          if (!this.filter(peer.address, t.to) || this.random() < this.loss) continue;
          this.inFlight.push({
            at: this.now + this.latency,
            order: this.order++,
            from: peer.address,
            to: t.to,
            data: t.data,
          });
        }
        for (let e = peer.endpoint.pollEvent(); e; e = peer.endpoint.pollEvent()) {
          peer.deliver(e);
          again = true; // a listener may have called the endpoint
        }
      }
    }
  }

  private nextTime(): number | undefined {
    let next: number | undefined;
    for (const d of this.inFlight) if (next === undefined || d.at < next) next = d.at;
    for (const t of this.pendingTimers) if (next === undefined || t.at < next) next = t.at;
    for (const peer of this.peers.values()) {
      if (peer.frozen) continue;
      const at = peer.endpoint.nextTimeout();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /** Runs until `until()` holds or `maxMs` of virtual time pass (or nothing is left to happen). */
  run(until: () => boolean = () => false, maxMs = 600_000): boolean {
    const end = this.now + maxMs;
    this.collect();
    for (let step = 0; step < 2_000_000; step++) {
      if (until()) return true;
      const next = this.nextTime();
      if (next === undefined || next > end) {
        this.now = Math.max(this.now, end);
        return until();
      }
      this.now = Math.max(this.now, next);
      const due = this.inFlight
        .filter((d) => d.at <= this.now)
        .sort((a, b) => a.at - b.at || a.order - b.order);
      this.inFlight = this.inFlight.filter((d) => d.at > this.now);
      for (const d of due) {
        const to = this.peers.get(formatAddress(d.to));
        if (to && !to.frozen) to.endpoint.handleDatagram(d.data, d.from, this.now);
      }
      for (const peer of this.peers.values()) if (!peer.frozen) peer.endpoint.handleTimeout(this.now);
      this.collect();
      this.fireTimers();
    }
    throw new Error('network still busy after 2,000,000 steps');
  }

  /** Runs the timers that are due, in order (a timer may set another: it runs when its own time comes). */
  private fireTimers(): void {
    const due = this.pendingTimers
      .filter((t) => t.at <= this.now)
      .sort((a, b) => a.at - b.at || a.order - b.order);
    if (due.length === 0) return;
    this.pendingTimers = this.pendingTimers.filter((t) => t.at > this.now);
    for (const timer of due) timer.run();
    this.collect();
  }

  runFor(ms: number): void {
    this.run(() => false, ms);
  }
}

/** Lets pending promise callbacks (an address look-up) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
