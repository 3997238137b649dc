/**
 * A netchat Endpoint (sans-IO, from src) and the independent peer on one virtual clock, joined
 * by a link with a fixed one-way latency: deterministic, so the conformance tests can check
 * netchat's timing against PROTOCOL.md's numbers exactly. Nothing here sleeps.
 */
import { type Address, Endpoint, type EndpointOptionsInput, type NetchatEvent } from '../../src/index.js';
import { decodePacket, IndependentPeer, type IndependentPeerOptions } from './index.mjs';

export const NETCHAT: Address = { host: '10.0.0.1', port: 1000 };
export const INDEPENDENT: Address = { host: '10.0.0.2', port: 2000 };

interface InFlight {
  at: number;
  order: number;
  toIndependent: boolean;
  data: Uint8Array;
}

/** A packet the independent peer received: when, and its packet type (before any drop). */
export interface Arrival {
  at: number;
  type: string;
  data: Uint8Array;
}

/** A session message the independent peer read (from netchat), and when. */
export interface Heard {
  at: number;
  // biome-ignore lint/suspicious/noExplicitAny: a decoded session message
  message: { type: string; session: number; [field: string]: any };
}

export class World {
  readonly netchat: Endpoint;
  readonly independent: IndependentPeer;
  readonly netchatEvents: (NetchatEvent & { at: number })[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: the independent peer's events
  readonly independentEvents: { at: number; type: string; [field: string]: any }[] = [];
  readonly arrivals: Arrival[] = [];
  readonly heard: Heard[] = [];
  /** Return false to drop a datagram on the way (after `arrivals` recorded it, for those to the independent peer). */
  filter: (toIndependent: boolean, data: Uint8Array, at: number) => boolean = () => true;
  private queue: InFlight[] = [];
  private order = 0;

  constructor(
    netchatOptions: EndpointOptionsInput = {},
    independentOptions: IndependentPeerOptions = {},
    readonly latency = 5,
  ) {
    this.netchat = new Endpoint(netchatOptions);
    this.independent = IndependentPeer.virtual(
      INDEPENDENT,
      (data) => this.send(false, data),
      independentOptions,
    );
    this.independent.on('event', (e) => this.independentEvents.push({ ...e, at: this.now }));
    this.independent.on('wire_message', (w: Heard) => this.heard.push({ at: this.now, message: w.message }));
  }

  get now(): number {
    return this.independent.timers.now();
  }

  private send(toIndependent: boolean, data: Uint8Array): void {
    this.queue.push({ at: this.now + this.latency, order: this.order++, toIndependent, data: data.slice() });
  }

  /** Runs something on netchat's endpoint now, then collects what it sent and told. */
  onNetchat<T>(action: (endpoint: Endpoint, now: number) => T): T {
    const result = action(this.netchat, this.now);
    this.drainNetchat();
    return result;
  }

  private drainNetchat(): void {
    for (let t = this.netchat.pollTransmit(); t; t = this.netchat.pollTransmit()) this.send(true, t.data);
    for (let e = this.netchat.pollEvent(); e; e = this.netchat.pollEvent())
      this.netchatEvents.push({ ...e, at: this.now });
  }

  /** Advances to `until`, delivering datagrams and firing both sides' timers in time order. */
  runUntil(until: number): void {
    for (let steps = 0; steps < 1_000_000; steps++) {
      const datagram = this.queue.reduce<InFlight | undefined>(
        (a, b) => (!a || b.at < a.at || (b.at === a.at && b.order < a.order) ? b : a),
        undefined,
      );
      const netchatAt = this.netchat.nextTimeout();
      const independentAt = this.independent.timers.nextAt();
      const next = Math.min(datagram?.at ?? Infinity, netchatAt ?? Infinity, independentAt ?? Infinity);
      if (next > until || next === Infinity) {
        this.independent.timers.advance(until);
        return;
      }
      if (datagram && datagram.at === next) {
        this.queue.splice(this.queue.indexOf(datagram), 1);
        this.independent.timers.advance(next);
        this.deliver(datagram);
      } else if (netchatAt !== undefined && netchatAt === next) {
        this.independent.timers.advance(next);
        this.onNetchat((endpoint, now) => endpoint.handleTimeout(now));
      } else {
        this.independent.timers.advance(next);
      }
    }
    throw new Error('the world did not settle in a million steps');
  }

  /** Runs until `done` holds (checked after every step's time), at most until `limit`. */
  runUntilTrue(done: () => boolean, limit: number): void {
    while (!done() && this.now < limit) this.runUntil(Math.min(limit, this.now + 1));
  }

  private deliver(datagram: InFlight): void {
    if (datagram.toIndependent) {
      const packet = decodePacket(datagram.data);
      this.arrivals.push({ at: this.now, type: packet?.type ?? 'malformed', data: datagram.data });
      if (!this.filter(true, datagram.data, this.now)) return;
      this.independent.onDatagram(datagram.data, { address: NETCHAT.host, port: NETCHAT.port });
      return;
    }
    if (!this.filter(false, datagram.data, this.now)) return;
    this.onNetchat((endpoint, now) => endpoint.handleDatagram(datagram.data, INDEPENDENT, now));
  }

  /** netchat's events of a type. */
  netchatOf(type: string): (NetchatEvent & { at: number })[] {
    return this.netchatEvents.filter((e) => e.type === type);
  }

  /** Session messages of a type the independent peer read from netchat. */
  heardOf(type: string): Heard[] {
    return this.heard.filter((h) => h.message.type === type);
  }

  independentOf(type: string) {
    return this.independentEvents.filter((e) => e.type === type);
  }
}
