/**
 * The simulated path (link model, ACKing receiver, bulk sender) and the controllers on it, on
 * virtual time with small durations: each test is a few seconds of virtual time.
 */
import { describe, expect, it } from 'vitest';
import type { CongestionController, RttSource } from '../src/congestion/controller.js';
import { createController, DEFAULT_CONTROLLER } from '../src/congestion/controllers.js';
import { MINIMUM_WINDOW } from '../src/congestion/controller.js';
import { NewReno } from '../src/congestion/new-reno.js';
import { type AckDatagram, AckingReceiver, type DataDatagram } from './support/acking-receiver.js';
import { Link } from './support/link.js';
import { type FlowOptions, type PathOptions, PathSimulator } from './support/path-simulator.js';
import { seededU32 } from './support/random.js';

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
};
const byDefault = (seed: number) => (rtt: RttSource) =>
  createController(rtt, { kind: DEFAULT_CONTROLLER, randomU32: seededU32(seed) });
const newReno = (rtt: RttSource) => new NewReno(rtt);

describe('Link', () => {
  it('serializes at its rate, then delays, in order', () => {
    const link = new Link<number>({ bandwidth: 1_000_000, delay: 10, buffer: 10_000 });
    for (let i = 0; i < 3; i++) expect(link.send(0, 1_000, i)).toBe(true);
    expect(link.queueDelay(0)).toBe(3);
    expect(link.backlog(1.5)).toBe(1_500);
    expect(link.nextArrival()).toBe(11);
    expect(link.receive(10.9)).toBeUndefined();
    expect([link.receive(11), link.receive(12), link.receive(13)]).toEqual([0, 1, 2]);
    expect(link.nextArrival()).toBe(Number.POSITIVE_INFINITY);
    expect(link.stats.deliveredBytes).toBe(3_000);
  });

  it('drops at the tail when the buffer is full, and serves again once it drains', () => {
    const link = new Link<number>({ bandwidth: 1_000_000, delay: 1, buffer: 2_500 });
    expect(link.send(0, 1_000, 0)).toBe(true);
    expect(link.send(0, 1_000, 1)).toBe(true);
    expect(link.send(0, 1_000, 2)).toBe(false);
    expect(link.stats.droppedFull).toBe(1);
    expect(link.send(1, 1_000, 3)).toBe(true); // 1000 bytes left of the 2000 by then
  });

  it('loses at random at its rate, the same datagrams for the same seed', () => {
    const run = (seed: number) => {
      const link = new Link<number>({ bandwidth: 1e9, delay: 1, buffer: 1e9, loss: 0.1, seed });
      return Array.from({ length: 10_000 }, (_, i) => link.send(i, 100, i));
    };
    const a = run(5);
    expect(run(5)).toEqual(a);
    expect(run(6)).not.toEqual(a);
    const lost = a.filter((ok) => !ok).length;
    expect(lost).toBeGreaterThan(900);
    expect(lost).toBeLessThan(1_100);
  });
});

describe('AckingReceiver', () => {
  function receiver() {
    const reverse = new Link<AckDatagram | DataDatagram>({ bandwidth: 1e12, delay: 0, buffer: 1e12 });
    const acks: { ranges: number[]; ackDelay: number }[] = [];
    const r = new AckingReceiver(0, reverse, 10, 2);
    const collect = () => {
      for (let a = reverse.receive(1e12) as AckDatagram; a; a = reverse.receive(1e12) as AckDatagram)
        acks.push({ ranges: [...a.ranges.subarray(0, 2 * a.count)], ackDelay: a.ackDelay });
    };
    const data = (now: number, pn: number) => {
      r.onData(now, { flow: 0, pn, chunk: pn, bytes: 1200 });
      collect();
    };
    const timer = (now: number) => {
      r.onTimer(now);
      collect();
    };
    return { r, data, timer, acks };
  }

  it('acknowledges every second packet, or after max_ack_delay, and at once out of order', () => {
    const { r, data, timer, acks } = receiver();
    data(0, 0);
    expect(acks).toEqual([]);
    expect(r.ackDeadline).toBe(10);
    data(1, 1);
    expect(acks).toEqual([{ ranges: [0, 1], ackDelay: 0 }]);
    data(2, 2);
    timer(11.9);
    expect(acks).toHaveLength(1);
    timer(12);
    expect(acks.at(-1)).toEqual({ ranges: [0, 2], ackDelay: 10 });
    data(13, 5); // a gap: at once
    expect(acks.at(-1)).toEqual({ ranges: [5, 5, 0, 2], ackDelay: 0 });
    data(14, 3); // fills part of the hole: at once
    expect(acks.at(-1)?.ranges).toEqual([5, 5, 0, 3]);
    data(15, 4); // closes it
    expect(acks.at(-1)?.ranges).toEqual([0, 5]);
    data(16, 4); // a duplicate changes nothing and counts once
    expect(r.duplicates).toBe(1);
  });

  it('counts each chunk once in its goodput', () => {
    const { r, data } = receiver();
    data(0, 0);
    data(1, 2);
    data(2, 1);
    expect(r.bytesBetween(0, 100)).toBe(3 * 1200);
  });
});

describe('PathSimulator', () => {
  const path: PathOptions = { bitsPerSecond: 20e6, rtt: 40 }; // BDP 100 KB, buffer 100 KB

  it('NewReno fills a buffer of one BDP, loses there and halves, and keeps the link busy', () => {
    const sim = new PathSimulator(path, [{ controller: newReno }]);
    sim.run(8_000);
    const cc = sim.senders[0]?.controller as NewReno;
    expect(sim.forward.stats.droppedFull).toBeGreaterThan(0);
    expect(cc.ssthresh).toBeLessThan(Number.POSITIVE_INFINITY);
    expect(sim.goodput(0, 2_000, 8_000) / sim.bandwidth).toBeGreaterThan(0.9);
    // A chat line behind it waits for a good part of the buffer (40 ms when full).
    expect(percentile(sim.queueDelays, 0.95)).toBeGreaterThan(20);
  });

  it(`the default (${DEFAULT_CONTROLLER}) keeps the link busy with a short queue`, () => {
    const sim = new PathSimulator(path, [{ controller: byDefault(1) }]);
    sim.run(8_000);
    expect(sim.goodput(0, 2_000, 8_000) / sim.bandwidth).toBeGreaterThan(0.9);
    expect(percentile(sim.queueDelays, 0.95)).toBeLessThanOrEqual(25);
    expect(percentile(sim.queueDelays, 0.5)).toBeLessThan(5);
  });

  it('gives two flows of the default controller shares within 20 % of each other, the second started late', () => {
    const flows: FlowOptions[] = [{ controller: byDefault(2) }, { controller: byDefault(3), start: 2_000 }];
    const sim = new PathSimulator({ bitsPerSecond: 10e6, rtt: 20 }, flows);
    sim.run(30_000);
    const a = sim.goodput(0, 10_000, 30_000);
    const b = sim.goodput(1, 10_000, 30_000);
    expect(Math.min(a, b) / Math.max(a, b)).toBeGreaterThanOrEqual(0.8);
    expect((a + b) / sim.bandwidth).toBeGreaterThan(0.9);
  });

  it('is the same every run', () => {
    const run = () => {
      const sim = new PathSimulator({ ...path, loss: 0.01 }, [{ controller: byDefault(4) }]);
      sim.run(3_000);
      return { events: sim.events, goodput: sim.receivers[0]?.goodput, sent: sim.senders[0]?.datagramsSent };
    };
    expect(run()).toEqual(run());
  });

  it('survives a 2 s cut: probes, persistent congestion collapses the window, then it recovers', () => {
    const persistent: boolean[] = [];
    const windows: number[] = [];
    const spy = (rtt: RttSource): CongestionController => {
      const cc = new NewReno(rtt);
      const onCongestionEvent = cc.onCongestionEvent.bind(cc);
      cc.onCongestionEvent = (now, sentAt, isPersistent, lost) => {
        onCongestionEvent(now, sentAt, isPersistent, lost);
        persistent.push(isPersistent);
        windows.push(cc.window());
      };
      return cc;
    };
    const sim = new PathSimulator({ bitsPerSecond: 10e6, rtt: 20 }, [{ controller: spy }]);
    sim.run(3_000);
    sim.forward.options.loss = 1;
    sim.run(5_000);
    sim.forward.options.loss = 0;
    sim.run(9_000);
    expect(sim.senders[0]?.probes).toBeGreaterThan(0);
    expect(persistent).toContain(true);
    expect(windows[persistent.indexOf(true)]).toBe(MINIMUM_WINDOW);
    expect(sim.goodput(0, 7_000, 9_000) / sim.bandwidth).toBeGreaterThan(0.5);
  });
});
