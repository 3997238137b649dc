import { describe, expect, it } from 'vitest';
import type { Text } from '../src/index.js';
import { ReliableReceiver } from '../src/session/reliable-receiver.js';
import { textFragment } from '../src/testing/fragments.js';

const fragment = (seq: number, body: string, index = 0, count = 1): Text =>
  textFragment(1, seq, body, index, count);
const texts = (r: ReliableReceiver) => r.completed.map((b) => new TextDecoder().decode(b));

describe('ReliableReceiver', () => {
  it('delivers in-order fragments at once and reassembles a message cut in three', () => {
    const r = new ReliableReceiver(128, 1_000);
    expect(r.receive(fragment(0, 'hello'), 0)).toBe('in_order');
    expect(texts(r)).toEqual(['hello']);
    expect(r.receive(fragment(1, 'a', 0, 3), 1)).toBe('in_order');
    expect(r.receive(fragment(2, 'b', 1, 3), 2)).toBe('in_order');
    expect(texts(r)).toEqual([]);
    expect(r.receive(fragment(3, 'c', 2, 3), 3)).toBe('in_order');
    expect(texts(r)).toEqual(['abc']);
    expect(r.unacknowledged).toBe(4);
  });

  it('holds early fragments and releases everything in order when the gap fills', () => {
    const r = new ReliableReceiver(128, 1_000);
    expect(r.receive(fragment(2, 'third'), 0)).toBe('out_of_order');
    expect(r.receive(fragment(1, 'second'), 0)).toBe('out_of_order');
    expect(texts(r)).toEqual([]);
    expect(r.ackFields(0)).toMatchObject({ ack: 0, sack: 0b11 });
    expect(r.receive(fragment(0, 'first'), 0)).toBe('out_of_order'); // fills a gap: ack at once
    expect(texts(r)).toEqual(['first', 'second', 'third']);
    expect(r.ackFields(0)).toMatchObject({ ack: 3, sack: 0 });
  });

  it('calls a repeat a duplicate, whether delivered or still held early', () => {
    const r = new ReliableReceiver(128, 1_000);
    r.receive(fragment(0, 'x'), 0);
    r.receive(fragment(5, 'y'), 0);
    expect(r.receive(fragment(0, 'x'), 1)).toBe('duplicate');
    expect(r.receive(fragment(5, 'y'), 1)).toBe('duplicate');
    expect(r.has(0) && r.has(5) && !r.has(1)).toBe(true);
    expect(r.unacknowledged).toBe(2);
  });

  it('takes 128 fragments in total from the next expected, and refuses the 129th', () => {
    const r = new ReliableReceiver(128, 1_000);
    r.receive(fragment(0, 'a'), 0); // next expected: 1
    expect(r.receive(fragment(1 + 128, 'too far'), 0)).toBe('out_of_window');
    expect(r.receive(fragment(1 + 127, 'just in'), 0)).toBe('out_of_order');
    expect(r.unacknowledged).toBe(2); // the refused one is not waiting for an acknowledgement
    expect(r.has(129)).toBe(false);
  });

  it('reports the ack delay from the arrival of the newest fragment the ack covers', () => {
    const r = new ReliableReceiver(128, 1_000);
    r.receive(fragment(0, 'a'), 100);
    expect(r.ackFields(104)).toEqual({ ack: 1, sack: 0, ackDelayMs: 4 });
    r.receive(fragment(3, 'd'), 110); // sack bit 1
    r.receive(fragment(2, 'c'), 120); // sack bit 0, arrived later but is not the newest covered
    expect(r.ackFields(125)).toEqual({ ack: 1, sack: 0b11, ackDelayMs: 15 });
    r.receive(fragment(1, 'b'), 130);
    // Everything up to 3 is in: the newest covered (3) arrived at 110.
    expect(r.ackFields(131)).toEqual({ ack: 4, sack: 0, ackDelayMs: 21 });
  });

  it('starts a new message at index 0 even inside a partial one, dropping the partial once', () => {
    const r = new ReliableReceiver(128, 1_000);
    r.receive(fragment(0, 'part ', 0, 3), 0);
    r.receive(fragment(1, 'whole', 0, 1), 0);
    expect(r.problem).toBe('fragment 0 where 1 was expected');
    expect(texts(r)).toEqual(['whole']);
  });

  it('after a broken message skips its remaining fragments without more errors, up to the next index 0', () => {
    const r = new ReliableReceiver(128, 1_000);
    r.receive(fragment(0, 'mid', 1, 3), 0);
    expect(r.problem).toBe('fragment 1 where 0 was expected');
    r.receive(fragment(1, 'end', 2, 3), 0);
    expect(r.problem).toBeUndefined();
    expect(texts(r)).toEqual([]);
    r.receive(fragment(2, 'next', 0, 1), 0);
    expect(texts(r)).toEqual(['next']);
  });

  it('drops a message longer than the maximum, and one whose fragment count changes', () => {
    const r = new ReliableReceiver(128, 8);
    r.receive(fragment(0, '12345', 0, 2), 0);
    r.receive(fragment(1, '67890', 1, 2), 0);
    expect(r.problem).toBe('message longer than 8 bytes');
    r.receive(fragment(2, 'ab', 0, 2), 0);
    r.receive(fragment(3, 'cd', 1, 3), 0);
    expect(r.problem).toBe('fragment count changed from 2 to 3');
    r.receive(fragment(4, 'ok', 0, 1), 0);
    expect(texts(r)).toEqual(['ok']);
  });

  it('keeps delivering what waited behind a bad fragment', () => {
    const r = new ReliableReceiver(128, 1_000);
    r.receive(fragment(1, 'after'), 0);
    r.receive(fragment(0, 'bad', 1, 2), 0);
    expect(r.problem).toBe('fragment 1 where 0 was expected');
    expect(texts(r)).toEqual(['after']);
  });
});
