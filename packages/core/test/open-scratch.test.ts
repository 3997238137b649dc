/**
 * The data path opens every packet into one scratch array and uses stream data from there (its
 * payload is copied into its stream at once); anything else may be kept, so it gets a copy of
 * its own (secure/data-path.ts). These tests would catch a message that is kept while it still
 * points into the scratch: the next packet opened would overwrite it.
 */
import { describe, expect, it } from 'vitest';
import { type Address, Endpoint, type NetchatEvent, type Transmit } from '../src/index.js';

const A: Address = { host: '127.0.0.1', port: 1 };
const B: Address = { host: '127.0.0.1', port: 2 };

/** Two endpoints with streams, an open session between them, and a way to move their datagrams by hand. */
function openPair() {
  const a = new Endpoint({ streams: true });
  const b = new Endpoint({ streams: true });
  const events = new Map<Endpoint, NetchatEvent[]>([
    [a, []],
    [b, []],
  ]);
  let now = 0;
  const drain = (from: Endpoint): Transmit[] => {
    const out: Transmit[] = [];
    for (let t = from.pollTransmit(); t; t = from.pollTransmit()) out.push(t);
    return out;
  };
  const poll = (endpoint: Endpoint) => {
    for (let e = endpoint.pollEvent(); e; e = endpoint.pollEvent()) {
      events.get(endpoint)?.push(e);
      if (e.type === 'request') endpoint.accept(e.session, now);
    }
  };
  /** One round: each side's datagrams to the other, then the timers due. */
  const step = () => {
    poll(a);
    poll(b);
    for (const t of drain(a)) b.handleDatagram(t.data, A, now);
    for (const t of drain(b)) a.handleDatagram(t.data, B, now);
    now += 1;
    for (const endpoint of [a, b]) {
      const at = endpoint.nextTimeout();
      if (at !== undefined && at <= now) endpoint.handleTimeout(now);
    }
  };
  const sa = a.connect(B, now);
  for (let i = 0; i < 200 && !events.get(a)?.some((e) => e.type === 'accepted'); i++) step();
  const sb = events.get(b)?.find((e) => e.type === 'request')?.session;
  if (sb === undefined) throw new Error('no session');
  return { a, b, sa, sb, events, drain, step, poll, now: () => now };
}

describe('packets opened into the scratch', () => {
  it('a text held out of order survives the stream data opened after it', () => {
    const { a, b, sa, sb, events, drain, step, poll, now } = openPair();
    const stream = a.openStream(sa, now());
    const data = new Uint8Array(60_000).map((_, i) => (i * 7 + 3) & 0xff);
    a.writeStream(sa, stream, data, now());
    const text = Array.from({ length: 300 }, (_, i) => `line ${i}.`).join(' ');
    a.send(sa, text, now());
    const sent = drain(a);
    const fragments = sent.filter((t) => t.message?.type === 'text');
    const others = sent.filter((t) => t.message?.type !== 'text');
    expect(fragments.length).toBeGreaterThan(2);
    expect(others.length).toBeGreaterThan(5);
    // Every fragment but the first is held out of order, stream data is opened after them, then the first completes the text.
    const [first, ...rest] = fragments;
    for (const t of [...rest.reverse(), ...others, first as Transmit]) b.handleDatagram(t.data, A, now());
    poll(b);
    const read: Uint8Array[] = [];
    for (let i = 0; i < 2_000 && read.reduce((n, r) => n + r.length, 0) < data.length; i++) {
      step();
      const take = () => b.readStream(sb, stream, 1 << 20, now());
      for (let r = take(); r.length > 0; r = take()) read.push(r);
    }
    const messages = events.get(b)?.filter((e) => e.type === 'message') ?? [];
    expect(messages.map((e) => (e.type === 'message' ? e.text : ''))).toEqual([text]);
    expect(Buffer.concat(read).equals(Buffer.from(data))).toBe(true);
  });
});
