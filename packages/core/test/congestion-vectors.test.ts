/** PROTOCOL.md's congestion-control vectors: NewReno with RFC 9002 loss detection, replayed. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LossDetection } from '../src/congestion/loss-detection.js';
import { NewReno } from '../src/congestion/new-reno.js';
import { RttEstimator } from '../src/session/rtt-estimator.js';

const protocol = readFileSync(new URL('../../../PROTOCOL.md', import.meta.url), 'utf8');
const blocks = [...protocol.matchAll(/```congestion\n([\s\S]*?)```/g)].map((m) =>
  (m[1] ?? '')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>),
);

/** The path as PROTOCOL.md describes it: its RTT estimate bounded to [1 ms, 60 s]. */
function replay(events: Record<string, unknown>[]): void {
  const rtt = new RttEstimator(1, 60_000);
  const cc = new NewReno(rtt);
  const loss = new LossDetection(rtt, cc);
  for (const [index, event] of events.entries()) {
    const at = event.at as number;
    let acked: number[] = [];
    let lost: number[] = [];
    if (typeof event.send === 'number') {
      for (let i = 0; i < event.send; i++) loss.onPacketSent(at, 1200);
    } else if (Array.isArray(event.ack)) {
      const ranges = event.ack as [number, number][];
      expect(loss.onAckReceived(at, ranges.flat(), ranges.length, 0)).toBeGreaterThanOrEqual(0);
      acked = [...loss.acked];
      lost = [...loss.lost];
    } else if (typeof event.timeout === 'string') {
      expect(loss.onTimeout(at), `event ${index}`).toBe(event.timeout);
      lost = [...loss.lost];
    } else throw new Error(`unknown event ${JSON.stringify(event)}`);
    const state: Record<string, unknown> = {
      acked,
      lost,
      window: cc.window(),
      ssthresh: Number.isFinite(cc.ssthresh) ? cc.ssthresh : null,
      inFlight: loss.bytesInFlight,
      deadline: loss.deadline ?? null,
      srtt: rtt.srtt,
      pto: rtt.rto,
    };
    for (const key of Object.keys(event).filter((k) => !['at', 'send', 'ack', 'timeout'].includes(k)))
      expect(state[key], `event ${index} (${JSON.stringify(event)}): ${key}`).toEqual(event[key]);
    if (!('acked' in event)) expect(acked, `event ${index}: acked`).toEqual([]);
  }
}

describe('PROTOCOL.md congestion vectors', () => {
  it('has the vectors', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it.each(blocks.map((events, i) => [i, events] as const))('block %i replays', (_i, events) =>
    replay(events),
  );
});
