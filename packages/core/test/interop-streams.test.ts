/**
 * Interop, streams: netchat (NetchatPeer on loopback, and the sans-IO Endpoint on a virtual clock
 * with loss) against the independent peer, whose streams, acknowledgements, flow control, loss
 * recovery and congestion window are written from PROTOCOL.md alone (test/interop/streams.mjs,
 * path.mjs). 3 MiB each way, compared byte for byte; cancels both ways. Waits are for
 * conditions, bounded; every peer is closed at the end.
 */
import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { NetchatPeer } from '../src/index.js';
import { Stage } from './interop/harness.js';
import type { IndependentPeer } from './interop/index.mjs';
import {
  acked,
  bothWaysInWorld,
  expectClean,
  expectSame,
  netchatWrites,
  openInWorld,
  openBoth as openStreams,
  reader,
} from './interop/stream-helpers.js';
import { World } from './interop/world.js';

const THREE_MIB = 3 * 1024 * 1024;

let stage: Stage;
afterEach(async () => {
  await stage?.close();
});

async function openBoth(): Promise<{ n: NetchatPeer; p: IndependentPeer; ps: number; ns: number }> {
  stage = new Stage();
  return openStreams(stage);
}

describe('interop, streams: netchat and the independent peer on loopback', () => {
  it('netchat writes 3 MiB on a stream; the independent peer acknowledges, grants credit as it reads, and reads it whole', async () => {
    const { n, p, ps, ns } = await openBoth();
    const r = stage.recorder;
    const data = crypto.randomBytes(THREE_MIB);
    let rd: ReturnType<typeof reader> | undefined;
    p.on('stream_opened', (e) => {
      if (e.session !== ps) return;
      rd = reader((max) => p.readStream(ps, e.stream, max));
    });
    p.on('stream_readable', (e) => e.session === ps && rd?.drain());
    const stream = netchatWrites(n, ns, data);
    await r.waitFor('N', 'stream_finished', (e) => e.stream === stream && e.direction === 'send', 60_000);
    await r.waitFor('P', 'stream_finished', (e) => e.stream === stream && e.direction === 'receive', 10_000);
    expect(r.of('P', 'stream_opened').map((e) => e.stream)).toEqual([stream]);
    expect(stream % 2).toBe(1); // the independent peer's request made the session: netchat's ids are odd
    expectSame(rd?.chunks ?? [], data);
    const path = p.session(ps)?.streams.path;
    expect(path.stats.acksSent).toBeGreaterThan(0);
    expectClean(n, p, ps);
  }, 90_000);

  it('the independent peer writes 3 MiB within netchat credit, under its own window; netchat reads it whole', async () => {
    const { n, p, ps, ns } = await openBoth();
    const r = stage.recorder;
    const data = crypto.randomBytes(THREE_MIB);
    let rd: ReturnType<typeof reader> | undefined;
    n.on('stream_opened', (e) => {
      if (e.session !== ns) return;
      rd = reader((max) => n.readStream(ns, e.stream, max));
    });
    n.on('stream_readable', (e) => e.session === ns && rd?.drain());
    const stream = p.openStream(ps);
    expect(stream).toBe(0);
    p.writeStream(ps, stream, data);
    p.finishStream(ps, stream);
    await r.waitFor('P', 'stream_finished', (e) => e.stream === stream && e.direction === 'send', 60_000);
    await r.waitFor('N', 'stream_finished', (e) => e.stream === stream && e.direction === 'receive', 10_000);
    expectSame(rd?.chunks ?? [], data);
    const streams = p.session(ps)?.streams;
    // It waited for credit: netchat's first window is 256 KiB, so 3 MiB needed its stream_credits.
    expect(streams.sending.size).toBe(0);
    expectClean(n, p, ps);
  }, 90_000);

  it('cancels both ways: netchat resets its stream, the independent peer sees it; the independent peer stops one, netchat sees it', async () => {
    const { n, p, ps, ns } = await openBoth();
    const r = stage.recorder;
    // netchat writes 200 KB and resets the stream with code 7 before finishing it.
    const first = n.openStream(ns);
    const took = n.writeStream(ns, first, crypto.randomBytes(200_000));
    expect(took).toBeGreaterThan(0);
    let readFirst = 0;
    p.on('stream_readable', (e) => {
      if (e.session === ps && e.stream === first) readFirst += p.readStream(ps, first, 1 << 20).length;
    });
    await r.until(() => readFirst > 0, 10_000, 'the first bytes read');
    n.cancelStream(ns, first, 7);
    const seen = await r.waitFor('P', 'stream_cancelled', (e) => e.stream === first);
    expect(seen).toMatchObject({ by: 'peer', code: 7, direction: 'receive' });

    // netchat writes a stream the independent peer asks to stop (code 9); netchat sees the stop.
    const second = n.openStream(ns);
    n.writeStream(ns, second, crypto.randomBytes(100_000));
    await r.waitFor('P', 'stream_opened', (e) => e.stream === second);
    p.cancelStream(ps, second, 9);
    const stopped = await r.waitFor('N', 'stream_cancelled', (e) => e.stream === second);
    expect(stopped).toMatchObject({ by: 'peer', code: 9 });

    // The independent peer resets its own stream (code 11); netchat sees it.
    const third = p.openStream(ps);
    p.writeStream(ps, third, crypto.randomBytes(50_000));
    await r.waitFor('N', 'stream_opened', (e) => e.stream === third);
    p.cancelStream(ps, third, 11);
    const reset = await r.waitFor('N', 'stream_cancelled', (e) => e.stream === third);
    expect(reset).toMatchObject({ by: 'peer', code: 11 });

    // Each stream over on a side raised its limit: a stream_limit each way, and text still flows.
    const streams = p.session(ps)?.streams;
    const initial = streams.peer.maxStreams as number;
    await r.until(() => streams.peerLimit > initial, 10_000, "netchat's stream_limit");
    expect(streams.peerLimit).toBe(initial + 1); // the one stream of ours that is over: `third`
    expect(streams.limitForPeer).toBe(8 + 2); // netchat's `first` (reset) and `second` (stopped, then reset)
    p.send(ps, 'still here');
    await r.waitFor('N', 'message', (e) => e.text === 'still here');
    expectClean(n, p, ps);
  }, 60_000);

  it("netchat asks: its streams are even, the independent peer's odd; a stream each way at once, one byte over a window", async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N', { streams: true });
    const p = await stage.independent('P', { streams: true, onRequest: () => 'accept' });
    const ns = await n.connect('127.0.0.1', p.address.port);
    const features = await r.waitFor('N', 'features', (e) => e.session === ns);
    expect(features.features.streams).toBe(true);
    const ps = (await r.waitFor('P', 'features', (e) => e.streams === true)).session as number;
    const size = 262_144 + 1;
    const toP = crypto.randomBytes(size);
    const toN = crypto.randomBytes(size);
    const nStream = netchatWrites(n, ns, toP);
    const pStream = p.openStream(ps);
    expect([nStream, pStream]).toEqual([0, 1]);
    p.writeStream(ps, pStream, toN);
    p.finishStream(ps, pStream);
    const pRead = reader((max) => p.readStream(ps, nStream, max));
    const nRead = reader((max) => n.readStream(ns, pStream, max));
    p.on('stream_readable', (e) => e.stream === nStream && pRead.drain());
    n.on('stream_readable', (e) => e.stream === pStream && nRead.drain());
    await r.waitFor('N', 'stream_finished', (e) => e.stream === pStream && e.direction === 'receive', 20_000);
    await r.waitFor('P', 'stream_finished', (e) => e.stream === nStream && e.direction === 'receive', 20_000);
    await r.waitFor('P', 'stream_finished', (e) => e.stream === pStream && e.direction === 'send', 20_000);
    expectSame(pRead.chunks, toP);
    expectSame(nRead.chunks, toN);
    expectClean(n, p, ps);
  }, 60_000);
});

describe('interop, streams: capabilities', () => {
  it('a netchat without streams says so: the independent peer takes it to be text only, opens no stream, and text flows', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N', { streams: false });
    const p = await stage.independent('P', { streams: true });
    n.on('request', (e) => n.accept(e.session));
    const ps = p.connect('127.0.0.1', n.address.port);
    const told = await r.waitFor('P', 'features', (e) => e.session === ps);
    expect(told.streams).toBe(false);
    expect(told.peerFeatures).toMatchObject({ features: 0, streamWindow: 0, maxStreams: 0 });
    expect(() => p.openStream(ps)).toThrow(/does not take streams/);
    p.send(ps, 'text only');
    await r.waitFor('N', 'message', (e) => e.text === 'text only');
    expect(n.stats.protocolErrors).toBe(0);
    expect(p.session(ps)?.stats.protocolErrors).toBe(0);
  }, 30_000);
});

describe('interop, streams: on a virtual clock with loss', () => {
  it('3 MiB each way at once with every 17th datagram lost both ways: whole, in order', () => {
    stage = new Stage(); // nothing to close: the world is in memory
    const w = new World({ streams: true, nick: 'N' }, { streams: true, nick: 'P' }, 10);
    const opened = openInWorld(w);
    const { ps } = opened;
    let count = 0;
    w.filter = () => ++count % 17 !== 0;
    bothWaysInWorld(w, opened, crypto.randomBytes(THREE_MIB), crypto.randomBytes(THREE_MIB), 600_000);
    const path = w.independent.session(ps)?.streams.path;
    expect(path.stats.lost).toBeGreaterThan(0); // the independent peer's loss recovery worked
    expect(w.independent.errors).toEqual([]);
    expect(w.independent.session(ps)?.stats.protocolErrors).toBe(0);
    expect(w.netchat.stats.protocolErrors).toBe(0);
  }, 120_000);
});

describe('interop, streams: netchat keeps the rules PROTOCOL.md gives a receiver (virtual clock)', () => {
  /** A session with streams both ways; the independent peer asked. */
  function openWorld() {
    const w = new World({ streams: true, nick: 'N' }, { streams: true, nick: 'P' }, 5);
    const { ps, ns } = openInWorld(w);
    const session = w.independent.session(ps);
    expect(session?.streams.enabled).toBe(true);
    return { w, ps, ns, session: session as NonNullable<typeof session> };
  }

  it('a message that breaks a stream rule is counted and never acknowledged; a good packet after it is', () => {
    const { w, session } = openWorld();
    const path = session.streams.path;
    const send = (m: { type: string; [field: string]: unknown }) => {
      const packet = path.nextPacket++; // numbered in its place, as a sender would
      w.independent.sendMessage(session.channel, { session: session.wireId, packet, ...m });
      return packet;
    };
    const window = 262_144; // netchat's default streamWindow, as its features said
    expect(session.streams.peer.streamWindow).toBe(window);
    const limit = session.streams.peer.maxStreams as number;
    const bad = [
      // netchat's own parity: the independent peer asked, so its streams are even, netchat's odd.
      send({ type: 'stream_data', stream: 1, offset: 0, fin: 0, payload: new Uint8Array(10) }),
      // beyond the streams netchat allows.
      send({ type: 'stream_data', stream: 2 * limit, offset: 0, fin: 0, payload: new Uint8Array(10) }),
      // beyond the credit (the first byte at the window).
      send({ type: 'stream_data', stream: 0, offset: window, fin: 0, payload: new Uint8Array(1) }),
      // a credit for a stream of netchat's it never opened.
      send({ type: 'stream_credit', stream: 1, maxOffset: 1 << 20 }),
    ];
    const errorsBefore = w.netchat.stats.protocolErrors;
    w.runUntil(w.now + 200);
    expect(w.netchat.stats.protocolErrors - errorsBefore).toBe(bad.length);
    for (const n of bad) expect(acked(w, n)).toBe(false);
    // A stream_ack naming a packet netchat never sent: counted too.
    w.independent.sendMessage(session.channel, {
      type: 'stream_ack',
      session: session.wireId,
      largest: 1_000_000,
      ackDelay: 0,
      firstRange: 0,
      ranges: new Uint8Array(0),
    });
    w.runUntil(w.now + 50);
    expect(w.netchat.stats.protocolErrors - errorsBefore).toBe(bad.length + 1);
    // A fin with no bytes exactly at the credit is within it (PROTOCOL.md *Flow control*).
    const good = send({ type: 'stream_data', stream: 0, offset: window, fin: 1, payload: new Uint8Array(0) });
    w.runUntil(w.now + 50);
    expect(acked(w, good)).toBe(true);
    expect(w.netchat.stats.protocolErrors - errorsBefore).toBe(bad.length + 1);
    expect(w.netchatOf('stream_opened').map((e) => (e as { stream: number }).stream)).toEqual([0]);
  });

  it("netchat's features lost: the independent peer opens text only, asks, and netchat's answer brings streams", async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N', { streams: true });
    let dropped = 0;
    const p = await stage.independent('P', {
      streams: true,
      // Deaf to netchat's features until the session is open (as if they were lost).
      dropMessage: (m) => m.type === 'features' && !r.of('P', 'accepted').length && ++dropped > 0,
    });
    n.on('request', (e) => n.accept(e.session));
    const ps = p.connect('127.0.0.1', n.address.port);
    const first = await r.waitFor('P', 'features', (e) => e.session === ps);
    expect(first.streams).toBe(false); // text only at once
    expect(dropped).toBeGreaterThan(0);
    const later = await r.waitFor('P', 'features', (e) => e.session === ps && e.streams === true);
    expect(later.peerFeatures.features & 1).toBe(1);
    const ns = (await r.waitFor('N', 'request')).session as number;
    const stream = p.openStream(ps);
    p.writeStream(ps, stream, new Uint8Array(5000).fill(7));
    p.finishStream(ps, stream);
    await r.waitFor('P', 'stream_finished', (e) => e.stream === stream && e.direction === 'send');
    await r.waitFor('N', 'stream_opened', (e) => e.session === ns && e.stream === stream);
    expect(n.stats.protocolErrors).toBe(0);
  }, 30_000);
});
