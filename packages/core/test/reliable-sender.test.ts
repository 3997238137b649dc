import { describe, expect, it } from 'vitest';
import { MAX_FRAGMENT_BYTES } from '../src/index.js';
import { ReliableSender } from '../src/session/reliable-sender.js';
import { RttEstimator } from '../src/session/rtt-estimator.js';
import { seededRandom } from './support/random.js';

const bytes = (n: number) => new Uint8Array(n).fill(0x61);
const seqs = (fragments: readonly { seq: number }[]) => fragments.map((f) => f.seq);
/** A sack bitmap naming the given sequence numbers above `ack`. */
const sackOf = (ack: number, ...acked: number[]) =>
  acked.reduce((bits, seq) => bits | (1 << (seq - ack - 1)), 0) >>> 0;

function sender(window = 128, rtt = new RttEstimator(200, 10_000)) {
  return { rtt, sender: new ReliableSender(window, rtt) };
}

describe('ReliableSender', () => {
  it('cuts a message into fragments of at most MAX_FRAGMENT_BYTES with consecutive seq', () => {
    const { sender: s } = sender();
    s.enqueue(1, bytes(2 * MAX_FRAGMENT_BYTES + 5));
    s.enqueue(2, bytes(3));
    const sent = s.takeNew(0).map((f) => [f.seq, f.messageId, f.index, f.count, f.payload.length]);
    expect(sent).toEqual([
      [0, 1, 0, 3, MAX_FRAGMENT_BYTES],
      [1, 1, 1, 3, MAX_FRAGMENT_BYTES],
      [2, 1, 2, 3, 5],
      [3, 2, 0, 1, 3],
    ]);
    expect(s.queuedBytes).toBe(2 * MAX_FRAGMENT_BYTES + 8);
  });

  it('keeps at most `window` fragments in flight in total, and sends more as acks come', () => {
    const { sender: s } = sender(4);
    for (let id = 1; id <= 6; id++) s.enqueue(id, bytes(1));
    expect(seqs(s.takeNew(0))).toEqual([0, 1, 2, 3]);
    expect(seqs(s.takeNew(0))).toEqual([]);
    // A selective ack does not move the window: its lower edge is the lowest unacknowledged.
    s.onAck(0, sackOf(0, 1, 2, 3), 0, 10);
    expect(seqs(s.takeNew(10))).toEqual([]);
    s.onAck(4, 0, 0, 20);
    expect(seqs(s.takeNew(20))).toEqual([4, 5]);
  });

  it('reports a message delivered only when the cumulative ack passes its last fragment, in send order', () => {
    const { sender: s } = sender();
    s.enqueue(1, bytes(MAX_FRAGMENT_BYTES + 1)); // seq 0, 1
    s.enqueue(2, bytes(1)); // seq 2
    s.takeNew(0);
    // Message 2 is selectively acknowledged, but the peer's program cannot have it before message 1.
    expect(s.onAck(0, sackOf(0, 2), 0, 10)).toBe(true);
    expect(s.delivered).toEqual([]);
    expect(s.onAck(1, sackOf(1, 2), 0, 11)).toBe(true);
    expect(s.delivered).toEqual([]);
    expect(s.pendingMessages).toBe(2);
    // The gap fills: both are handed over, in send order.
    expect(s.onAck(3, 0, 0, 12)).toBe(true);
    expect(s.delivered).toEqual([1, 2]);
    expect(s.pendingMessages).toBe(0);
    expect(s.inFlight).toBe(false);
    // The same acknowledgement again is no progress.
    expect(s.onAck(3, 0, 0, 13)).toBe(false);
    expect(s.delivered).toEqual([]);
  });

  it('never reports delivered what waits behind a gap that is never filled; a selective ack only stops its resends', () => {
    const { sender: s, rtt } = sender();
    rtt.sample(10); // RTO 200
    for (let id = 1; id <= 4; id++) s.enqueue(id, bytes(1)); // seq 0 … 3
    s.takeNew(0);
    // seq 0 never arrives; the peer holds 1, 2 and 3 and says so again and again.
    for (let at = 10; at < 100; at += 10) s.onAck(0, sackOf(0, 1, 2, 3), 0, at);
    expect(s.delivered).toEqual([]);
    expect(s.pendingMessages).toBe(4);
    // The fast resend and every timeout resend only seq 0: 1 … 3 are selectively acknowledged.
    const resent = [seqs(s.takeRetransmissions(100))];
    for (let i = 0; i < 3; i++) {
      const at = s.nextDeadline() as number;
      resent.push(seqs(s.takeRetransmissions(at)));
    }
    expect(resent).toEqual([[0], [0], [0], [0]]);
    // The session ends with the gap still open: all four fail, none was delivered.
    expect(s.drainUndelivered()).toEqual([1, 2, 3, 4]);
  });

  it('ignores acknowledgements of what was never sent', () => {
    const { sender: s } = sender(2);
    for (let id = 1; id <= 4; id++) s.enqueue(id, bytes(1));
    s.takeNew(0); // seq 0, 1 in flight; 2, 3 queued
    s.onAck(4, 0, 0, 5);
    expect(s.delivered).toEqual([1, 2]);
    expect(seqs(s.takeNew(5))).toEqual([2, 3]);
  });

  it('on timeout resends the whole flight first, then only the oldest, doubling the timeout up to 2^4', () => {
    const { sender: s, rtt } = sender();
    rtt.sample(10); // RTO is then minRto: 200
    for (let id = 1; id <= 3; id++) s.enqueue(id, bytes(1));
    s.takeNew(0);
    expect(s.nextDeadline()).toBe(200);
    const resends: [number, number[]][] = [];
    for (let i = 0; i < 7; i++) {
      const at = s.nextDeadline() as number;
      resends.push([at, seqs(s.takeRetransmissions(at))]);
    }
    expect(resends).toEqual([
      [200, [0, 1, 2]],
      [600, [0]],
      [1_400, [0]],
      [3_000, [0]],
      [6_200, [0]],
      [9_400, [0]], // capped: 200 × 2^4
      [12_600, [0]],
    ]);
    // Progress resets the backoff.
    s.onAck(1, 0, 0, 12_700);
    expect(s.nextDeadline()).toBe(12_900);
  });

  it('on timeout resends only fragments not selectively acknowledged, the first time and after', () => {
    const { sender: s, rtt } = sender();
    rtt.sample(10); // RTO 200
    for (let id = 1; id <= 5; id++) s.enqueue(id, bytes(1)); // seq 0 … 4
    s.takeNew(0);
    s.onAck(0, sackOf(0, 1, 2), 0, 10); // 1 and 2 arrived (not enough above 0 for a fast resend)
    expect(seqs(s.takeRetransmissions(10))).toEqual([]);
    expect(seqs(s.takeRetransmissions(210))).toEqual([0, 3, 4]); // the whole flight, less 1 and 2
    s.onAck(0, sackOf(0, 1, 2, 4), 0, 220); // 4 arrived: progress resets the backoff
    expect(seqs(s.takeRetransmissions(s.nextDeadline() as number))).toEqual([0, 3]);
    expect(seqs(s.takeRetransmissions(s.nextDeadline() as number))).toEqual([0]); // then the oldest
  });

  it('resends at once a fragment three below a selectively acknowledged one, once per round trip', () => {
    const { sender: s, rtt } = sender();
    rtt.sample(50);
    for (let id = 1; id <= 5; id++) s.enqueue(id, bytes(1));
    s.takeNew(0);
    // seq 0 lost; 1 and 2 arrived: not yet enough evidence.
    s.onAck(0, sackOf(0, 1, 2), 0, 60);
    expect(seqs(s.takeRetransmissions(60))).toEqual([]);
    // seq 3 arrived too: 0 is three below it, and older than a round trip.
    s.onAck(0, sackOf(0, 1, 2, 3), 0, 61);
    expect(seqs(s.takeRetransmissions(61))).toEqual([0]);
    // More evidence within the same round trip does not resend it again.
    s.onAck(0, sackOf(0, 1, 2, 3, 4), 0, 70);
    expect(seqs(s.takeRetransmissions(70))).toEqual([]);
    expect(seqs(s.takeRetransmissions(61 + 60))).toEqual([0]); // a round trip (srtt ≈ 52) later
  });

  it('measures the round trip on the newest fragment an ack covers, minus the peer ack delay, never on a resend', () => {
    const { sender: s, rtt } = sender();
    s.enqueue(1, bytes(1));
    s.takeNew(0);
    s.enqueue(2, bytes(1));
    s.takeNew(40);
    // Covers seq 0 (sent at 0) and seq 1 (sent at 40): one sample, from seq 1: 48 − 40 − 5 = 3.
    s.onAck(2, 0, 5, 48);
    expect(rtt.srtt).toBe(3);
    s.enqueue(3, bytes(1));
    s.takeNew(100);
    s.onAck(3, 0, 5, 120); // 20 − 5 = 15
    expect(rtt.srtt).toBe(3 * 0.875 + 15 * 0.125);
    // A fragment sent twice gives no sample (Karn).
    s.enqueue(4, bytes(1));
    s.takeNew(200);
    const before = rtt.srtt;
    s.takeRetransmissions(200 + rtt.rto);
    s.onAck(4, 0, 0, 200 + rtt.rto + 1);
    expect(rtt.srtt).toBe(before);
  });

  it('gives back every undelivered message when drained, and is empty after', () => {
    const { sender: s } = sender(1);
    for (let id = 1; id <= 3; id++) s.enqueue(id, bytes(10));
    s.takeNew(0);
    s.onAck(1, 0, 0, 5);
    expect(s.drainUndelivered()).toEqual([2, 3]);
    expect(s.pendingMessages).toBe(0);
    expect(s.queuedBytes).toBe(0);
    expect(s.nextDeadline()).toBeUndefined();
    expect(s.takeNew(6)).toEqual([]);
  });
  it('keeps messages beyond the window as their text until they go, in order, and drains them as undelivered', () => {
    const { sender: s } = sender(2);
    s.enqueue(1, bytes(1));
    s.enqueue(2, bytes(1));
    s.enqueue(3, 'drei ✓', 8);
    s.enqueue(4, bytes(2));
    expect(s.pendingMessages).toBe(4);
    expect(s.queuedBytes).toBe(12);
    expect(seqs(s.takeNew(0))).toEqual([0, 1]);
    s.onAck(2, 0, 0, 10);
    const next = s.takeNew(10);
    expect(next.map((f) => [f.seq, f.messageId, Buffer.from(f.payload).toString()])).toEqual([
      [2, 3, 'drei ✓'],
      [3, 4, 'aa'],
    ]);
    s.enqueue(5, 'fünf', 5);
    expect(s.drainUndelivered()).toEqual([3, 4, 5]);
    expect(s.pendingMessages).toBe(0);
    expect(s.queuedBytes).toBe(0);
  });
});

describe('ReliableSender against a receiver that says anything', () => {
  it('reports delivered only what the highest cumulative ack passed, in order, and every message exactly once in the end', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = seededRandom(seed);
      const pick = (n: number) => Math.floor(random() * n);
      const rtt = new RttEstimator(200, 10_000);
      const s = new ReliableSender(8, rtt);
      const lastSeq = new Map<number, number>(); // message id → seq of its last fragment
      const enqueued: number[] = [];
      const delivered: number[] = [];
      let highestAck = 0;
      let now = 0;
      const track = (
        fragments: readonly { seq: number; messageId: number; index: number; count: number }[],
      ) => {
        for (const f of fragments) if (f.index === f.count - 1) lastSeq.set(f.messageId, f.seq);
      };
      for (let step = 0; step < 300; step++) {
        now += pick(50);
        const what = pick(4);
        if (what === 0 && enqueued.length < 60) {
          const id = enqueued.length + 1;
          enqueued.push(id);
          s.enqueue(id, bytes(1 + pick(3 * MAX_FRAGMENT_BYTES)));
        } else if (what === 1) {
          track(s.takeNew(now));
          track(s.takeRetransmissions(now));
        } else {
          // Anything: behind, ahead, beyond what was sent, with any selective bits.
          const sent = Math.max(0, ...lastSeq.values()) + 1;
          const ack = pick(sent + 3);
          const progressed = s.onAck(ack, (random() * 2 ** 32) >>> 0, pick(20), now);
          if (s.delivered.length > 0 && !progressed) expect({ seed, step }).toBe('reported as progress');
          delivered.push(...s.delivered);
          highestAck = Math.max(highestAck, ack);
        }
        // Delivered: a prefix of what was sent, in order, each passed by the cumulative ack.
        const wrong =
          delivered.some((id, i) => id !== enqueued[i] || (lastSeq.get(id) ?? Infinity) >= highestAck) ||
          s.pendingMessages !== enqueued.length - delivered.length;
        if (wrong)
          expect({ seed, step, delivered, highestAck, pending: s.pendingMessages }).toBe('consistent');
      }
      expect([...delivered, ...s.drainUndelivered()], `seed ${seed}`).toEqual(enqueued);
    }
  });

  it('resends the flight at once when the path changed, its backoff forgotten; at most once a timeout, whoever asks', () => {
    const { sender: s, rtt } = sender();
    s.enqueue(1, bytes(1));
    s.enqueue(2, bytes(1));
    expect(seqs(s.takeNew(0))).toEqual([0, 1]);
    // The path is dead: three timeouts back the timer off to 8 RTOs.
    let at = 0;
    for (let i = 0; i < 3; i++) {
      at = s.nextDeadline() as number;
      s.takeRetransmissions(at);
    }
    expect((s.nextDeadline() as number) - at).toBe(Math.min(10_000, 8 * rtt.rto));
    s.pathChanged(at + 100);
    expect(s.nextDeadline()).toBe(at + 100);
    expect(seqs(s.takeRetransmissions(at + 100))).toEqual([0, 1]);
    // Asked again within a timeout (a peer's challenges, say), nothing more goes before the timer.
    const next = s.nextDeadline();
    s.pathChanged(at + 150);
    expect(s.nextDeadline()).toBe(next);
    expect(seqs(s.takeRetransmissions(at + 150))).toEqual([]);
    // Nothing in flight: nothing to resend.
    s.onAck(2, 0, 0, at + 200);
    s.pathChanged(at + 10_000);
    expect(s.nextDeadline()).toBeUndefined();
  });

  it('resends on a path change once until something is acknowledged: a peer challenging every timeout and acknowledging nothing gets the backed-off timer', () => {
    const { sender: s, rtt } = sender();
    for (let id = 1; id <= 3; id++) s.enqueue(id, bytes(1));
    expect(seqs(s.takeNew(0))).toEqual([0, 1, 2]);
    let at = s.nextDeadline() as number;
    s.takeRetransmissions(at);
    // The first path change: the whole flight at once.
    at += 10 * rtt.rto;
    s.pathChanged(at);
    expect(seqs(s.takeRetransmissions(at))).toEqual([0, 1, 2]);
    // Asked again before each backed-off timeout, nothing acknowledged meanwhile: the timer
    // stands, and sends its first fragment only, as for a silent peer.
    for (let i = 0; i < 3; i++) {
      const timer = s.nextDeadline() as number;
      s.pathChanged(timer - rtt.rto / 2);
      expect(s.nextDeadline()).toBe(timer);
      expect(seqs(s.takeRetransmissions(timer - rtt.rto / 2))).toEqual([]);
      expect(seqs(s.takeRetransmissions(timer))).toEqual([0]);
      at = timer;
    }
    // The first line acknowledged: the next path change resends the rest at once.
    s.onAck(1, 0, 0, at);
    at += rtt.rto;
    s.pathChanged(at);
    expect(s.nextDeadline()).toBe(at);
    expect(seqs(s.takeRetransmissions(at))).toEqual([1, 2]);
  });
});
