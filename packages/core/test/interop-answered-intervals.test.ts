/**
 * Answered intervals (PROTOCOL.md, Heartbeats and liveness): a responder with
 * `skipAnsweredHeartbeats` leaves out a grid heartbeat when the requester's heartbeat arrived in
 * that interval. Observed by the independent peer, written from PROTOCOL.md alone and not using
 * the rule (an old peer), on a virtual clock: the session stays up, the heartbeats netchat leaves
 * out are exactly the answered ones, and the loss of a heartbeat or of its answer costs the
 * requester at most one miss (and a probe, answered), never the session. One-way latency 5 ms.
 */
import { describe, expect, it } from 'vitest';
import type { NetchatEvent } from '../src/index.js';
import { INDEPENDENT, NETCHAT, World } from './interop/world.js';

const L = 5;
const I = 1000;

/** The independent peer asks, netchat accepts at once: netchat is the responder. */
function respondingNetchat(options: { skip: boolean }) {
  const w = new World({ heartbeatInterval: I, skipAnsweredHeartbeats: options.skip }, { heartbeatMs: I });
  const ps = w.independent.connect(NETCHAT.host, NETCHAT.port);
  w.runUntilTrue(() => w.netchatOf('request').length > 0, 5000);
  const ns = (w.netchatOf('request')[0] as NetchatEvent).session;
  const acceptedAt = w.now;
  w.onNetchat((e, now) => e.accept(ns, now));
  w.runUntilTrue(() => w.independentOf('accepted').length > 0, 5000);
  return { w, ps, ns, acceptedAt };
}

/** netchat's heartbeats, as sent (ms after it accepted). */
const heartbeatsOf = (w: World, acceptedAt: number) =>
  w.heardOf('heartbeat').map((h) => h.at - L - acceptedAt);

describe('answered intervals, with an independent peer that does not use them', () => {
  it('the responder sends only the heartbeat of its first interval; every requester heartbeat is answered; nobody misses', () => {
    const { w, acceptedAt } = respondingNetchat({ skip: true });
    w.runUntil(acceptedAt + 20 * I + 500);
    // The independent side opened L after netchat (when the accept arrived); its k-th heartbeat
    // reaches netchat at kI + 2L, inside netchat's interval ending at (k+1)I. None had arrived
    // by netchat's first grid point.
    expect(heartbeatsOf(w, acceptedAt)).toEqual([I]);
    const acks = w.heardOf('ack').map((h) => h.at - acceptedAt);
    expect(acks).toEqual(Array.from({ length: 20 }, (_, k) => (k + 1) * I + 3 * L));
    expect(w.independentOf('heartbeat_missed')).toEqual([]);
    expect(w.netchatOf('heartbeat_missed')).toEqual([]);
    expect(w.independentOf('lost')).toEqual([]);
  });

  it("a responder whose timers fire late (30 ms, after the requester's heartbeat arrived) still leaves out exactly the answered intervals", () => {
    const w = new World({ heartbeatInterval: I, skipAnsweredHeartbeats: true }, { heartbeatMs: I });
    const ps = w.independent.connect(NETCHAT.host, NETCHAT.port);
    w.runUntilTrue(() => w.netchatOf('request').length > 0, 5000);
    const ns = (w.netchatOf('request')[0] as NetchatEvent).session;
    const acceptedAt = w.now;
    w.onNetchat((e, now) => e.accept(ns, now));
    w.runUntilTrue(() => w.independentOf('accepted').length > 0, 5000);
    expect(ps).toBeGreaterThan(0);
    // From now on every netchat timer fires 30 ms late (a busy event loop): each requester
    // heartbeat (at kI + 2L) arrives before the timer of the grid point just before it fires.
    // The network asks every station to handle its timeouts at each step, so the late timer is
    // played on both sides: the deadline reported 30 ms on, and timeouts taken only from then.
    const nextTimeout = w.netchat.nextTimeout.bind(w.netchat);
    const handleTimeout = w.netchat.handleTimeout.bind(w.netchat);
    w.netchat.nextTimeout = () => {
      const at = nextTimeout();
      return at === undefined ? undefined : at + 30;
    };
    w.netchat.handleTimeout = (now: number) => {
      const at = nextTimeout();
      if (at !== undefined && now >= at + 30) handleTimeout(now);
    };
    w.runUntil(acceptedAt + 10 * I + 500);
    // Only the first interval (0, I] had no heartbeat of the requester's in it: one heartbeat,
    // sent when the late timer fired. Every later interval was answered.
    expect(heartbeatsOf(w, acceptedAt)).toEqual([I + 30]);
    expect(w.independentOf('heartbeat_missed')).toEqual([]);
  });

  it('without the option the responder keeps its whole grid (the default, checked against the same run)', () => {
    const { w, acceptedAt } = respondingNetchat({ skip: false });
    w.runUntil(acceptedAt + 20 * I + 500);
    expect(heartbeatsOf(w, acceptedAt)).toEqual(Array.from({ length: 20 }, (_, k) => (k + 1) * I));
  });

  it('as the requester netchat never leaves a heartbeat out, option or not', () => {
    const w = new World(
      { heartbeatInterval: I, skipAnsweredHeartbeats: true },
      {
        heartbeatMs: I,
        onRequest: () => 'accept' as const,
      },
    );
    w.onNetchat((e, now) => e.connect(INDEPENDENT, now));
    w.runUntilTrue(() => w.netchatOf('accepted').length > 0, 5000);
    const openedAt = (w.netchatOf('accepted')[0] as { at: number }).at;
    w.runUntil(openedAt + 10 * I + 500);
    expect(w.heardOf('heartbeat').map((h) => h.at - L - openedAt)).toEqual(
      Array.from({ length: 10 }, (_, k) => (k + 1) * I),
    );
  });

  it('a requester heartbeat lost: each side misses once and probes, the probes are answered, and nobody is lost', () => {
    const { w, acceptedAt } = respondingNetchat({ skip: true });
    // Drop the independent peer's 5th heartbeat (the only datagram reaching netchat at 5I + 2L).
    const lostAt = acceptedAt + 5 * I + 2 * L;
    w.filter = (toIndependent, _data, at) => toIndependent || at !== lostAt;
    w.runUntil(acceptedAt + 12 * I);
    // Neither side heard anything in the interval: netchat last heard the 4th heartbeat (4I + 2L),
    // the independent peer its answer (4I + 3L). Each counts a miss I + M later and probes at
    // once; each probe is answered (the miss a responder that kept its grid would not have had).
    const netchatHeard = acceptedAt + 4 * I + 2 * L;
    const independentHeard = netchatHeard + L;
    expect(
      w.netchatOf('heartbeat_missed').map((e) => [e.at - netchatHeard, (e as { count: number }).count]),
    ).toEqual([[1.5 * I, 1]]);
    expect(w.independentOf('heartbeat_missed').map((e) => [e.at - independentHeard, e.count])).toEqual([
      [1.5 * I, 1],
    ]);
    // netchat's probe went at the miss; its grid point 6I was answered by the peer's probe.
    expect(heartbeatsOf(w, acceptedAt)).toEqual([I, 5.5 * I + 2 * L]);
    expect(w.independentOf('lost')).toEqual([]);
    expect(w.netchatOf('lost')).toEqual([]);
    // Back to one heartbeat and one answer an interval.
    expect(w.heardOf('ack').filter((h) => h.at - acceptedAt > 7 * I)).toHaveLength(5);
  });

  it('an answer lost: the responder still leaves its heartbeat out (it answered); the requester misses once and its probe is answered', () => {
    const { w, acceptedAt } = respondingNetchat({ skip: true });
    // Drop netchat's answer to the 5th heartbeat (the only datagram reaching it at 5I + 3L).
    const lostAt = acceptedAt + 5 * I + 3 * L;
    w.filter = (toIndependent, _data, at) => !toIndependent || at !== lostAt;
    w.runUntil(acceptedAt + 12 * I);
    expect(heartbeatsOf(w, acceptedAt)).toEqual([I]);
    const heard = acceptedAt + 4 * I + 3 * L;
    expect(w.independentOf('heartbeat_missed').map((e) => [e.at - heard, e.count])).toEqual([[1.5 * I, 1]]);
    expect(w.independentOf('lost')).toEqual([]);
  });

  it('the requester silent: the responder finds it lost on the usual rule (misses at I + M, 2I + M, 3I + M)', () => {
    const { w, ns, acceptedAt } = respondingNetchat({ skip: true });
    w.runUntil(acceptedAt + 3 * I + 500);
    w.filter = (toIndependent) => toIndependent; // netchat hears nothing from now on
    w.runUntil(acceptedAt + 9 * I);
    const heard = acceptedAt + 3 * I + 2 * L; // the independent peer's 3rd heartbeat
    const missed = w.netchatOf('heartbeat_missed').filter((e) => e.session === ns);
    expect(missed.map((e) => [e.at - heard, (e as { count: number }).count])).toEqual([
      [1.5 * I, 1],
      [2.5 * I, 2],
      [3.5 * I, 3],
    ]);
    expect(w.netchatOf('lost').map((e) => e.at - heard)).toEqual([3.5 * I]);
    // The 3rd heartbeat (3I + 2L) answered netchat's interval (3I, 4I]; none came in (4I, 5I]:
    // its probes from the first miss, and its grid heartbeat at 5I again.
    expect(heartbeatsOf(w, acceptedAt).filter((t) => t > 3 * I && t <= 5 * I)).toEqual([
      4.5 * I + 2 * L,
      4.625 * I + 2 * L,
      4.75 * I + 2 * L,
      4.875 * I + 2 * L,
      5 * I,
    ]);
  });
});
