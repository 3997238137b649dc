/**
 * A virtual internet for rendezvous tests: a rendezvous peer on a public address, and homes
 * behind NAT routers (nat.ts), each with a client registered on the rendezvous.
 */

import { expect } from 'vitest';
import {
  type AcceptFrom,
  type Address,
  addressToWire,
  DEFAULT_RENDEZVOUS_SERVER_OPTIONS,
  type Endpoint,
  type EndpointHost,
  type EndpointOptionsInput,
  type EventOf,
  encodeRendezvous,
  fingerprint,
  RendezvousClient,
  RendezvousServer,
  type RendezvousServerOptions,
  type RendezvousUpdate,
} from '../../src/index.js';
import { Nat, type NatKind, natRouting } from './nat.js';
import { eventsOf, type Node, VirtualNetwork } from './virtual-network.js';

export const RENDEZVOUS_ADDRESS: Address = { host: '198.51.100.1', port: 3478 };

/** A client of the rendezvous: its endpoint, its role, the updates it gave so far. */
export interface Peer {
  node: Node;
  client: RendezvousClient;
  updates: (RendezvousUpdate & { at: number })[];
  fingerprint: string;
}

/** A client in a home network, behind its NAT router. */
export interface Home extends Peer {
  nat: Nat;
}

export class RendezvousLab {
  readonly net = new VirtualNetwork(3);
  rendezvous: Node;
  server: RendezvousServer;
  readonly homes: Home[] = [];
  /** Every client, in homes or on public addresses. */
  readonly peers: Peer[] = [];
  /**
   * The rendezvous's application policy (the bot's --accept, --allow, --max-sessions): whether
   * it accepts a request. Everyone, by default.
   */
  admit: (request: EventOf<'request'>) => boolean | 'hold' = () => true;
  private readonly nats: Nat[] = [];

  constructor(
    options: EndpointOptionsInput = {},
    private readonly serverOptions: Partial<RendezvousServerOptions> = {},
  ) {
    this.rendezvous = this.net.add(RENDEZVOUS_ADDRESS.host, RENDEZVOUS_ADDRESS.port, {
      nick: 'rendezvous',
      ...options,
    });
    this.server = this.rendezvous.endpoint.use(
      (host) => new RendezvousServer(host, { ...DEFAULT_RENDEZVOUS_SERVER_OPTIONS, ...serverOptions }),
    );
    this.net.translate = natRouting(this.nats);
  }

  /** The rendezvous program crashed and started again: same key and address, nothing remembered. */
  restartRendezvous(): void {
    this.rendezvous = this.net.restart(this.rendezvous, { nick: 'rendezvous' });
    this.server = this.rendezvous.endpoint.use(
      (host) => new RendezvousServer(host, { ...DEFAULT_RENDEZVOUS_SERVER_OPTIONS, ...this.serverOptions }),
    );
  }

  /** A home network 10.N.0.0 behind a NAT at 203.0.113.N, with one client in it. */
  home(
    kind: NatKind,
    acceptFrom: AcceptFrom = 'anyone',
    listedKeys: Uint8Array[] = [],
    options: EndpointOptionsInput = {},
  ): Home {
    const n = this.homes.length + 1;
    const nat = new Nat(`203.0.113.${n}`, `10.${n}.`, kind, n);
    this.nats.push(nat);
    const node = this.net.add(`10.${n}.0.2`, 5000 + n, { nick: `home${n}`, ...options });
    const home: Home = { ...this.peerOn(node, acceptFrom, listedKeys), nat };
    this.homes.push(home);
    this.peers.push(home);
    home.client.start(this.net.now);
    return home;
  }

  /**
   * A client on a public address (no NAT), a new key each time: churn and floods make many. A
   * node already at that address (an earlier client) is replaced.
   */
  client(
    host: string,
    port: number,
    acceptFrom: AcceptFrom = 'anyone',
    seed = this.peers.length * 7919 + port,
  ): Peer {
    const node = this.net.add(host, port, { nick: 'client' }, seed);
    const peer = this.peerOn(node, acceptFrom, []);
    this.peers.push(peer);
    peer.client.start(this.net.now);
    return peer;
  }

  private peerOn(node: Node, acceptFrom: AcceptFrom, listedKeys: Uint8Array[]): Peer {
    const client = node.endpoint.use(
      (host) => new RendezvousClient(host, { server: RENDEZVOUS_ADDRESS, acceptFrom, listedKeys }),
    );
    return { node, client, updates: [], fingerprint: fingerprint(node.endpoint.identity.publicKey) };
  }

  /** Runs until `until`, accepting every request the rendezvous gets and collecting updates. */
  run(until: () => boolean, ms = 10_000): boolean {
    return this.net.run(() => {
      this.step();
      return until();
    }, this.net.now + ms);
  }

  runFor(ms: number): void {
    this.run(() => false, ms);
  }

  step(): void {
    const handled = (this.rendezvous as Node & { handled?: Set<number> }).handled ?? new Set<number>();
    (this.rendezvous as Node & { handled?: Set<number> }).handled = handled;
    for (const request of eventsOf(this.rendezvous, 'request')) {
      if (handled.has(request.session)) continue;
      handled.add(request.session);
      const answer = this.admit(request);
      if (answer === 'hold') {
        handled.delete(request.session); // asked again at the next step
        continue;
      }
      if (answer) this.rendezvous.endpoint.accept(request.session, this.net.now);
      else this.rendezvous.endpoint.decline(request.session, this.net.now, 'not_allowed', 'not admitted');
    }
    for (const peer of this.peers)
      for (let u = peer.client.pollUpdate(); u; u = peer.client.pollUpdate())
        peer.updates.push({ ...u, at: this.net.now });
  }

  updatesOf<T extends RendezvousUpdate['type']>(home: Peer, type: T) {
    return home.updates.filter(
      (u): u is Extract<RendezvousUpdate, { type: T }> & { at: number } => u.type === type,
    );
  }

  registered(...homes: Peer[]): boolean {
    return homes.every((h) => h.client.isRegistered);
  }
}

/** A asks for B, connects when told, B accepts: the chat's events, or undefined if it never opened. */
export function chat(lab: RendezvousLab, a: Peer, b: Peer, waitMs = 40_000) {
  const request = a.client.introduce(b.fingerprint, lab.net.now);
  const askedAt = lab.net.now;
  const settled = () =>
    lab.updatesOf(a, 'ready').some((u) => u.request === request) ||
    lab.updatesOf(a, 'failed').some((u) => u.request === request);
  lab.run(settled);
  const ready = lab.updatesOf(a, 'ready').find((u) => u.request === request);
  if (!ready) return { ready, failed: lab.updatesOf(a, 'failed').find((u) => u.request === request) };
  const session = a.node.endpoint.connect(ready.address, lab.net.now);
  const requests = eventsOf(b.node, 'request').length;
  lab.run(
    () => eventsOf(b.node, 'request').length > requests || eventsOf(a.node, 'no_answer').length > 0,
    waitMs,
  );
  const incoming = eventsOf(b.node, 'request')[requests];
  if (incoming) b.node.endpoint.accept(incoming.session, lab.net.now);
  const opened = () => eventsOf(a.node, 'accepted').find((e) => e.session === session);
  lab.run(() => opened() !== undefined || eventsOf(a.node, 'no_answer').length > 0, waitMs);
  const accepted = opened();
  return { ready, session, incoming, accepted, openedIn: accepted ? accepted.at - askedAt : undefined };
}

/**
 * Two homes behind endpoint-independent NATs, both with streams, registered, with a chat open
 * from A to B whose features have been exchanged (so streams can be opened at once).
 */
export function streamChat() {
  const streams = { streams: true };
  const lab = new RendezvousLab(streams);
  const a = lab.home('endpoint-independent', 'anyone', [], streams);
  const b = lab.home('endpoint-independent', 'anyone', [], streams);
  expect(lab.run(() => lab.registered(a, b))).toBe(true);
  const { session, incoming } = chat(lab, a, b);
  const sessionA = session as number;
  const sessionB = incoming?.session as number;
  expect(lab.run(() => a.node.endpoint.session(sessionA)?.peerFeatures !== undefined)).toBe(true);
  return { lab, a, b, sessionA, sessionB };
}

/**
 * The host an endpoint gives its rendezvous role: a test's way to send rendezvous messages as it
 * likes. An endpoint without a role gets one that does nothing.
 */
export function hostOf(endpoint: Endpoint): EndpointHost {
  const role = (endpoint as unknown as { role?: EndpointHost }).role;
  if (role) return role;
  let host: EndpointHost | undefined;
  endpoint.use((given) => {
    host = given;
    return { onControl() {}, onEvent() {}, handleTimeout() {}, nextTimeout: () => undefined };
  });
  return host as EndpointHost;
}

/**
 * The rendezvous turned hostile toward the home at `publicHost`: sends it an `introduction` of
 * its choosing (role `introduced`, start at once) naming `key` at `address` with `relayTag`.
 */
export function hostileIntroducer(lab: RendezvousLab, publicHost: string) {
  const rendezvous = hostOf(lab.rendezvous.endpoint);
  const session = lab.rendezvous.endpoint.listSessions().find((s) => s.peer.host === publicHost);
  const channel = session && rendezvous.channelOf(session.id);
  if (!channel) throw new Error(`no session with ${publicHost}`);
  return (key: Uint8Array, address: Address, relayTag: number) =>
    rendezvous.sendControl(
      channel.id,
      encodeRendezvous({
        type: 'introduction',
        request: 0,
        role: 'introduced',
        key,
        ...addressToWire(address),
        startIn: 0,
        relayTag,
      }),
      lab.net.now,
    );
}
