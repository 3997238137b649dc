/**
 * A UDP relay on 127.0.0.1 between two peers that drops, duplicates and delays (so reorders)
 * datagrams with a seeded generator. Peer A talks to `forA` as if it were B; B sees the relay's
 * `forB` socket as A. Traffic goes only to loopback.
 */
import dgram from 'node:dgram';
import { seededRandom } from './random.js';

export interface RelayConditions {
  loss: number;
  duplicate: number;
  /** Chance that a datagram is held back by up to `maxDelayMs`. */
  delay: number;
  maxDelayMs: number;
}

export class LossyRelay {
  private readonly forA = dgram.createSocket('udp4');
  private forB = dgram.createSocket('udp4');
  private readonly random: () => number;
  private peerA: { port: number } | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  forwarded = 0;
  dropped = 0;

  private constructor(
    private readonly bPort: number,
    private readonly conditions: RelayConditions,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  static async start(bPort: number, conditions: RelayConditions, seed = 1): Promise<LossyRelay> {
    const relay = new LossyRelay(bPort, conditions, seed);
    await Promise.all(
      [relay.forA, relay.forB].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))),
    );
    relay.forA.on('message', (data, rinfo) => {
      relay.peerA = { port: rinfo.port };
      relay.pass(relay.forB, data, relay.bPort);
    });
    relay.forB.on('message', (data) => {
      if (relay.peerA) relay.pass(relay.forA, data, relay.peerA.port);
    });
    return relay;
  }

  /**
   * A's traffic now reaches B from a new port (a NAT rebinding): the old socket is closed, so
   * whatever B still sends to the old port is lost until B learns the new one.
   */
  async switchPort(): Promise<number> {
    const old = this.forB;
    this.forB = dgram.createSocket('udp4');
    await new Promise<void>((r) => this.forB.bind(0, '127.0.0.1', r));
    this.forB.on('message', (data) => {
      if (this.peerA) this.pass(this.forA, data, this.peerA.port);
    });
    old.close();
    return this.forB.address().port;
  }

  /** The port A should send to in order to reach B. */
  get portForA(): number {
    return this.forA.address().port;
  }

  private pass(via: dgram.Socket, data: Buffer, port: number): void {
    const c = this.conditions;
    if (this.random() < c.loss) {
      this.dropped++;
      return;
    }
    const copies = this.random() < c.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.forwarded++;
      if (this.random() < c.delay) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          via.send(data, port, '127.0.0.1');
        }, this.random() * c.maxDelayMs);
        this.timers.add(timer);
      } else {
        via.send(data, port, '127.0.0.1');
      }
    }
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.forA.close();
    this.forB.close();
  }
}
