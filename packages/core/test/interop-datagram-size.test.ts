/**
 * Interop, datagram size (PROTOCOL.md *Datagram size*): the independent peer offers
 * `large_datagrams`, answers netchat's `pmtu_probe`s, probes itself, sends large packets once one
 * is acknowledged and falls back where they stop getting through. On loopback against a real
 * NetchatPeer (every datagram's size seen at the independent peer's socket, both ways), and on a
 * virtual clock against netchat's Endpoint over paths that carry at most 1200 or 1400 bytes, or
 * stop carrying large packets part way. Bounded waits; every peer closed at the end.
 */
import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Stage } from './interop/harness.js';
import {
  acked,
  bothWaysInWorld,
  expectClean,
  expectSame,
  netchatWrites,
  openBoth,
  openInWorld,
  reader,
} from './interop/stream-helpers.js';
import { INDEPENDENT, World } from './interop/world.js';

const THREE_MIB = 3 * 1024 * 1024;
const LARGE = 1452;
const BASE = 1200;

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

/** Sizes of the `data` packets (type 5) seen, by size. */
function sizeCounter() {
  const sizes = new Map<number, number>();
  return {
    sizes,
    count: (data: Uint8Array) => {
      if (data[3] === 5) sizes.set(data.length, (sizes.get(data.length) ?? 0) + 1);
      return true;
    },
    largest: () => Math.max(0, ...sizes.keys()),
    over: (limit: number) => [...sizes].filter(([size]) => size > limit).reduce((a, [, n]) => a + n, 0),
  };
}

describe('interop, datagram size: on loopback against a NetchatPeer', () => {
  it('3 MiB each way at once in 1452-byte packets once probes are answered; nothing larger', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const fromN = sizeCounter();
    const fromP = sizeCounter();
    const { n, p, ps, ns } = await openBoth(
      stage,
      {}, // netchat takes and sends large packets by default
      {
        largeDatagrams: true,
        inbound: (_from, data) => fromN.count(data),
        outbound: (_to, data) => fromP.count(data),
      },
    );
    const probesHeard: number[] = [];
    p.on('wire_message', (w: { message: { type: string; padding?: Uint8Array } }) => {
      if (w.message.type === 'pmtu_probe') probesHeard.push(w.message.padding?.length ?? -1);
    });
    const toP = crypto.randomBytes(THREE_MIB);
    const toN = crypto.randomBytes(THREE_MIB);
    let pRead: ReturnType<typeof reader> | undefined;
    let nRead: ReturnType<typeof reader> | undefined;
    p.on('stream_opened', (e) => {
      if (e.session === ps) pRead = reader((max) => p.readStream(ps, e.stream, max));
    });
    p.on('stream_readable', (e) => e.session === ps && pRead?.drain());
    n.on('stream_opened', (e) => {
      if (e.session === ns) nRead = reader((max) => n.readStream(ns, e.stream, max));
    });
    n.on('stream_readable', (e) => e.session === ns && nRead?.drain());
    const nStream = netchatWrites(n, ns, toP);
    const pStream = p.openStream(ps);
    p.writeStream(ps, pStream, toN);
    p.finishStream(ps, pStream);
    await r.waitFor('P', 'stream_finished', (e) => e.stream === nStream && e.direction === 'receive', 60_000);
    await r.waitFor('N', 'stream_finished', (e) => e.stream === pStream && e.direction === 'receive', 60_000);
    await r.waitFor('P', 'stream_finished', (e) => e.stream === pStream && e.direction === 'send', 10_000);
    expectSame(pRead?.chunks ?? [], toP);
    expectSame(nRead?.chunks ?? [], toN);

    // netchat probed (a 1452-byte probe has 1404 bytes of padding) and sent large packets.
    expect(probesHeard).toContain(LARGE - 48);
    expect(fromN.largest()).toBe(LARGE);
    expect(fromN.over(BASE)).toBeGreaterThan(THREE_MIB / 1391 / 2);
    // The independent peer's search confirmed 1452 and its data went in packets of that size.
    const path = p.session(ps)?.streams.path;
    expect(path.size.size).toBe(LARGE);
    expect(path.size.stats.probesAcked).toBeGreaterThanOrEqual(1);
    expect(fromP.largest()).toBe(LARGE);
    expect(fromP.over(BASE)).toBeGreaterThan(THREE_MIB / 1391 / 2);
    expect(n.endpoint.pathInfo(p.address)?.datagramSize).toBe(LARGE);
    expectClean(n, p, ps);
  }, 120_000);

  it('a netchat with largeDatagrams off gets no large packet and no probe from the independent peer', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const fromP = sizeCounter();
    const fromN = sizeCounter();
    const { n, p, ps, ns } = await openBoth(
      stage,
      { largeDatagrams: false },
      {
        largeDatagrams: true,
        inbound: (_from, data) => fromN.count(data),
        outbound: (_to, data) => fromP.count(data),
      },
    );
    const data = crypto.randomBytes(512 * 1024);
    let nRead: ReturnType<typeof reader> | undefined;
    n.on('stream_opened', (e) => {
      if (e.session === ns) nRead = reader((max) => n.readStream(ns, e.stream, max));
    });
    n.on('stream_readable', (e) => e.session === ns && nRead?.drain());
    const stream = p.openStream(ps);
    p.writeStream(ps, stream, data);
    p.finishStream(ps, stream);
    await r.waitFor('N', 'stream_finished', (e) => e.stream === stream && e.direction === 'receive', 60_000);
    expectSame(nRead?.chunks ?? [], data);
    expect(fromP.largest()).toBe(BASE);
    expect(p.session(ps)?.streams.path.size.stats.probesSent).toBe(0);
    expect(fromN.largest()).toBeLessThanOrEqual(BASE);
    expectClean(n, p, ps);
  }, 60_000);
});

describe('interop, datagram size: on a virtual clock', () => {
  /** A world whose path drops every datagram over `limit()` bytes, both ways. */
  function world(limit: () => number) {
    const w = new World({ streams: true, nick: 'N' }, { streams: true, largeDatagrams: true, nick: 'P' }, 10);
    w.filter = (_toIndependent, data) => data.length <= limit();
    return w;
  }

  function expectWorldClean(w: World, ps: number): void {
    expect(w.independent.errors).toEqual([]);
    expect(w.independent.stats.malformedMessages).toBe(0);
    expect(w.independent.session(ps)?.stats.protocolErrors).toBe(0);
    expect(w.netchat.stats.protocolErrors).toBe(0);
  }

  it('a path that drops everything over 1200 bytes: both searches fail, both stay at 1200, 3 MiB each way arrive whole', () => {
    const w = world(() => BASE);
    const opened = openInWorld(w);
    bothWaysInWorld(w, opened, crypto.randomBytes(THREE_MIB), crypto.randomBytes(THREE_MIB), 600_000);
    const size = w.independent.session(opened.ps)?.streams.path.size;
    expect(size.size).toBe(BASE);
    expect(size.searching).toBe(false);
    // 1452, 1326, 1263 and 1231 each failed three times; 1215 is fewer than 16 above 1200.
    expect(size.stats.probesLost).toBe(12);
    expect(size.stats.probesAcked).toBe(0);
    expect(w.netchat.pathInfo(INDEPENDENT)?.datagramSize).toBe(BASE);
    expectWorldClean(w, opened.ps);
  }, 120_000);

  it('a path that carries at most 1400 bytes: both searches end between 1385 and 1400', () => {
    const w = world(() => 1400);
    const opened = openInWorld(w);
    bothWaysInWorld(w, opened, crypto.randomBytes(THREE_MIB), crypto.randomBytes(THREE_MIB), 600_000);
    const size = w.independent.session(opened.ps)?.streams.path.size;
    expect(size.searching).toBe(false);
    expect(size.size).toBeGreaterThan(1400 - 16);
    expect(size.size).toBeLessThanOrEqual(1400);
    const netchatSize = w.netchat.pathInfo(INDEPENDENT)?.datagramSize ?? 0;
    expect(netchatSize).toBeGreaterThan(1400 - 16);
    expect(netchatSize).toBeLessThanOrEqual(1400);
    expectWorldClean(w, opened.ps);
  }, 120_000);

  it('large packets stop getting through part way (a black hole): both fall back to 1200, nothing lost', () => {
    let limit = LARGE;
    const w = world(() => limit);
    const opened = openInWorld(w);
    let largeBefore = 0;
    bothWaysInWorld(
      w,
      opened,
      crypto.randomBytes(THREE_MIB),
      crypto.randomBytes(THREE_MIB),
      600_000,
      (read) => {
        if (limit === LARGE && read.byP >= 1024 * 1024 && read.byN >= 1024 * 1024) {
          largeBefore = w.independent.session(opened.ps)?.streams.path.size.size;
          limit = BASE;
        }
      },
    );
    expect(limit).toBe(BASE); // the path changed part way
    expect(largeBefore).toBe(LARGE);
    const size = w.independent.session(opened.ps)?.streams.path.size;
    expect(size.stats.blackHoles).toBeGreaterThanOrEqual(1);
    expect(size.size).toBe(BASE);
    expect(w.netchat.pathInfo(INDEPENDENT)?.datagramSize).toBe(BASE);
    expectWorldClean(w, opened.ps);
  }, 120_000);

  it('a netchat that did not say large_datagrams: a pmtu_probe is a protocol error, never acknowledged; a large stream_data is dropped', () => {
    const w = new World(
      { streams: true, largeDatagrams: false, nick: 'N' },
      { streams: true, largeDatagrams: true, nick: 'P' },
      5,
    );
    const { ps } = openInWorld(w);
    const session = w.independent.session(ps);
    if (!session) throw new Error('no session');
    const path = session.streams.path;
    const send = (m: { type: string; [field: string]: unknown }) => {
      const packet = path.nextPacket++; // numbered in its place, as a sender would
      w.independent.sendMessage(session.channel, { session: session.wireId, packet, ...m });
      return packet;
    };
    const errorsBefore = w.netchat.stats.protocolErrors;
    const malformedBefore = w.netchat.secureStats.malformedPackets;
    const small = send({ type: 'pmtu_probe', padding: new Uint8Array(100) }); // a 148-byte packet
    const large = send({ type: 'pmtu_probe', padding: new Uint8Array(LARGE - 48) });
    const bigData = send({
      type: 'stream_data',
      stream: 0,
      offset: 0,
      fin: 0,
      payload: new Uint8Array(1391),
    });
    w.runUntil(w.now + 200);
    expect(acked(w, small)).toBe(false);
    expect(acked(w, large)).toBe(false);
    expect(acked(w, bigData)).toBe(false);
    expect(w.netchatOf('stream_opened')).toEqual([]);
    // The small probe reached the session layer (a protocol error); the two large packets were
    // dropped unread by the secure layer (malformed packets), as any datagram over 1200 bytes.
    expect(w.netchat.stats.protocolErrors - errorsBefore).toBe(1);
    expect(w.netchat.secureStats.malformedPackets - malformedBefore).toBe(2);
    // And the independent peer, seeing no large_datagrams, never probed nor sent a large packet.
    expect(path.size.stats.probesSent).toBe(0);
  });
});
