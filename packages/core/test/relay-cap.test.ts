/**
 * A path capped at a rate (Endpoint.setPathRateLimit): what the relay's per-pair budget needs
 * (PROTOCOL.md, Pacing: rate cap). Through a relay-like budget (a token bucket of bytes that
 * drops what it cannot pay for), an uncapped stream loses packet after packet against it; a
 * stream capped at the budget is paced to it, loses next to nothing, and the chat still gets
 * through.
 */
import { describe, expect, it } from 'vitest';
import { NetchatError } from '../src/index.js';
import { RelayBudget, ShapedLinks } from './support/shaped-links.js';
import { listen, pattern, StreamReader, StreamWriter, streamPair } from './support/stream-apps.js';

const BUDGET = 64 * 1024;
const BURST = 128 * 1024;

/** a sends b a stream through a relay budget (a → b), for `seconds`; what got through, and what was dropped. */
function throughRelay(cap: number | undefined, seconds = 30) {
  const pair = streamPair();
  const { net, a, b, sa, sb } = pair;
  const links = new ShapedLinks();
  const budget = links.route(a.address.host, b.address.host, new RelayBudget(BUDGET, BURST, 20));
  links.route(b.address.host, a.address.host, new RelayBudget(BUDGET, BURST, 20));
  links.install(net);
  if (cap !== undefined) a.endpoint.setPathRateLimit(b.address, cap);
  const reader = new StreamReader(net, b, sb);
  const stream = a.endpoint.openStream(sa, net.now);
  new StreamWriter(net, a, sa, stream, pattern(10_000_000));
  const chat: number[] = [];
  const sentAt = new Map<string, number>();
  listen(net, (node, e) => {
    if (node === b && e.type === 'message') chat.push(net.now - (sentAt.get(e.text) as number));
  });
  const start = net.now;
  for (let i = 0; i < seconds; i++) {
    net.runFor(1_000);
    sentAt.set(`line ${i}`, net.now);
    a.endpoint.send(sa, `line ${i}`, net.now);
  }
  net.runFor(2_000);
  return {
    budget,
    goodput: (reader.bytesRead * 1000) / (net.now - start),
    chat,
    info: a.endpoint.pathInfo(b.address),
  };
}

describe('a path capped at a relay budget', () => {
  it('paces a stream to the budget instead of losing packets against it', () => {
    const uncapped = throughRelay(undefined);
    // The relay's bucket adds 8 bytes to each datagram: the cap leaves room for them.
    const capped = throughRelay((BUDGET * 1200) / 1208);
    const lossShare = (r: typeof capped) => r.budget.stats.dropped / r.budget.stats.sent;
    expect(lossShare(uncapped)).toBeGreaterThan(0.05);
    expect(lossShare(capped)).toBeLessThan(0.005);
    // Nearly all of the budget carries stream bytes (1139 of each 1208 relayed).
    expect(capped.goodput).toBeGreaterThan(0.85 * BUDGET);
    expect(capped.info?.rateLimit).toBeCloseTo((BUDGET * 1200) / 1208);
    expect(capped.info?.pacingRate).toBeLessThanOrEqual((BUDGET * 1200) / 1208);
    // Every chat line got through within a second, behind the stream.
    expect(capped.chat).toHaveLength(30);
    expect(Math.max(...capped.chat)).toBeLessThan(1_000);
  });

  it('applies to the address it names, and is lifted when the channel moves elsewhere', () => {
    const { net, a, b, sa, sb } = streamPair();
    a.endpoint.setPathRateLimit(b.address, 10_000);
    const reader = new StreamReader(net, b, sb);
    const stream = a.endpoint.openStream(sa, net.now);
    new StreamWriter(net, a, sa, stream, pattern(3_000_000));
    net.runFor(2_000);
    expect(a.endpoint.pathInfo(b.address)?.pacingRate).toBeLessThanOrEqual(10_000);
    const slow = reader.bytesRead;
    expect(slow).toBeLessThan(30_000);
    // b moves (as a relayed chat that found a direct path): the cap was for the old address.
    const moved = net.rebind(b, 3333);
    net.runFor(3_000);
    expect(a.endpoint.session(sa)?.peer).toEqual(moved);
    expect(a.endpoint.pathInfo(moved)?.rateLimit).toBeUndefined();
    expect(reader.bytesRead - slow).toBeGreaterThan(1_000_000);
  });

  it('refuses a rate that is not a positive number, and lifts with undefined', () => {
    const { a, b } = streamPair();
    for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => a.endpoint.setPathRateLimit(b.address, bad)).toThrow(NetchatError);
    a.endpoint.setPathRateLimit(b.address, 5_000);
    a.endpoint.setPathRateLimit(b.address, undefined);
  });
});
