/**
 * A netchat Endpoint (sans-IO, from src) and the independent peer on one virtual clock, joined
 * by a link with a fixed one-way latency: deterministic, so the conformance tests can check
 * netchat's timing against PROTOCOL.md's numbers exactly. Nothing here sleeps. The link is the
 * one simulated network (src/testing/simulated-network.ts); the independent peer is a station on
 * it whose deadlines are its own virtual timers, moved to the network's clock at every step.
 */
import { type Address, Endpoint, type EndpointOptionsInput, type NetchatEvent } from '../../src/index.js';
import { type SansIoNode, SimulatedNetwork, type Station } from '../../src/testing/simulated-network.js';
import { decodePacket, IndependentPeer, type IndependentPeerOptions } from './index.mjs';

export const NETCHAT: Address = { host: '10.0.0.1', port: 1000 };
export const INDEPENDENT: Address = { host: '10.0.0.2', port: 2000 };

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

/** The network of the two: netchat's events are recorded as it reports them. */
class WorldNetwork extends SimulatedNetwork {
  constructor(private readonly onNetchatEvent: (event: NetchatEvent) => void) {
    super();
  }

  protected override told(_station: Station, event: unknown): void {
    this.onNetchatEvent(event as NetchatEvent);
  }
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
  private readonly net: WorldNetwork;
  /** What the independent peer sent and the network has not yet taken. */
  private readonly outbox: { to: Address; data: Uint8Array }[] = [];

  constructor(
    netchatOptions: EndpointOptionsInput = {},
    independentOptions: IndependentPeerOptions = {},
    readonly latency = 5,
  ) {
    this.netchat = new Endpoint(netchatOptions);
    this.independent = IndependentPeer.virtual(
      INDEPENDENT,
      (data) => this.outbox.push({ to: NETCHAT, data: data.slice() }),
      independentOptions,
    );
    this.independent.on('event', (e) => this.independentEvents.push({ ...e, at: this.now }));
    this.independent.on('wire_message', (w: Heard) => this.heard.push({ at: this.now, message: w.message }));
    this.net = new WorldNetwork((e) => this.netchatEvents.push({ ...e, at: this.now }));
    this.net.conditions = { latency, jitter: 0, loss: 0, duplicate: 0 };
    this.net.place({ endpoint: this.netchatNode(), address: NETCHAT });
    this.net.place({ endpoint: this.independentNode(), address: INDEPENDENT });
  }

  get now(): number {
    return this.net.now;
  }

  /** Runs something on netchat's endpoint now, then collects what it sent and told. */
  onNetchat<T>(action: (endpoint: Endpoint, now: number) => T): T {
    const result = action(this.netchat, this.now);
    this.net.collect();
    return result;
  }

  /** Advances to `until`, delivering datagrams and firing both sides' timers in time order. */
  runUntil(until: number): void {
    this.net.run(() => false, until, 1_000_000);
    // The independent peer's clock reaches `until` even when nothing was due there.
    this.independent.timers.advance(this.net.now);
  }

  /** Runs until `done` holds (checked after every step's time), at most until `limit`. */
  runUntilTrue(done: () => boolean, limit: number): void {
    while (!done() && this.now < limit) this.runUntil(Math.min(limit, this.now + 1));
  }

  /** netchat's endpoint as the network drives it: what reaches it passes `filter` first. */
  private netchatNode(): SansIoNode<unknown, NetchatEvent> {
    const netchat = this.netchat;
    return {
      handleDatagram: (data, from, now) => {
        if (this.filter(false, data, now)) netchat.handleDatagram(data, from, now);
      },
      handleTimeout: (now) => netchat.handleTimeout(now),
      nextTimeout: () => netchat.nextTimeout(),
      pollTransmit: () => {
        const t = netchat.pollTransmit();
        return t && { to: t.to, data: t.data.slice() };
      },
      pollEvent: () => netchat.pollEvent(),
    };
  }

  /** The independent peer as a station: its timers run on the network's clock; arrivals recorded before `filter`. */
  private independentNode(): SansIoNode {
    const timers = this.independent.timers;
    return {
      handleDatagram: (data, from, now) => {
        timers.advance(now);
        const packet = decodePacket(data);
        this.arrivals.push({ at: now, type: packet?.type ?? 'malformed', data });
        if (!this.filter(true, data, now)) return;
        this.independent.onDatagram(data, { address: from.host, port: from.port });
      },
      handleTimeout: (now) => timers.advance(now),
      nextTimeout: () => timers.nextAt(),
      pollTransmit: () => this.outbox.shift(),
    };
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
