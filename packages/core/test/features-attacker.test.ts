/**
 * The attacker's test for `features` (session/features.ts): a stranger netchat let in (the
 * independent peer, PROTOCOL.md alone) sends 2,000 `features` on its open session, every one
 * asking (flag `ask`) and each saying the opposite of the one before (streams and files on, then
 * off), then `features` with bytes after its last field, up to a whole message's 1,168. Measured:
 * the bytes netchat sends for the bytes it is sent (amplification), the answers, the events
 * its application is told, and that no answer is itself answered (an exchange that never ends).
 * Netchat's Endpoint and the independent peer on one virtual clock.
 */
import { describe, expect, it } from 'vitest';
import type { NetchatEvent } from '../src/index.js';
import { encodeSessionMessage } from './interop/index.mjs';
import { NETCHAT, World } from './interop/world.js';

const FLOOD = 2_000;
const STREAMS_AND_FILES = 1 | 2;
const ASK = 1;

function openStrangersSession(w: World) {
  const ps = w.independent.connect(NETCHAT.host, NETCHAT.port);
  w.runUntilTrue(() => w.netchatOf('request').length > 0, 5000);
  const ns = (w.netchatOf('request')[0] as NetchatEvent).session;
  w.onNetchat((e, now) => e.accept(ns, now));
  w.runUntilTrue(() => w.independentOf('accepted').length > 0, 5000);
  const session = w.independent.session(ps);
  if (!session) throw new Error('no session');
  return session;
}

describe('a stranger let in sends features without end', () => {
  it('2,000 asking features, flipping: one answer each and no more bytes than came; no answer is asked back', () => {
    const w = new World({ streams: true }, { streams: true });
    const session = openStrangersSession(w);
    // Let the open's own exchange settle, then count.
    w.runUntil(w.now + 2_000);
    let bytesIn = 0;
    let bytesOut = 0;
    w.filter = (toIndependent, data) => {
      if (toIndependent) bytesOut += data.length;
      else bytesIn += data.length;
      return true;
    };
    const answersBefore = w.heardOf('features').length;
    const eventsBefore = w.netchatOf('features').length;
    for (let i = 0; i < FLOOD; i++) {
      w.independent.sendMessage(session.channel, {
        type: 'features',
        session: session.wireId,
        features: i % 2 === 0 ? 0 : STREAMS_AND_FILES,
        flags: ASK,
        streamWindow: i % 2 === 0 ? 0 : 262_144,
        maxStreams: i % 2 === 0 ? 0 : 8,
      });
      w.runUntil(w.now + 1);
    }
    w.runUntil(w.now + 1_000);
    const answers = w.heardOf('features').slice(answersBefore);
    const events = w.netchatOf('features').length - eventsBefore;
    console.log(
      `${FLOOD} asking features: netchat received ${bytesIn} B, sent ${bytesOut} B ` +
        `(${(bytesOut / bytesIn).toFixed(2)} a byte), ${answers.length} answers, ${events} features events`,
    );
    // One answer an ask, never more, and each answer asks nothing (no exchange that goes on).
    expect(answers.length).toBe(FLOOD);
    expect(answers.every((a) => a.message.flags === 0)).toBe(true);
    // An answer is the size of the ask: netchat sends no more than it is sent (its acks of the
    // stranger's heartbeats included).
    expect(bytesOut).toBeLessThanOrEqual(bytesIn * 1.05);
    // Each flip is told (the peer's features changed), nothing more.
    expect(events).toBeLessThanOrEqual(FLOOD);
    // The session lives on.
    expect(w.independent.session(session.handle)?.state).toBe('open');
  });

  it('features with bytes after its last field, up to 1,168: malformed, dropped, counted, never answered', () => {
    const w = new World({ streams: true }, { streams: true });
    const session = openStrangersSession(w);
    w.runUntil(w.now + 2_000);
    const answersBefore = w.heardOf('features').length;
    const malformedBefore = w.netchat.stats.malformed;
    const message = encodeSessionMessage({
      type: 'features',
      session: session.wireId,
      features: STREAMS_AND_FILES,
      flags: ASK,
      streamWindow: 262_144,
      maxStreams: 8,
    });
    const sizes = [message.length + 1, 600, 1168];
    for (const size of sizes) {
      const huge = new Uint8Array(size);
      huge.set(message);
      huge.fill(0xff, message.length);
      session.channel.send(huge, w.independent.now());
      w.runUntil(w.now + 10);
    }
    w.runUntil(w.now + 1_000);
    expect(w.netchat.stats.malformed - malformedBefore).toBe(sizes.length);
    expect(w.heardOf('features').length).toBe(answersBefore);
    expect(w.independent.session(session.handle)?.state).toBe('open');
  });
});
