/**
 * Endpoints on virtual time, joined by a virtual network with latency, loss, duplication and
 * reordering. `run` advances the clock from one datagram or deadline to the next: no test sleeps.
 */
import {
  type Address,
  type Datagram,
  Endpoint,
  type EndpointOptionsInput,
  formatAddress,
  type NetchatEvent,
} from '../../src/index.js';
import { seededBytes, seededRandom, seededU32 } from './random.js';

export interface LinkConditions {
  /** One-way delay in ms. */
  latency: number;
  /** Extra random delay up to this many ms (reorders datagrams). */
  jitter: number;
  loss: number;
  duplicate: number;
}

interface InFlight {
  at: number;
  order: number;
  from: Address;
  to: Address;
  data: Uint8Array;
}

/** One datagram a node sent: the bytes on the wire and, for data packets, the session message sealed inside. */
export interface Sent {
  at: number;
  to: Address;
  data: Uint8Array;
  message?: Datagram;
}

/** What the network needs of a node: an Endpoint, or a test's raw peer. */
export interface NodeEndpoint {
  handleDatagram(bytes: Uint8Array, from: Address, now: number): void;
  handleTimeout(now: number): void;
  nextTimeout(): number | undefined;
  pollTransmit(): { to: Address; data: Uint8Array; message?: Datagram } | undefined;
  pollEvent(): NetchatEvent | undefined;
}

export interface Node<E extends NodeEndpoint = Endpoint> {
  endpoint: E;
  address: Address;
  events: (NetchatEvent & { at: number })[];
  /** Every datagram this node sent, with its send time. */
  sent: Sent[];
}

export class VirtualNetwork {
  now = 0;
  private readonly nodes = new Map<string, Node<NodeEndpoint>>();
  /** NAT rebinding: the address a node's datagrams now appear from (and are answered at). */
  private readonly apparent = new Map<Node<NodeEndpoint>, Address>();
  private inFlight: InFlight[] = [];
  private order = 0;
  private readonly random: () => number;
  conditions: LinkConditions = { latency: 5, jitter: 0, loss: 0, duplicate: 0 };
  /** Return false to drop a datagram (for partitions and targeted loss); `message` is what it seals. */
  filter: (from: Address, to: Address, data: Uint8Array, message?: Datagram) => boolean = () => true;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  add(host: string, port: number, options: EndpointOptionsInput = {}, seed = port): Node {
    const address = { host, port };
    const node: Node = {
      endpoint: new Endpoint(options, { randomU32: seededU32(seed), randomBytes: seededBytes(seed) }),
      address,
      events: [],
      sent: [],
    };
    this.nodes.set(formatAddress(address), node);
    return node;
  }

  /**
   * The node's program crashed and started again: a new endpoint with the same key pair at the
   * same address (or at `port`, as a restart on a new port would be). Datagrams in flight to the
   * old address reach the new endpoint; every session it had is forgotten.
   */
  restart(node: Node, options: EndpointOptionsInput = {}, port = node.address.port): Node {
    this.nodes.delete(formatAddress(node.address));
    return this.twin(node, node.address.host, port, options);
  }

  /** A second endpoint with `node`'s key pair at another address (a second device), beside it. */
  twin(node: Node, host: string, port: number, options: EndpointOptionsInput = {}, seed = port + 7): Node {
    const identity = node.endpoint.identity;
    const address = { host, port };
    const fresh: Node = {
      endpoint: new Endpoint(options, {
        randomU32: seededU32(seed),
        randomBytes: seededBytes(seed),
        identity,
      }),
      address,
      events: [],
      sent: [],
    };
    this.nodes.set(formatAddress(address), fresh);
    return fresh;
  }

  /** From now on `node`'s datagrams come from `port` on its host, as after a NAT rebinding. */
  rebind(node: Node<NodeEndpoint>, port: number): Address {
    const address = { host: node.address.host, port };
    this.apparent.set(node, address);
    this.nodes.set(formatAddress(address), node);
    return address;
  }

  /** Adds a node of the test's own making (a raw peer). */
  attach<E extends NodeEndpoint>(endpoint: E, host: string, port: number): Node<E> {
    const node: Node<E> = { endpoint, address: { host, port }, events: [], sent: [] };
    this.nodes.set(formatAddress(node.address), node);
    return node;
  }

  /** Delivers a datagram from outside (a spoofer, a fuzzer) to a node now. */
  inject(to: Node<NodeEndpoint>, from: Address, data: Uint8Array): void {
    to.endpoint.handleDatagram(data, from, this.now);
    this.collect();
  }

  /** Moves what every endpoint wants to send onto the wire and records its events. */
  collect(): void {
    for (const node of this.nodes.values()) {
      for (let t = node.endpoint.pollTransmit(); t; t = node.endpoint.pollTransmit()) {
        node.sent.push({
          at: this.now,
          to: t.to,
          data: t.data,
          ...(t.message ? { message: t.message } : {}),
        });
        this.launch(this.apparent.get(node) ?? node.address, t.to, t.data, t.message);
      }
      for (let e = node.endpoint.pollEvent(); e; e = node.endpoint.pollEvent())
        node.events.push({ ...e, at: this.now });
    }
  }

  private launch(from: Address, to: Address, data: Uint8Array, message?: Datagram): void {
    const c = this.conditions;
    if (!this.filter(from, to, data, message) || this.random() < c.loss) return;
    const copies = this.random() < c.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const at = this.now + c.latency + this.random() * c.jitter;
      this.inFlight.push({ at, order: this.order++, from, to, data });
    }
  }

  /** The time of the next thing to happen, or undefined when nothing ever will. */
  private nextTime(): number | undefined {
    let next: number | undefined;
    for (const d of this.inFlight) if (next === undefined || d.at < next) next = d.at;
    for (const node of this.nodes.values()) {
      const at = node.endpoint.nextTimeout();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /**
   * Runs until `until` returns true, the clock passes `maxTime`, or nothing is left to happen.
   * Bounded by `maxSteps` as well. Returns whether `until` became true.
   */
  run(until: () => boolean = () => false, maxTime = this.now + 600_000, maxSteps = 2_000_000): boolean {
    this.collect();
    for (let step = 0; step < maxSteps; step++) {
      if (until()) return true;
      const next = this.nextTime();
      if (next === undefined || next > maxTime) {
        this.now = Math.max(this.now, maxTime === Number.POSITIVE_INFINITY ? this.now : maxTime);
        return until();
      }
      this.now = Math.max(this.now, next);
      const due = this.inFlight
        .filter((d) => d.at <= this.now)
        .sort((a, b) => a.at - b.at || a.order - b.order);
      this.inFlight = this.inFlight.filter((d) => d.at > this.now);
      for (const d of due)
        this.nodes.get(formatAddress(d.to))?.endpoint.handleDatagram(d.data, d.from, this.now);
      for (const node of this.nodes.values()) node.endpoint.handleTimeout(this.now);
      this.collect();
    }
    throw new Error(`network still busy after ${maxSteps} steps`);
  }

  /** Advances the clock by `ms`, processing everything due on the way. */
  runFor(ms: number): void {
    this.run(() => false, this.now + ms);
  }
}

export function eventsOf<T extends NetchatEvent['type']>(node: Node<NodeEndpoint>, type: T) {
  return node.events.filter((e): e is Extract<NetchatEvent, { type: T }> & { at: number } => e.type === type);
}

/** Sets up two nodes with an open session between them (a asked, b accepted). */
export function openPair(net: VirtualNetwork, options: EndpointOptionsInput = {}) {
  const a = net.add('127.0.0.1', 1111, { nick: 'alice', ...options });
  const b = net.add('127.0.0.2', 2222, { nick: 'bob', ...options });
  const sa = a.endpoint.connect(b.address, net.now);
  net.run(() => eventsOf(b, 'request').length > 0, net.now + 10_000);
  const request = eventsOf(b, 'request')[0];
  if (!request) throw new Error('no request arrived');
  b.endpoint.accept(request.session, net.now);
  net.run(() => eventsOf(a, 'accepted').length > 0, net.now + 10_000);
  return { a, b, sa, sb: request.session };
}
