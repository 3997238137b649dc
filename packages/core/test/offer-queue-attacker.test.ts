/**
 * The offer queue (files/offer-queue.ts), attacked by a hostile receiver that answers each offer
 * the moment it arrives: `too_many_offers` to every one (and so to every retry), `too_many_offers`
 * to all but a plain `declined` to every other one (each real answer wakes the offers waiting on
 * a busy peer at once), or `accept` and then never a `want`. Alice offers 72 (8 go, 64 wait, the
 * 73rd is refused at once). Bounded: each offer goes 1 + 8 times at most and ends declined by
 * 121 s of backoff; what waits stays within 64; no busy loop (the engine's ticks and calls, and
 * datagrams, per minute). Virtual time, an engine and a raw files peer on an open session.
 */
import { describe, expect, it } from 'vitest';
import { type FileRecord, OFFER_QUEUE, TRANSFER_LIMITS } from '../src/index.js';
import { engineAndRaw } from './support/file-peers.js';
import { listen } from './support/stream-apps.js';

const MINUTES = 4;
const OFFERS = TRANSFER_LIMITS.maxPendingOffersPerSession + OFFER_QUEUE.maxWaiting;

type Answer = (n: number, offer: Uint8Array) => FileRecord | undefined;

function attack(answer: Answer, seed: number) {
  const h = engineAndRaw(seed, 'a');
  const alice = h.engine;
  // The engine's work: every tick and every event handed to it.
  let ticks = 0;
  let handled = 0;
  const tick = alice.engine.tick.bind(alice.engine);
  alice.engine.tick = (now) => {
    ticks++;
    tick(now);
  };
  const handle = alice.engine.handle.bind(alice.engine);
  alice.engine.handle = (event, now) => {
    handled++;
    return handle(event, now);
  };
  // The raw peer answers each offer as soon as it has read it.
  let answered = 0;
  listen(h.net, (from) => {
    if (from !== h.b) return;
    const offers = h.raw.of('offer');
    for (; answered < offers.length; answered++) {
      const record = answer(answered, (offers[answered] as { offer: Uint8Array }).offer);
      if (record) h.raw.say(record);
    }
  });
  const ids: number[] = [];
  let refused = 0;
  for (let i = 0; i < OFFERS + 1; i++) {
    try {
      ids.push(alice.offer(h.sa, { [`f${i}.txt`]: new TextEncoder().encode(`file ${i}`) }));
    } catch {
      refused++;
    }
  }
  const start = h.net.now;
  let mostWaiting = 0;
  for (let step = 0; step < MINUTES * 60; step++) {
    h.net.runFor(1_000);
    const queued = alice.engine.list().filter((t) => t.state === 'queued').length;
    mostWaiting = Math.max(mostWaiting, queued);
  }
  const minutes = (h.net.now - start) / 60_000;
  const datagramsOut = h.a.sent.length;
  const bytesOut = h.a.sent.reduce((n, d) => n + d.data.length, 0);
  const bytesIn = h.b.sent.reduce((n, d) => n + d.data.length, 0);
  return { h, alice, ids, refused, ticks, handled, minutes, datagramsOut, bytesOut, bytesIn, mostWaiting };
}

function report(what: string, r: ReturnType<typeof attack>): void {
  const per = (n: number) => (n / r.minutes).toFixed(0);
  const states = new Map<string, number>();
  for (const t of r.alice.engine.list()) states.set(t.state, (states.get(t.state) ?? 0) + 1);
  console.log(
    `[offer queue] ${what}: ${r.h.raw.of('offer').length} offers came over ${r.minutes} min, ${r.mostWaiting} waiting at most; per minute ${per(r.ticks)} engine ticks, ${per(r.handled)} events handled, ${per(r.datagramsOut)} datagrams (${per(r.bytesOut)} bytes) out; ${r.bytesIn} bytes in, ${r.bytesOut} out; ends ${JSON.stringify(Object.fromEntries(states))}`,
  );
}

/** Every offer ended declined (the engine keeps the last TRANSFER_LIMITS.maxEndedKept ended ones to show). */
function expectAllDeclined(r: ReturnType<typeof attack>): void {
  for (const id of r.ids) expect(r.alice.engine.transfer(id)?.state ?? 'declined').toBe('declined');
  expect(r.alice.engine.list().length).toBeLessThanOrEqual(TRANSFER_LIMITS.maxEndedKept);
  expect(r.alice.engine.list().every((t) => t.state === 'declined')).toBe(true);
}

const busy = (offer: Uint8Array): FileRecord => ({ type: 'decline', offer, reason: 'too_many_offers' });

describe('the offer queue, attacked by its receiver', () => {
  it('too_many_offers to every offer and every retry, at once: 9 tries each at most, all declined after the backoff, no busy loop', () => {
    const r = attack((_, offer) => busy(offer), 11);
    report('every offer declined busy at once', r);
    expect(r.refused).toBe(1);
    expect(r.h.raw.of('offer').length).toBeLessThanOrEqual(OFFERS * (1 + OFFER_QUEUE.retries));
    expect(r.mostWaiting).toBeLessThanOrEqual(OFFERS);
    expectAllDeclined(r);
    expect(r.alice.engine.nextDeadline()).toBeUndefined();
    // A busy loop would tick thousands of times a second; a tick per backoff and answer is all.
    expect(r.ticks / r.minutes).toBeLessThan(2_000);
    expect(r.datagramsOut / r.minutes).toBeLessThan(2_000);
  });

  it('too_many_offers to all but a plain decline to every other one, at once (each answer wakes the waiting): 9 tries each at most', () => {
    const r = attack(
      (n, offer) => (n % 2 === 0 ? busy(offer) : { type: 'decline', offer, reason: 'declined' }),
      12,
    );
    report('busy and declined by turns', r);
    expect(r.h.raw.of('offer').length).toBeLessThanOrEqual(OFFERS * (1 + OFFER_QUEUE.retries));
    expectAllDeclined(r);
    expect(r.alice.engine.nextDeadline()).toBeUndefined();
    expect(r.ticks / r.minutes).toBeLessThan(2_000);
    expect(r.datagramsOut / r.minutes).toBeLessThan(2_000);
  });

  it('every offer accepted at once and never a want: each goes once, nothing waits on time, the engine idle', () => {
    const r = attack((_, offer) => ({ type: 'accept', offer, held: 0 }), 13);
    report('every offer accepted, never wanted', r);
    expect(r.h.raw.of('offer')).toHaveLength(OFFERS);
    // They stay accepted while the chat lasts: the sender has no timeout for a want that never
    // comes (the user's own offers only, each sent once; reported, not a queue matter).
    expect(r.alice.engine.list().filter((t) => t.state === 'accepted')).toHaveLength(OFFERS);
    expect(r.mostWaiting).toBeLessThanOrEqual(OFFER_QUEUE.maxWaiting);
    expect(r.ticks / r.minutes).toBeLessThan(2_000);
    expect(r.datagramsOut / r.minutes).toBeLessThan(2_000);
  });
});
