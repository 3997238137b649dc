/**
 * The stranger against a close that lingers for `lingers` streams (PROTOCOL.md, Closing): a peer
 * that never acknowledges them, one that acknowledges only some, one that sends stream data
 * while we linger, and a close in the middle of a large transfer. Measured on the virtual
 * network: how many sessions are held and for how long, and the bytes we send while held.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoint, SessionId } from '../src/index.js';
import { STREAM_LINGER_MS } from '../src/streams/stream-set.js';
import { filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { eventsOf, type Node, VirtualNetwork } from './support/virtual-network.js';

const STRANGERS = 40;
const WRITTEN = 3_000;

/** `victim` with an open session to each of `count` peers (each asked, the victim accepted). */
function crowd(count: number) {
  const net = new VirtualNetwork(11);
  net.conditions = { latency: 10, jitter: 0, loss: 0, duplicate: 0 };
  const victim = net.add('10.0.0.1', 1000, { nick: 'victim', streams: true, maxSessions: 1000 });
  const strangers: Node[] = [];
  const theirSessions: SessionId[] = [];
  for (let i = 0; i < count; i++) {
    const s = net.add(`10.1.${Math.floor(i / 200)}.${(i % 200) + 1}`, 2000 + i, {
      nick: `s${i}`,
      streams: true,
    });
    theirSessions.push(s.endpoint.connect(victim.address, net.now));
    strangers.push(s);
  }
  expect(net.run(() => eventsOf(victim, 'request').length === count, net.now + 20_000)).toBe(true);
  for (const r of eventsOf(victim, 'request')) victim.endpoint.accept(r.session, net.now);
  const sessions = eventsOf(victim, 'request').map((r) => r.session);
  const ready = () => sessions.every((id) => victim.endpoint.session(id)?.peerFeatures !== undefined);
  expect(net.run(ready, net.now + 20_000)).toBe(true);
  return { net, victim, strangers, sessions, theirSessions };
}

function bytesSent(node: Node, since: number): number {
  return node.sent.filter((s) => s.at >= since).reduce((n, s) => n + s.data.length, 0);
}

function openSessions(endpoint: Endpoint): number {
  return endpoint.listSessions().length;
}

describe('a stranger against the close that lingers for streams', () => {
  it(`${STRANGERS} peers that never acknowledge a lingering stream: every close ends within STREAM_LINGER_MS, sending a bounded number of bytes`, () => {
    const { net, victim, strangers, sessions } = crowd(STRANGERS);
    const strangerPorts = new Set(strangers.map((s) => s.address.port));
    // Every stranger drops its own stream acknowledgements (it still answers heartbeats and text).
    net.filter = (from, _to, _data, message) =>
      !(strangerPorts.has(from.port) && message?.type === 'stream_ack');
    for (const id of sessions) {
      const stream = victim.endpoint.openStream(id, net.now, { lingers: true });
      expect(victim.endpoint.writeStream(id, stream, randomData(WRITTEN, id), net.now)).toBe(WRITTEN);
    }
    const closedAt = net.now;
    for (const id of sessions) victim.endpoint.close(id, net.now);
    expect(sessions.every((id) => victim.endpoint.session(id)?.state === 'lingering')).toBe(true);
    net.run(() => openSessions(victim.endpoint) === 0, closedAt + STREAM_LINGER_MS + 30_000);
    const gone = net.now - closedAt;
    const out = bytesSent(victim, closedAt);
    console.log(
      `${STRANGERS} lingering sessions: all gone ${gone} ms after the close; ${out} bytes sent meanwhile (${(out / STRANGERS).toFixed(0)} a session for ${WRITTEN} written)`,
    );
    // Held at most the linger, then the disconnect's tries (disconnectAttempts at the RTO).
    expect(gone).toBeLessThan(STREAM_LINGER_MS + 5_000);
    // What was written once, then the path's probe timeouts (two packets a timeout, the timeout
    // doubling: 8 in 10 s at a 40 ms RTO): the same as an open session's unacknowledged stream.
    expect(out / STRANGERS).toBeLessThan(WRITTEN + 2 * 8 * 1452 + 1_000);
    expect(victim.endpoint.nextTimeout()).toBeUndefined();
  });

  it('a peer that acknowledges only some of a lingering stream (1 stream_ack in 8) holds the close no longer than one that acknowledges none', () => {
    const { net, victim, strangers, sessions } = crowd(1);
    const stranger = strangers[0] as Node;
    const id = sessions[0] as SessionId;
    let acks = 0;
    net.filter = (from, _to, _data, message) =>
      !(from.port === stranger.address.port && message?.type === 'stream_ack' && acks++ % 8 !== 0);
    const stream = victim.endpoint.openStream(id, net.now, { lingers: true });
    // The most the stranger's window lets us write, so the close has much to wait for.
    let written = 0;
    for (let i = 0; i < 100; i++) {
      const n = victim.endpoint.writeStream(id, stream, randomData(64 * 1024, i), net.now);
      written += n;
      if (n < 64 * 1024) break;
    }
    const closedAt = net.now;
    victim.endpoint.close(id, net.now);
    net.run(() => victim.endpoint.session(id) === undefined, closedAt + STREAM_LINGER_MS + 30_000);
    const gone = net.now - closedAt;
    const out = bytesSent(victim, closedAt);
    console.log(
      `acknowledging 1 in 8: ${written} bytes written, the session gone ${gone} ms after the close, ${out} bytes sent meanwhile`,
    );
    expect(gone).toBeLessThan(STREAM_LINGER_MS + 5_000);
    // What was written, each byte sent a few times at most, and the probes.
    expect(out).toBeLessThan(4 * written + 2 * 8 * 1452);
  });

  it('a peer that sends stream data while we linger: nothing of it is kept, and the close still ends in time', () => {
    const { net, victim, strangers, sessions, theirSessions } = crowd(1);
    const stranger = strangers[0] as Node;
    const id = sessions[0] as SessionId;
    const strangerSession = theirSessions[0] as SessionId;
    expect(
      net.run(() => stranger.endpoint.session(strangerSession)?.peerFeatures !== undefined, net.now + 5_000),
    ).toBe(true);
    net.filter = (from, _to, _data, message) =>
      !(from.port === stranger.address.port && message?.type === 'stream_ack');
    const ours = victim.endpoint.openStream(id, net.now, { lingers: true });
    victim.endpoint.writeStream(id, ours, randomData(WRITTEN, 1), net.now);
    const theirs = stranger.endpoint.openStream(strangerSession, net.now);
    const closedAt = net.now;
    victim.endpoint.close(id, net.now);
    let written = 0;
    // The stranger writes as fast as its stream takes, for as long as the victim lingers.
    for (let i = 0; i < 2_000 && victim.endpoint.session(id) !== undefined; i++) {
      if (stranger.endpoint.session(strangerSession)?.state === 'open')
        written += stranger.endpoint.writeStream(strangerSession, theirs, randomData(64 * 1024, i), net.now);
      net.runFor(20);
    }
    const gone = net.now - closedAt;
    console.log(
      `stream data while lingering: ${written} bytes written by the stranger; the session gone ${gone} ms after the close`,
    );
    expect(victim.endpoint.session(id)).toBeUndefined();
    expect(gone).toBeLessThan(STREAM_LINGER_MS + 5_000);
    expect(eventsOf(victim, 'stream_opened')).toEqual([]);
  });

  it('a close in the middle of a large transfer does not wait for its bulk data (either side closing)', () => {
    for (const closer of ['sender', 'receiver'] as const) {
      const pair = filePair({}, 21);
      const { net, sa, sb, alice, bob } = pair;
      net.recordSent = false;
      net.conditions = { latency: 20, jitter: 0, loss: 0.01, duplicate: 0 };
      alice.offer(sa, { 'big.bin': randomData(100 * 1024 * 1024, 7) });
      expect(net.run(() => bob.of('file_offer').length > 0, net.now + 10_000)).toBe(true);
      bob.accept(bob.of('file_offer')[0]?.transfer ?? -1);
      expect(
        net.run(() => bob.of('file_progress').some((p) => p.bytes > 5 * 1024 * 1024), net.now + 60_000),
      ).toBe(true);
      const closedAt = net.now;
      if (closer === 'sender') pair.a.endpoint.close(sa, net.now);
      else pair.b.endpoint.close(sb, net.now);
      const other = closer === 'sender' ? pair.b : pair.a;
      expect(net.run(() => eventsOf(other, 'closed').length > 0, net.now + 30_000)).toBe(true);
      const heard = (eventsOf(other, 'closed')[0]?.at ?? 0) - closedAt;
      console.log(
        `a close by the ${closer} during a 100 MB transfer: the other side heard it after ${heard} ms`,
      );
      expect(heard, closer).toBeLessThan(2_000);
    }
  });
});
