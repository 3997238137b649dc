/**
 * One network on virtual time for every test of a sans-IO node: anything with `handleDatagram`,
 * `handleTimeout`, `nextTimeout` and `pollTransmit` (an Endpoint, a SecureTransport behind a
 * queue, a test's raw peer). `run` moves the clock from one datagram or deadline to the next,
 * as quinn's test `Pair::drive` does: a 75-second heartbeat loss takes microseconds, no test
 * sleeps, and loss, duplication and reordering come from a seeded generator, the same every run.
 *
 * On the way a datagram may be dropped (`filter`: partitions, targeted loss), translated (NAT
 * routers), sent through a shaped link (shaped-links.ts: bandwidth, delay, a buffer) or, by
 * default, given `conditions` (latency, jitter, loss, duplication). Programs' timers
 * (`timers`: what they would do with setTimeout) run between datagrams on the same clock.
 *
 * The tests' networks are thin layers on this one: core's (test/support/virtual-network.ts:
 * Endpoints, with every datagram and event recorded), the secure layer's
 * (test/support/secure-net.ts) and @netchat/testkit's (endpoints behind the client's PeerPort).
 */
import { type Address, formatAddress } from '../address.js';
import { seededRandom } from './seeded-random.js';
import { VirtualTimers } from './virtual-timers.js';

/** What the network drives: a sans-IO node. `M` is what a packet may say it carries, `E` its events. */
export interface SansIoNode<M = unknown, E = unknown> {
  handleDatagram(bytes: Uint8Array, from: Address, now: number): void;
  handleTimeout(now: number): void;
  nextTimeout(): number | undefined;
  pollTransmit(): { to: Address; data: Uint8Array; message?: M } | undefined;
  pollEvent?(): E | undefined;
}

/** A node at an address. A frozen one (a stopped program) neither reads nor sends, and its timers wait. */
export interface Station<N extends SansIoNode = SansIoNode> {
  readonly endpoint: N;
  readonly address: Address;
  frozen?: boolean;
}

export type MessageOf<S extends Station> = S['endpoint'] extends SansIoNode<infer M> ? M : never;
export type EventOf<S extends Station> = S['endpoint'] extends SansIoNode<unknown, infer E> ? E : never;

/** What a datagram meets on an unshaped pair. */
export interface LinkConditions {
  /** One-way delay in ms. */
  latency: number;
  /** Extra random delay up to this many ms (reorders datagrams). */
  jitter: number;
  loss: number;
  duplicate: number;
}

/** When a datagram from → to of `bytes` sent at `now` arrives; 'drop'; or undefined: not shaped. */
export type ShapeFunction = (
  from: Address,
  to: Address,
  bytes: number,
  now: number,
) => number | 'drop' | undefined;

interface InFlight {
  at: number;
  order: number;
  from: Address;
  to: Address;
  data: Uint8Array;
}

export class SimulatedNetwork<S extends Station = Station> {
  now = 0;
  conditions: LinkConditions = { latency: 5, jitter: 0, loss: 0, duplicate: 0 };
  /** Return false to drop a datagram (partitions, targeted loss); `message` is what it says it seals. */
  filter: (from: Address, to: Address, data: Uint8Array, message?: MessageOf<S>) => boolean = () => true;
  /**
   * Address translation on the way (NAT routers): the addresses a datagram travels with after
   * it, or undefined to drop it. None by default.
   */
  translate: ((from: Address, to: Address) => { from: Address; to: Address } | undefined) | undefined;
  /** Simulated paths (shaped-links.ts): asked when each datagram arrives; unshaped pairs keep `conditions`. */
  shape: ShapeFunction | undefined;
  /** Programs' timers on this network's clock, run between datagrams. */
  readonly timers = new VirtualTimers(() => this.now);
  /** Every station by the address it is reached at (a rebound one by its new address too). */
  protected readonly stations = new Map<string, S>();
  /** NAT rebinding: the address a station's datagrams now appear from (and are answered at). */
  private readonly apparent = new Map<S, Address>();
  /** Datagrams on their way: a min-heap by (arrival, order), so equal times keep their sending order. */
  private readonly inFlight: InFlight[] = [];
  private order = 0;
  private readonly random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  /** One-way delay (ms) on unshaped pairs: `conditions.latency`. */
  get latency(): number {
    return this.conditions.latency;
  }
  set latency(ms: number) {
    this.conditions.latency = ms;
  }

  /** Chance each datagram on an unshaped pair is lost, 0 to 1: `conditions.loss`. */
  get loss(): number {
    return this.conditions.loss;
  }
  set loss(loss: number) {
    this.conditions.loss = loss;
  }

  /** Puts a station on the network at its address (replacing whatever was there). */
  place<T extends S>(station: T): T {
    this.stations.set(formatAddress(station.address), station);
    return station;
  }

  /** Takes whatever is at `address` off the network (datagrams to it are lost from now on). */
  unplace(address: Address): void {
    this.stations.delete(formatAddress(address));
  }

  /**
   * From now on the station's datagrams come from `port` on its host, as after a NAT rebinding,
   * or from `host` too, as after a move to another network.
   */
  rebind(station: S, port: number, host = station.address.host): Address {
    const address = { host, port };
    this.apparent.set(station, address);
    this.stations.set(formatAddress(address), station);
    return address;
  }

  /** Delivers a datagram from outside (a spoofer, a fuzzer) to a station now. */
  inject(to: S, from: Address, data: Uint8Array): void {
    to.endpoint.handleDatagram(data, from, this.now);
    this.collect();
  }

  /**
   * Moves what every station wants to send onto the wire and takes its events, until none has
   * anything left (whoever is told of an event may make a station send more).
   */
  collect(): void {
    for (let progressed = true; progressed; ) {
      progressed = false;
      for (const station of this.stations.values()) {
        if (station.frozen) continue;
        const node = station.endpoint;
        for (let t = node.pollTransmit(); t; t = node.pollTransmit()) {
          progressed = true;
          this.sent(station, t as { to: Address; data: Uint8Array; message?: MessageOf<S> });
          this.launch(this.apparent.get(station) ?? station.address, t.to, t.data, t.message as MessageOf<S>);
        }
        if (!node.pollEvent) continue;
        for (let e = node.pollEvent(); e !== undefined; e = node.pollEvent()) {
          progressed = true;
          this.told(station, e as EventOf<S>);
        }
      }
    }
  }

  /**
   * Runs until `until` returns true, the clock passes `maxTime`, or nothing is left to happen.
   * Bounded by `maxSteps` as well. Returns whether `until` became true.
   */
  run(until: () => boolean = () => false, maxTime = this.now + 600_000, maxSteps = 2_000_000): boolean {
    return this.runTo(until, maxTime, maxSteps);
  }

  /** Advances the clock by `ms`, processing everything due on the way. */
  runFor(ms: number): void {
    this.runTo(() => false, this.now + ms, 2_000_000);
  }

  /** A datagram a station sent, as it leaves (before any loss): for a layer that records them. */
  protected sent(_station: S, _transmit: { to: Address; data: Uint8Array; message?: MessageOf<S> }): void {}

  /** An event a station reported: for a layer that records them or hands them to listeners. */
  protected told(_station: S, _event: EventOf<S>): void {}

  private runTo(until: () => boolean, maxTime: number, maxSteps: number): boolean {
    this.collect();
    for (let step = 0; step < maxSteps; step++) {
      if (until()) return true;
      const next = this.nextTime();
      if (next === undefined || next > maxTime) {
        this.now = Math.max(this.now, maxTime === Number.POSITIVE_INFINITY ? this.now : maxTime);
        return until();
      }
      this.now = Math.max(this.now, next);
      // Every datagram due now, in order, taken off before any is delivered.
      const due: InFlight[] = [];
      while (this.inFlight.length > 0 && (this.inFlight[0] as InFlight).at <= this.now)
        due.push(this.dequeue() as InFlight);
      for (const d of due) {
        const to = this.stations.get(formatAddress(d.to));
        // A frozen program reads nothing: what reaches it meanwhile is lost, as in a full socket buffer.
        if (to && !to.frozen) to.endpoint.handleDatagram(d.data, d.from, this.now);
      }
      for (const station of this.stations.values())
        if (!station.frozen) station.endpoint.handleTimeout(this.now);
      this.collect();
      if (this.timers.fire() > 0) this.collect();
    }
    throw new Error(`network still busy after ${maxSteps} steps`);
  }

  private launch(sender: Address, receiver: Address, data: Uint8Array, message?: MessageOf<S>): void {
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
    // Only the conditions in use draw from the generator: loss alone is one draw a datagram.
    const c = this.conditions;
    if (c.loss > 0 && this.random() < c.loss) return;
    const copies = c.duplicate > 0 && this.random() < c.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const at = this.now + c.latency + (c.jitter > 0 ? this.random() * c.jitter : 0);
      this.enqueue({ at, order: this.order++, from, to, data });
    }
  }

  /** The time of the next thing to happen, or undefined when nothing ever will. */
  private nextTime(): number | undefined {
    let next: number | undefined = this.inFlight[0]?.at;
    for (const station of this.stations.values()) {
      if (station.frozen) continue;
      const at = station.endpoint.nextTimeout();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    const timer = this.timers.next();
    if (timer !== undefined && (next === undefined || timer < next)) next = timer;
    return next;
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
      const child =
        right < heap.length && earlier(heap[right] as InFlight, heap[left] as InFlight) ? right : left;
      if (!earlier(heap[child] as InFlight, last)) break;
      heap[i] = heap[child] as InFlight;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function earlier(a: InFlight, b: InFlight): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
