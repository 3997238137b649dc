/**
 * netchat's timing and answers, observed by the independent peer (written from PROTOCOL.md
 * alone) on a virtual clock, checked against PROTOCOL.md's numbers exactly: the init and request
 * schedules, the final's resends and the handshake starting over, the heartbeat grid and its
 * answers, misses, probes and loss, acknowledgement timing and fields, the receive window, the
 * retransmission timeout and its backoff, a lingering close that gives up, disconnect resends,
 * a declined request draining, and a request expiring. One-way latency 5 ms throughout.
 */
import { describe, expect, it } from 'vitest';
import type { NetchatEvent } from '../src/index.js';
import { decodePacket } from './interop/index.mjs';
import { INDEPENDENT, NETCHAT, World } from './interop/world.js';

const L = 5; // one-way latency
const utf8 = new TextEncoder();

/** The independent peer asks; netchat accepts as soon as it hears the request. Times of both. */
function openFromIndependent(w: World): { ps: number; ns: number; acceptedAt: number } {
  const ps = w.independent.connect(NETCHAT.host, NETCHAT.port);
  w.runUntilTrue(() => w.netchatOf('request').length > 0, 5000);
  const ns = (w.netchatOf('request')[0] as NetchatEvent).session;
  const acceptedAt = w.now;
  w.onNetchat((e, now) => e.accept(ns, now));
  w.runUntilTrue(() => w.independentOf('accepted').length > 0, 5000);
  return { ps, ns, acceptedAt };
}

const ACCEPTS = { onRequest: () => 'accept' as const };

/** netchat asks; the independent peer accepts (its onRequest). */
function openFromNetchat(w: World): { ns: number; ps: number } {
  const ns = w.onNetchat((e, now) => e.connect(INDEPENDENT, now));
  w.runUntilTrue(() => w.netchatOf('accepted').length > 0, 5000);
  const ps = w.independentOf('request')[0]?.session as number;
  return { ns, ps };
}

function textMessage(seq: number, text: string, fragmentIndex = 0, fragmentCount = 1) {
  return {
    type: 'text',
    seq,
    ack: 0,
    sack: 0,
    ackDelay: 0,
    fragmentIndex,
    fragmentCount,
    payload: utf8.encode(text),
  };
}

describe('netchat, timed by the independent peer on a virtual clock', () => {
  it('resends its init at 0, 0.5, 1.5, 3.5, 5.5 … s and gives up at the connect timeout (30 s from the first init)', () => {
    const w = new World();
    w.filter = (toIndependent) => !toIndependent; // the independent peer hears nothing
    w.onNetchat((e, now) => e.connect(INDEPENDENT, now));
    w.runUntil(31_000);
    const inits = w.arrivals.filter((a) => a.type === 'handshake_init').map((a) => a.at - L);
    const expected = [0, 500, 1500];
    for (let t = 3500; t < 30_000; t += 2000) expected.push(t);
    expect(inits).toEqual(expected);
    // The same init every time (same index, same message 1: no new ephemeral key).
    expect(new Set(w.arrivals.map((a) => Buffer.from(a.data).toString('hex'))).size).toBe(1);
    expect(w.netchatOf('no_answer').map((e) => e.at)).toEqual([30_000]);
  });

  it('resends connect_request at 0, 0.5, 1.5, 3.5 … s after its channel opened, then withdraws it once at the timeout', () => {
    const w = new World({}, {}); // the independent peer leaves the request waiting (no onRequest)
    w.onNetchat((e, now) => e.connect(INDEPENDENT, now));
    w.runUntil(31_000);
    const opened = 2 * L; // message 2 read
    const requests = w.heardOf('connect_request').map((h) => h.at - L - opened);
    const expected = [0, 500, 1500];
    for (let t = 3500; opened + t < 30_000; t += 2000) expected.push(t);
    expect(requests).toEqual(expected);
    expect(w.netchatOf('no_answer').map((e) => e.at)).toEqual([30_000]);
    expect(w.heardOf('disconnect').map((h) => h.at)).toEqual([30_000 + L]);
    expect(w.independentOf('closed')).toHaveLength(1); // the withdrawn request
    expect(w.heardOf('connect_request').every((h) => h.message.heartbeatMs === 25_000)).toBe(true);
  });

  it('resends handshake_final every 500 ms while unconfirmed, and 5 s after message 2 starts over: a new init, same index', () => {
    const w = new World();
    w.filter = (toIndependent, data) => !(toIndependent && decodePacket(data)?.type === 'handshake_final');
    w.onNetchat((e, now) => e.connect(INDEPENDENT, now));
    w.runUntil(5100);
    const msg2At = 2 * L;
    const finals = w.arrivals.filter((a) => a.type === 'handshake_final').map((a) => a.at - L - msg2At);
    expect(finals.filter((t) => t < 5000)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500]);
    const inits = w.arrivals.filter((a) => a.type === 'handshake_init');
    expect(inits.map((a) => a.at - L)).toEqual([0, msg2At + 5000]);
    const [first, second] = inits.map((a) => decodePacket(a.data));
    expect(second?.senderIndex).toBe(first?.senderIndex);
    expect(Buffer.from(second?.noise).equals(Buffer.from(first?.noise))).toBe(false);
  });

  it('heartbeats on a fixed grid of the smaller interval, each of ours answered at once with an ack', () => {
    const w = new World({ heartbeatInterval: 1000 }, { heartbeatMs: 25_000 });
    const { acceptedAt } = openFromIndependent(w);
    expect(w.heardOf('accept')[0]?.message.heartbeatMs).toBe(1000); // the agreed value
    w.runUntil(acceptedAt + 5500);
    const beats = w.heardOf('heartbeat').map((h) => h.at - L - acceptedAt);
    expect(beats).toEqual([1000, 2000, 3000, 4000, 5000]);
    // The independent side opened when the accept arrived (acceptedAt + L); its heartbeats reach
    // netchat L later, and each answer comes back L after that.
    const acks = w.heardOf('ack').map((h) => h.at - acceptedAt);
    expect(acks).toEqual([1000, 2000, 3000, 4000, 5000].map((t) => t + 3 * L));
    // Nothing was received yet: ack 0, sack 0 and ackDelay 0.
    expect(
      w
        .heardOf('heartbeat')
        .every((h) => h.message.ack === 0 && h.message.sack === 0 && h.message.ackDelay === 0),
    ).toBe(true);
  });

  it('a silent peer: misses at I + M, 2I + M, 3I + M (the last one the loss), probes from the first miss every I/8', () => {
    const I = 800;
    const w = new World({ heartbeatInterval: I }, { heartbeatMs: I });
    const { ns, acceptedAt } = openFromIndependent(w);
    w.runUntil(acceptedAt + 2500);
    w.filter = (toIndependent) => toIndependent; // from now on netchat hears nothing
    w.runUntil(acceptedAt + 6000);
    // What netchat last heard: the independent peer's third heartbeat (its grid starts when the
    // accept arrives, L after netchat's) and its answer to netchat's third, both at 3I + 2L.
    const heard = acceptedAt + 3 * I + 2 * L;
    const missed = w.netchatOf('heartbeat_missed').filter((e) => e.session === ns);
    expect(missed.map((e) => [e.at - heard, (e as { count: number }).count])).toEqual([
      [I + I / 2, 1],
      [2 * I + I / 2, 2],
      [3 * I + I / 2, 3],
    ]);
    const lostAt = heard + 3 * I + I / 2;
    expect(w.netchatOf('lost').map((e) => e.at)).toEqual([lostAt]);
    // Heartbeats netchat sent after the last one heard: its grid (every I from acceptedAt) and
    // probes every I/8 from the first miss, until the loss.
    const sent = w
      .heardOf('heartbeat')
      .map((h) => h.at - L)
      .filter((t) => t > heard);
    const grid: number[] = [];
    for (let t = acceptedAt + I; t < lostAt; t += I) if (t > heard) grid.push(t);
    const probes: number[] = [];
    for (let t = heard + I + I / 2; t < lostAt; t += I / 8) probes.push(t);
    expect(sent).toEqual([...grid, ...probes].sort((a, b) => a - b));
  });

  it('acknowledgements: within 5 ms for one in-order fragment (ackDelay 625 × 8 µs), at once at the 16th, for a gap, a duplicate and a fill', () => {
    const w = new World();
    const { ps } = openFromIndependent(w);
    const channel = w.independent.session(ps)?.channel;
    const send = (m: Record<string, unknown>) =>
      w.independent.sendMessage(channel, { session: w.independent.session(ps)?.wireId, ...m } as never);

    let t = w.now;
    send(textMessage(0, 'one'));
    w.runUntil(t + 100);
    let acks = w.heardOf('ack').filter((h) => h.at > t);
    expect(acks.map((h) => [h.at - t, h.message.ack, h.message.sack, h.message.ackDelay])).toEqual([
      [2 * L + 5, 1, 0, 625],
    ]);

    // Sixteen in-order fragments at once: acknowledged at the sixteenth, with no delay.
    t = w.now;
    for (let i = 0; i < 16; i++) send(textMessage(1 + i, 'x'.repeat(1142), i, 16));
    w.runUntil(t + 100);
    acks = w.heardOf('ack').filter((h) => h.at > t);
    expect(acks.map((h) => [h.at - t, h.message.ack, h.message.ackDelay])).toEqual([[2 * L, 17, 0]]);
    expect(w.netchatOf('message').map((e) => (e as { text: string }).text.length)).toEqual([3, 16 * 1142]);

    // A gap (seq 18 before 17), the same again (a duplicate), then the fill: each acknowledged at once.
    for (const [seq, expectAck, expectSack] of [
      [18, 17, 0b1],
      [18, 17, 0b1],
      [17, 19, 0],
    ] as const) {
      t = w.now;
      send(textMessage(seq, `m${seq}`));
      w.runUntil(t + 100);
      acks = w.heardOf('ack').filter((h) => h.at > t);
      expect(acks.map((h) => [h.at - t, h.message.ack, h.message.sack])).toEqual([
        [2 * L, expectAck, expectSack],
      ]);
    }
    expect(
      w
        .netchatOf('message')
        .slice(2)
        .map((e) => (e as { text: string }).text),
    ).toEqual(['m17', 'm18']);
  });

  it('ackDelay is 0 while the acknowledgement covers no fragment (ack 0, sack 0), even with fragments held beyond the sack', () => {
    const w = new World();
    const { ps } = openFromIndependent(w);
    const session = w.independent.session(ps);
    const send = (m: Record<string, unknown>) =>
      w.independent.sendMessage(session?.channel, { session: session?.wireId, ...m } as never);
    w.runUntil(w.now + 1000); // a clock well past 0 (an ackDelay from time 0 would show)
    const t = w.now;
    send(textMessage(40, 'early')); // in the window, beyond the 32 fragments sack can name
    w.runUntil(t + 100);
    const acks = w.heardOf('ack').filter((h) => h.at > t);
    expect(acks.map((h) => [h.at - t, h.message.ack, h.message.sack, h.message.ackDelay])).toEqual([
      [2 * L, 0, 0, 0],
    ]);
  });

  it('the receive window: fragments next … next + 127 are held and acknowledged, later ones dropped unacknowledged', () => {
    const w = new World();
    const { ps } = openFromIndependent(w);
    const session = w.independent.session(ps);
    const send = (m: Record<string, unknown>) =>
      w.independent.sendMessage(session?.channel, { session: session?.wireId, ...m } as never);
    const t = w.now;
    for (let seq = 1; seq <= 200; seq++) send(textMessage(seq, `#${seq}`));
    w.runUntil(t + 100);
    const acks = w.heardOf('ack').filter((h) => h.at > t);
    expect(acks).toHaveLength(127); // seq 1 … 127: out of order, each acknowledged at once
    expect(acks.every((h) => h.message.ack === 0)).toBe(true);
    expect((acks.at(-1)?.message.sack ?? 0) >>> 0).toBe(0xffff_ffff);
    send(textMessage(0, '#0'));
    w.runUntil(w.now + 100);
    expect(w.heardOf('ack').at(-1)?.message.ack).toBe(128);
    expect(w.netchatOf('message').map((e) => (e as { text: string }).text)).toEqual(
      Array.from({ length: 128 }, (_, i) => `#${i}`),
    );
    for (let seq = 128; seq <= 200; seq++) send(textMessage(seq, `#${seq}`));
    w.runUntil(w.now + 100);
    expect(w.netchatOf('message')).toHaveLength(201);
  });

  it('retransmission: RTO 200 ms (from the handshake round trip), doubling up to 2⁴ times: sends at 0, 200, 600, 1400, 3000, 6200', () => {
    const w = new World({}, ACCEPTS);
    openFromNetchat(w);
    let dropped = 0;
    w.independent.on('wire_message', () => undefined);
    const options = (
      w.independent as unknown as { options: { dropMessage: (m: { type: string }) => boolean } }
    ).options;
    options.dropMessage = (m) => m.type === 'text' && dropped++ < 5;
    const ns = (w.netchatOf('accepted')[0] as NetchatEvent).session;
    const t = w.now;
    const id = w.onNetchat((e, now) => e.send(ns, 'again and again', now));
    w.runUntil(t + 7000);
    expect(w.heardOf('text').map((h) => h.at - L - t)).toEqual([0, 200, 600, 1400, 3000, 6200]);
    expect(w.netchatOf('delivered').map((e) => [(e as { messageId: number }).messageId, e.at - t])).toEqual([
      [id, 6200 + 2 * L + 5],
    ]);
  });

  it('a lingering close whose text is never taken ends at the 16th timeout in a row (41.4 s at 200 ms), then disconnects', () => {
    const w = new World({}, ACCEPTS);
    const { ns } = openFromNetchat(w);
    const options = (
      w.independent as unknown as { options: { dropMessage: (m: { type: string }) => boolean } }
    ).options;
    options.dropMessage = (m) => m.type === 'text'; // deaf to text, alive otherwise
    const t = w.now;
    const id = w.onNetchat((e, now) => e.send(ns, 'never taken', now));
    w.onNetchat((e, now) => e.close(ns, now));
    w.runUntil(t + 45_000);
    const failed = w.netchatOf('failed');
    expect(
      failed.map((e) => [(e as { messageId: number }).messageId, (e as { reason: string }).reason, e.at - t]),
    ).toEqual([[id, 'closed', 41_400]]);
    expect(w.heardOf('disconnect')[0]?.at).toBe(t + 41_400 + L);
    expect(w.netchatOf('lost')).toEqual([]);
  });

  it('closing: disconnect resent every RTO (200 ms, not doubled), 4 in all, and the session forgotten one RTO after the last', () => {
    const w = new World({}, ACCEPTS);
    const { ns } = openFromNetchat(w);
    const options = (
      w.independent as unknown as { options: { dropMessage: (m: { type: string }) => boolean } }
    ).options;
    options.dropMessage = (m) => m.type === 'disconnect';
    const t = w.now;
    w.onNetchat((e, now) => e.close(ns, now));
    w.runUntil(t + 799);
    expect(w.netchat.session(ns)).toBeDefined();
    w.runUntil(t + 800);
    expect(w.netchat.session(ns)).toBeUndefined();
    expect(w.heardOf('disconnect').map((h) => h.at - L - t)).toEqual([0, 200, 400, 600]);
  });

  it('a declined request drains for the connect timeout, answering a repeat with the same decline; after it, the id is new', () => {
    const w = new World();
    const ps = w.independent.connect(NETCHAT.host, NETCHAT.port);
    w.runUntilTrue(() => w.netchatOf('request').length > 0, 5000);
    const ns = (w.netchatOf('request')[0] as NetchatEvent).session;
    const t = w.now;
    w.onNetchat((e, now) => e.decline(ns, now, 'busy', 'later'));
    w.runUntil(t + 100);
    const session = w.independent.session(ps);
    expect(session).toBeUndefined(); // the independent side took the decline
    const channel = w.independent.secure.channels.values().next().value;
    const wireId = w.heardOf('decline')[0]?.message.session as number;
    const request = { type: 'connect_request', session: wireId, heartbeatMs: 25_000, nick: 'again' };
    w.independent.sendMessage(channel, request as never);
    w.runUntil(t + 29_000);
    w.independent.sendMessage(channel, request as never);
    w.runUntil(t + 29_100);
    expect(w.heardOf('decline').map((h) => [h.message.reason, h.message.detail])).toEqual([
      ['busy', 'later'],
      ['busy', 'later'],
      ['busy', 'later'],
    ]);
    w.runUntil(t + 30_000 + 100);
    w.independent.sendMessage(channel, request as never);
    w.runUntil(t + 30_200);
    expect(w.netchatOf('request')).toHaveLength(2);
  });

  it('a request nobody answers expires connect timeout + 2 s after the requester was last heard', () => {
    const w = new World();
    w.independent.connect(NETCHAT.host, NETCHAT.port);
    w.runUntilTrue(() => w.netchatOf('request').length > 0, 5000);
    const t = w.now;
    w.filter = (toIndependent) => toIndependent; // the requester falls silent at once
    w.runUntil(t + 33_000);
    expect(w.netchatOf('request_expired').map((e) => e.at - t)).toEqual([32_000]);
  });
});
