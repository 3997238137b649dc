/**
 * SecureTransports on virtual time, joined by a seeded lossy network: the secure layer tested
 * on its own, without sessions. `run` advances the clock from one datagram or deadline to the
 * next; every loop is bounded.
 */
import { type Address, formatAddress, keyPairFromSecret } from '../../src/index.js';
import type { Channel } from '../../src/secure/channel.js';
import {
  DEFAULT_SECURE_OPTIONS,
  type SecureOptions,
  SecureTransport,
} from '../../src/secure/secure-transport.js';
import { seededBytes, seededRandom } from './random.js';

export interface SecureNode {
  transport: SecureTransport;
  address: Address;
  opened: { channel: Channel; at: number }[];
  messages: { channel: Channel; plaintext: Uint8Array; at: number }[];
  sent: { to: Address; bytes: Uint8Array; at: number }[];
}

interface InFlight {
  at: number;
  order: number;
  from: Address;
  to: Address;
  bytes: Uint8Array;
}

export class SecureNet {
  now = 0;
  /** Chance each datagram is lost, each way. */
  loss = 0;
  /** One-way delay (ms). */
  latency = 5;
  /** Return false to drop a datagram. */
  filter: (from: Address, to: Address, bytes: Uint8Array) => boolean = () => true;
  private readonly nodes = new Map<string, SecureNode>();
  private inFlight: InFlight[] = [];
  private order = 0;
  private readonly random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  add(host: string, port: number, options: Partial<SecureOptions> = {}, seed = port): SecureNode {
    const address = { host, port };
    const bytes = seededBytes(seed);
    const node: SecureNode = { address, opened: [], messages: [], sent: [] } as unknown as SecureNode;
    node.transport = new SecureTransport(
      keyPairFromSecret(bytes(32)),
      {
        transmit: (to, data) => {
          node.sent.push({ to, bytes: data, at: this.now });
          this.launch(address, to, data);
        },
        opened: (channel, at) => node.opened.push({ channel, at }),
        message: (channel, plaintext, at) => node.messages.push({ channel, plaintext, at }),
      },
      { ...DEFAULT_SECURE_OPTIONS, ...options },
      bytes,
    );
    this.nodes.set(formatAddress(address), node);
    return node;
  }

  /** Delivers a datagram from anywhere (a spoofer, a flood) to a node now. */
  inject(to: SecureNode, from: Address, bytes: Uint8Array): void {
    to.transport.receive(bytes, from, this.now);
  }

  private launch(from: Address, to: Address, bytes: Uint8Array): void {
    if (!this.filter(from, to, bytes) || this.random() < this.loss) return;
    this.inFlight.push({ at: this.now + this.latency, order: this.order++, from, to, bytes });
  }

  private nextTime(): number | undefined {
    let next: number | undefined;
    for (const d of this.inFlight) if (next === undefined || d.at < next) next = d.at;
    for (const node of this.nodes.values()) {
      const at = node.transport.nextTimeout();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /** Runs until `until` holds, the clock passes `maxTime`, or nothing is left to happen. */
  run(until: () => boolean, maxTime: number, maxSteps = 1_000_000): boolean {
    for (let step = 0; step < maxSteps; step++) {
      if (until()) return true;
      const next = this.nextTime();
      if (next === undefined || next > maxTime) {
        this.now = Math.max(this.now, maxTime);
        return until();
      }
      this.now = Math.max(this.now, next);
      const due = this.inFlight
        .filter((d) => d.at <= this.now)
        .sort((a, b) => a.at - b.at || a.order - b.order);
      this.inFlight = this.inFlight.filter((d) => d.at > this.now);
      for (const d of due) this.nodes.get(formatAddress(d.to))?.transport.receive(d.bytes, d.from, this.now);
      for (const node of this.nodes.values()) node.transport.handleTimeout(this.now);
    }
    throw new Error(`network still busy after ${maxSteps} steps`);
  }

  runFor(ms: number): void {
    this.run(() => false, this.now + ms);
  }
}

/** The packet type byte of a datagram (1 init … 5 data). */
export const packetType = (bytes: Uint8Array): number => bytes[3] ?? 0;
