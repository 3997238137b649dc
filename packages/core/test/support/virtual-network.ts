/**
 * Endpoints on virtual time, joined by a virtual network with latency, loss, duplication and
 * reordering. `run` advances the clock from one datagram or deadline to the next: no test sleeps.
 */
import {
  type Address,
  type Datagram,
  Endpoint,
  type EndpointDependencies,
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
  /** Datagrams on their way: a min-heap by (arrival, order), so equal times keep their sending order. */
  private readonly inFlight: InFlight[] = [];
  private order = 0;
  private readonly random: () => number;
  conditions: LinkConditions = { latency: 5, jitter: 0, loss: 0, duplicate: 0 };
  /** Return false to drop a datagram (for partitions and targeted loss); `message` is what it seals. */
  filter: (from: Address, to: Address, data: Uint8Array, message?: Datagram) => boolean = () => true;
  /**
   * Address translation on the way (NAT routers, see nat.ts): the addresses a datagram travels
   * with after it, or undefined to drop it. None by default.
   */
  translate: ((from: Address, to: Address) => { from: Address; to: Address } | undefined) | undefined;
  /** Called with each event as it is collected: a test's application reacting at once (reading a stream). */
  onEvent: ((node: Node<NodeEndpoint>, event: NetchatEvent) => void) | undefined;
  /**
   * Simulated paths (shaped-links.ts): when a datagram from → to arrives, 'drop', or undefined
   * if the pair is not shaped (then `conditions` apply).
   */
  shape: ((from: Address, to: Address, bytes: number, now: number) => number | 'drop' | undefined) | undefined;
  /** Keep every datagram in `Node.sent`, and every event in `Node.events` (a benchmark moving gigabytes turns them off). */
  recordSent = true;
  recordEvents = true;


  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  add(
    host: string,
    port: number,
    options: EndpointOptionsInput = {},
    seed = port,
    dependencies: EndpointDependencies = {},
  ): Node {
    const address = { host, port };
    const node: Node = {
      endpoint: new Endpoint(options, {
        randomU32: seededU32(seed),
        randomBytes: seededBytes(seed),
        describeStreamPackets: true,
        ...dependencies,
      }),
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
        describeStreamPackets: true,
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

  /**
   * Moves what every endpoint wants to send onto the wire and records its events, until none has
   * anything left (an `onEvent` handler may make an endpoint send more).
   */
  collect(): void {
    for (let progressed = true; progressed; ) {
      progressed = false;
      for (const node of this.nodes.values()) {
        for (let t = node.endpoint.pollTransmit(); t; t = node.endpoint.pollTransmit()) {
          progressed = true;
          if (this.recordSent)
            node.sent.push({
              at: this.now,
              to: t.to,
              data: t.data,
              ...(t.message ? { message: t.message } : {}),
            });
          this.launch(this.apparent.get(node) ?? node.address, t.to, t.data, t.message);
        }
        for (let e = node.endpoint.pollEvent(); e; e = node.endpoint.pollEvent()) {
          progressed = true;
          if (this.recordEvents) node.events.push({ ...e, at: this.now });
          this.onEvent?.(node, e);
        }
      }
    }
  }

  private launch(sender: Address, receiver: Address, data: Uint8Array, message?: Datagram): void {
    const routed = this.translate ? this.translate(sender, receiver) : { from: sender, to: receiver };
    if (!routed) return;
    const { from, to } = routed;
    if (!this.filter(from, to, data, message)) return;
    const shaped = this.shape?.(from, to, data.length, this.now);
    if (shaped === 'drop') return;
    if (shaped !== undefined) {
      this.enqueue({ at: shaped, order: this.order++, from, to, data });
      return;
    }
    const c = this.conditions;
    if (this.random() < c.loss) return;
    const copies = this.random() < c.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const at = this.now + c.latency + this.random() * c.jitter;
      this.enqueue({ at, order: this.order++, from, to, data });
    }
  }

  private enqueue(d: InFlight): void {
    const heap = this.inFlight;
    let i = heap.length;
    heap.push(d);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(d, heap[parent] as InFlight)) break;
      heap[i] = heap[parent] as InFlight;
      i = parent;
    }
    heap[i] = d;
  }

  /** Takes the earliest datagram off the heap. */
  private dequeue(): InFlight | undefined {
    const heap = this.inFlight;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && earlier(heap[right] as InFlight, heap[left] as InFlight) ? right : left;
      if (!earlier(heap[child] as InFlight, last)) break;
      heap[i] = heap[child] as InFlight;
      i = child;
    }
    heap[i] = last;
    return top;
  }

  /** The time of the next thing to happen, or undefined when nothing ever will. */
  private nextTime(): number | undefined {
    let next: number | undefined = this.inFlight[0]?.at;
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
      // Every datagram due now, in order, taken off before any is delivered (as before the heap).
      const due: InFlight[] = [];
      while (this.inFlight.length > 0 && (this.inFlight[0] as InFlight).at <= this.now)
        due.push(this.dequeue() as InFlight);
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

function earlier(a: InFlight, b: InFlight): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
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
