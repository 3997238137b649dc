/**
 * Stream helpers for the interop tests: open a session that takes streams between a netchat peer
 * and the independent peer on loopback, write on netchat's side pull-driven, read what one side
 * receives, and compare. Waits are for conditions, bounded.
 */
import { expect } from 'vitest';
import type { NetchatEvent, NetchatPeer, PeerOptions } from '../../src/index.js';
import type { Stage } from './harness.js';
import type { IndependentPeer, IndependentPeerOptions } from './index.mjs';
import { NETCHAT, type World } from './world.js';

export const CHUNK = 65_536;

/** Both take streams; the independent peer asks, netchat accepts; both learned the other's features. */
export async function openBoth(
  stage: Stage,
  netchatOptions: Partial<PeerOptions> = {},
  independentOptions: IndependentPeerOptions = {},
): Promise<{ n: NetchatPeer; p: IndependentPeer; ps: number; ns: number }> {
  const r = stage.recorder;
  const n = await stage.netchat('N', { streams: true, ...netchatOptions });
  const p = await stage.independent('P', { streams: true, ...independentOptions });
  n.on('request', (e) => n.accept(e.session));
  const ps = p.connect('127.0.0.1', n.address.port);
  await r.waitFor('P', 'features', (e) => e.session === ps && e.streams === true);
  const request = await r.waitFor('N', 'request');
  const ns = request.session as number;
  const features = await r.waitFor('N', 'features', (e) => e.session === ns);
  expect(features.features.streams).toBe(true);
  return { n, p, ps, ns };
}

/** netchat writes `data` on a new stream, pull-driven, and finishes it. */
export function netchatWrites(n: NetchatPeer, ns: number, data: Uint8Array): number {
  const stream = n.openStream(ns);
  let sent = 0;
  const more = () => {
    while (sent < data.length) {
      const took = n.writeStream(ns, stream, data.subarray(sent, sent + CHUNK));
      sent += took;
      if (took === 0) return;
    }
    n.finishStream(ns, stream);
  };
  n.on('stream_writable', (w) => {
    if (w.session === ns && w.stream === stream && sent < data.length) more();
  });
  more();
  return stream;
}

/** Collects what one side reads of a stream, reading on every `stream_readable`. */
export function reader(read: (max: number) => Uint8Array): {
  chunks: Uint8Array[];
  bytes: () => number;
  drain: () => void;
} {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const drain = () => {
    for (let i = 0; i < 10_000; i++) {
      const b = read(CHUNK);
      if (b.length === 0) return;
      chunks.push(b.slice());
      total += b.length;
    }
  };
  return { chunks, bytes: () => total, drain };
}

export function expectSame(chunks: Uint8Array[], data: Uint8Array): void {
  const got = Buffer.concat(chunks);
  expect(got.length).toBe(data.length);
  expect(got.equals(Buffer.from(data))).toBe(true);
}

export function expectClean(n: NetchatPeer, p: IndependentPeer, ps: number): void {
  expect(p.errors).toEqual([]);
  expect(p.stats.malformedMessages).toBe(0);
  expect(p.stats.streamAcksRefused).toBe(0);
  expect(p.session(ps)?.stats.protocolErrors ?? 0).toBe(0);
  expect(p.secure.stats.forged).toBe(0);
  expect(n.stats.malformed).toBe(0);
  expect(n.stats.protocolErrors).toBe(0);
}

/** On the virtual clock: the independent peer asks, netchat accepts; both take streams. */
export function openInWorld(w: World): { ps: number; ns: number } {
  const ps = w.independent.connect(NETCHAT.host, NETCHAT.port);
  w.runUntilTrue(() => w.netchatOf('request').length > 0, 5_000);
  const ns = (w.netchatOf('request')[0] as NetchatEvent).session;
  w.onNetchat((end, now) => end.accept(ns, now));
  w.runUntilTrue(() => w.independentOf('features').some((e) => e.streams === true), w.now + 5_000);
  expect(w.independentOf('features').some((e) => e.streams === true)).toBe(true);
  return { ps, ns };
}

/**
 * On the virtual clock: each side writes one stream to the other at once (netchat pull-driven),
 * both read as bytes come; runs until all four ends finished, at most `limitMs` of virtual time.
 * `step` runs at each check (a test that changes the network part way).
 */
export function bothWaysInWorld(
  w: World,
  { ps, ns }: { ps: number; ns: number },
  toP: Uint8Array,
  toN: Uint8Array,
  limitMs: number,
  step: (read: { byP: number; byN: number }) => void = () => undefined,
): void {
  const pStream = w.independent.openStream(ps);
  w.independent.writeStream(ps, pStream, toN);
  w.independent.finishStream(ps, pStream);
  const nStream = w.onNetchat((end, now) => end.openStream(ns, now));
  let nSent = 0;
  const nMore = () =>
    w.onNetchat((end, now) => {
      while (nSent < toP.length) {
        const took = end.writeStream(ns, nStream, toP.subarray(nSent, nSent + CHUNK), now);
        nSent += took;
        if (took === 0) return;
      }
      end.finishStream(ns, nStream, now);
    });
  nMore();
  const pRead = reader((max) => w.independent.readStream(ps, nStream, max));
  const nRead = reader((max) => w.onNetchat((end, now) => end.readStream(ns, pStream, max, now)));
  let seenEvents = 0;
  const finished = (who: 'N' | 'P', stream: number, direction: string) => {
    const events = (
      who === 'N' ? w.netchatOf('stream_finished') : w.independentOf('stream_finished')
    ) as unknown[];
    return (events as { stream: number; direction: string }[]).some(
      (e) => e.stream === stream && e.direction === direction,
    );
  };
  const done = () => {
    for (; seenEvents < w.netchatEvents.length; seenEvents++) {
      const e = w.netchatEvents[seenEvents] as { type: string; stream?: number };
      if (e.type === 'stream_writable' && e.stream === nStream && nSent < toP.length) nMore();
    }
    pRead.drain();
    // netchat's readStream throws for a stream it has not opened yet, or that is over.
    const nOpened = w.netchatOf('stream_opened').some((e) => (e as { stream: number }).stream === pStream);
    if (nOpened && !finished('N', pStream, 'receive')) nRead.drain();
    step({ byP: pRead.bytes(), byN: nRead.bytes() });
    return (
      finished('N', nStream, 'send') &&
      finished('P', nStream, 'receive') &&
      finished('P', pStream, 'send') &&
      finished('N', pStream, 'receive')
    );
  };
  w.runUntilTrue(done, w.now + limitMs);
  expect(done()).toBe(true);
  expectSame(pRead.chunks, toP);
  expectSame(nRead.chunks, toN);
}

/** Whether a stream_ack netchat sent (as the independent peer heard it) names packet `n`. */
export function acked(w: World, n: number): boolean {
  return w.heardOf('stream_ack').some(({ message: m }) => {
    let lo = m.largest - m.firstRange;
    if (n >= lo && n <= m.largest) return true;
    const view = new DataView(m.ranges.buffer, m.ranges.byteOffset, m.ranges.byteLength);
    for (let at = 0; at < m.ranges.length; at += 8) {
      const top = lo - view.getUint32(at) - 2;
      lo = top - view.getUint32(at + 4);
      if (n >= lo && n <= top) return true;
    }
    return false;
  });
}
