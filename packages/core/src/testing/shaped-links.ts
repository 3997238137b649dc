/**
 * Simulated paths on the virtual network (issue 19): datagrams between chosen hosts travel
 * through links with a bandwidth, a one-way delay, a drop-tail buffer and seeded random loss
 * (link.ts, the congestion benchmark's model), on virtual time, so a minute at 100 Mbit/s runs in
 * seconds and the same every run. Kept apart from the network (simulated-network.ts), which only
 * asks, per datagram, when it arrives (`SimulatedNetwork.shape`). Several host pairs may share one link: a
 * bottleneck that two peers' transfers cross.
 */
import type { Address } from '../address.js';
import { Link, type LinkOptions } from './link.js';
import type { ShapeFunction } from './simulated-network.js';

/** A network that asks about each datagram's arrival (SimulatedNetwork, and the tests' networks on it). */
export interface Shapeable {
  shape: ShapeFunction | undefined;
}

/** What a route sends datagrams through: when one arrives, or undefined if it is dropped. */
export interface Admits {
  admit(now: number, bytes: number): number | undefined;
  readonly stats: { delivered: number; deliveredBytes: number };
}

interface Route {
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly link: Admits;
}

export class ShapedLinks {
  private readonly routes: Route[] = [];

  /** Datagrams from host `from` to host `to` (undefined: any host) go through `link`; the first matching route wins. */
  route<L extends Admits>(from: string | undefined, to: string | undefined, link: L): L {
    this.routes.push({ from, to, link });
    return link;
  }

  /** Makes the network ask these links about every datagram (unshaped pairs keep its conditions). */
  install(net: Shapeable): this {
    net.shape = (from, to, bytes, now) => this.arrival(from, to, bytes, now);
    return this;
  }

  arrival(from: Address, to: Address, bytes: number, now: number): number | 'drop' | undefined {
    for (const route of this.routes) {
      if (route.from !== undefined && route.from !== from.host) continue;
      if (route.to !== undefined && route.to !== to.host) continue;
      // The bytes on the wire: the UDP payload and 28 bytes of IPv4 and UDP headers.
      const at = route.link.admit(now, bytes + 28);
      if (at === undefined) return 'drop';
      route.link.stats.delivered++;
      route.link.stats.deliveredBytes += bytes;
      return at;
    }
    return undefined;
  }
}

export interface PathShape {
  /** Bottleneck rate, bits per second, each way. */
  bitsPerSecond: number;
  /** Round-trip propagation delay (ms): half each way. */
  rtt: number;
  /** Drop-tail buffer in bandwidth-delay products (default 1). */
  bufferBdp?: number;
  /** Random loss of the a → b direction (the data's), 0 to 1. */
  loss?: number;
  seed?: number;
}

/** A link as a path's direction: `bitsPerSecond`, half the `rtt`, a buffer of `bufferBdp` BDPs. */
export function pathLink(shape: PathShape, loss = 0, seed = 1): Link<never> {
  const bandwidth = shape.bitsPerSecond / 8;
  const options: LinkOptions = {
    bandwidth,
    delay: shape.rtt / 2,
    buffer: Math.max(3000, ((bandwidth * shape.rtt) / 1000) * (shape.bufferBdp ?? 1)),
    loss,
    seed,
  };
  return new Link<never>(options);
}

/** Shapes both directions between hosts `a` and `b` (a → b is `forward`, where bulk data goes). */
export function shapePath(net: Shapeable, a: string, b: string, shape: PathShape) {
  const links = new ShapedLinks();
  const seed = shape.seed ?? 1;
  const forward = links.route(a, b, pathLink(shape, shape.loss ?? 0, seed));
  const reverse = links.route(b, a, pathLink(shape, 0, seed + 1));
  links.install(net);
  return { links, forward, reverse };
}

/**
 * A relay's per-pair budget (rendezvous/server.ts: 64 KiB/s in bursts of 128 KiB, a token bucket
 * of bytes) in front of `delay` ms of path: a datagram the bucket cannot pay for is dropped, as
 * the relay drops it. `overhead` bytes are added to each (the relay packet's header and tag).
 */
export class RelayBudget implements Admits {
  readonly stats = { sent: 0, delivered: 0, deliveredBytes: 0, dropped: 0 };
  private tokens: number;
  private at = 0;

  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly delay: number,
    readonly overhead = 8,
  ) {
    this.tokens = burst;
  }

  admit(now: number, bytes: number): number | undefined {
    this.stats.sent++;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
    this.at = now;
    const cost = bytes + this.overhead;
    if (this.tokens < cost) {
      this.stats.dropped++;
      return undefined;
    }
    this.tokens -= cost;
    return now + this.delay;
  }
}
