/**
 * A virtual internet for rendezvous tests: a rendezvous peer on a public address, and homes
 * behind NAT routers (nat.ts), each with a client registered on the rendezvous.
 */
import {
  type AcceptFrom,
  type Address,
  DEFAULT_RENDEZVOUS_SERVER_OPTIONS,
  type EndpointOptionsInput,
  fingerprint,
  RendezvousClient,
  RendezvousServer,
  type RendezvousServerOptions,
  type RendezvousUpdate,
} from '../../src/index.js';
import { Nat, type NatKind, natRouting } from './nat.js';
import { eventsOf, type Node, VirtualNetwork } from './virtual-network.js';

export const RENDEZVOUS_ADDRESS: Address = { host: '198.51.100.1', port: 3478 };

export interface Home {
  node: Node;
  nat: Nat;
  client: RendezvousClient;
  updates: (RendezvousUpdate & { at: number })[];
  fingerprint: string;
}

export class RendezvousLab {
  readonly net = new VirtualNetwork(3);
  rendezvous: Node;
  server: RendezvousServer;
  readonly homes: Home[] = [];
  private readonly nats: Nat[] = [];

  constructor(options: EndpointOptionsInput = {}, serverOptions: Partial<RendezvousServerOptions> = {}) {
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
    this.server = this.rendezvous.endpoint.use((host) => new RendezvousServer(host));
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
    const client = node.endpoint.use(
      (host) => new RendezvousClient(host, { server: RENDEZVOUS_ADDRESS, acceptFrom, listedKeys }),
    );
    const home: Home = {
      node,
      nat,
      client,
      updates: [],
      fingerprint: fingerprint(node.endpoint.identity.publicKey),
    };
    this.homes.push(home);
    client.start(this.net.now);
    return home;
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
      this.rendezvous.endpoint.accept(request.session, this.net.now);
    }
    for (const home of this.homes)
      for (let u = home.client.pollUpdate(); u; u = home.client.pollUpdate())
        home.updates.push({ ...u, at: this.net.now });
  }

  updatesOf<T extends RendezvousUpdate['type']>(home: Home, type: T) {
    return home.updates.filter(
      (u): u is Extract<RendezvousUpdate, { type: T }> & { at: number } => u.type === type,
    );
  }

  registered(...homes: Home[]): boolean {
    return homes.every((h) => h.client.isRegistered);
  }
}
