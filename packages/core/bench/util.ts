/**
 * Helpers shared by the core benchmarks: socket pairs, statistics, and the one JSON line each
 * benchmark prints for scripts/bench.mjs. Benchmarks print figures; they assert nothing.
 */
import dgram from 'node:dgram';
import { NetchatPeer, type PeerOptions } from '../src/index.js';

export const PAYLOAD = 'x'.repeat(64);
export const PAYLOAD_BYTES = Buffer.from(PAYLOAD);

export interface Stats {
  n: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** Samples in milliseconds to a summary in microseconds. */
export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    medianUs: round(percentile(sorted, 0.5) * 1000),
    p99Us: round(percentile(sorted, 0.99) * 1000),
    meanUs: round((sum / sorted.length) * 1000),
  };
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export async function udpPair(): Promise<[dgram.Socket, dgram.Socket]> {
  const sockets = [dgram.createSocket('udp4'), dgram.createSocket('udp4')] as const;
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))));
  return [sockets[0], sockets[1]];
}

export async function netchatPair(options: Partial<PeerOptions> = {}) {
  const settings = { port: 0, host: '127.0.0.1', ...options };
  const b = await NetchatPeer.listen(settings);
  const a = await NetchatPeer.listen(settings);
  b.on('request', (e) => b.accept(e.session));
  const accepted = new Promise<number>((resolve) => a.once('accepted', (e) => resolve(e.session)));
  a.connectTo(b.address);
  return { a, b, session: await accepted };
}

export const tick = () => new Promise<void>((r) => setImmediate(r));
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The machine-readable result: one line that scripts/bench.mjs picks out of the output. */
export function report(name: string, figures: Record<string, unknown>): void {
  console.log(`@@bench ${JSON.stringify({ name, ...figures })}`);
}
