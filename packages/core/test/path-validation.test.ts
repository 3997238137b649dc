/**
 * Path validation per address: candidate paths are kept per (channel, address), at most
 * MAX_PATH_CANDIDATES, each challenge good for PATH_CHALLENGE_TTL, at most one a second to each
 * address, and never more bytes to an unproven address than came from it. Datagrams are carried
 * by hand here, so each test says exactly which path each one took.
 */
import { describe, expect, it } from 'vitest';
import type { Address } from '../src/index.js';
import {
  MAX_PATH_CANDIDATES,
  PATH_CHALLENGE_INTERVAL,
  PATH_CHALLENGE_TTL,
  PATH_PACKET_BYTES,
} from '../src/secure/path-validation.js';
import { SecureNet } from './support/secure-net.js';

const message = (text: string) => new Uint8Array([0x4e, 0x43, ...new TextEncoder().encode(text)]);
/** A session message whose packet is longer than a challenge: it alone pays for one. */
const HELLO = message('hello from wherever I am');
const via = (port: number): Address => ({ host: '10.0.0.1', port });

function roamingPair() {
  const net = new SecureNet(3);
  const a = net.add('10.0.0.1', 1111);
  const b = net.add('10.0.0.2', 2222);
  const ca = a.transport.connect(b.address, 0);
  net.run(() => ca.isOpen && a.transport.nextTimeout() === undefined, 1_000);
  const cb = b.opened[0]?.channel;
  if (!cb) throw new Error('no channel');
  net.filter = () => false; // from here on, the test carries every datagram
  /** An authentic packet from a, arriving at b from `from`; returns the challenge b sent there, if any. */
  const arriveFrom = (from: Address, plaintext = HELLO) => {
    const before = b.sent.length;
    a.transport.send(ca, plaintext, net.now);
    net.inject(b, from, a.sent.at(-1)?.bytes as Uint8Array);
    return b.sent.slice(before).find((s) => s.to.port === from.port)?.bytes;
  };
  /** a answers a challenge (it reaches a the usual way); the answer arrives at b from `from`. */
  const answerFrom = (challenge: Uint8Array, from: Address) => {
    net.inject(a, b.address, challenge);
    net.inject(b, from, a.sent.at(-1)?.bytes as Uint8Array);
  };
  return { net, a, b, ca, cb, arriveFrom, answerFrom };
}

describe('path validation, per address', () => {
  it('a packet from a third address does not cancel a good response', () => {
    const { b, cb, arriveFrom, answerFrom } = roamingPair();
    const toX = arriveFrom(via(5001));
    const toY = arriveFrom(via(5002));
    expect(toX && toY).toBeTruthy();
    expect(cb.address).toEqual({ host: '10.0.0.1', port: 1111 }); // replies still go to the old address
    answerFrom(toX as Uint8Array, via(5001));
    expect(cb.address).toEqual(via(5001));
    expect(b.transport.stats.pathMoves).toBe(1);
    expect(b.messages).toHaveLength(2); // both packets were delivered all along
  });

  it('challenges each address at most once a second, whatever other addresses do', () => {
    const { net, arriveFrom } = roamingPair();
    const sent = [arriveFrom(via(5001)), arriveFrom(via(5002))];
    net.now += 100;
    sent.push(arriveFrom(via(5001)), arriveFrom(via(5002)));
    expect(sent.map(Boolean)).toEqual([true, true, false, false]);
    net.now += PATH_CHALLENGE_INTERVAL;
    expect(Boolean(arriveFrom(via(5001)))).toBe(true);
  });

  it('takes an answer that comes more than a second after its challenge (a new challenge does not replace it)', () => {
    const { net, cb, arriveFrom, answerFrom } = roamingPair();
    const toX = arriveFrom(via(5001)) as Uint8Array;
    net.now += PATH_CHALLENGE_INTERVAL + 500;
    answerFrom(toX, via(5001));
    expect(cb.address).toEqual(via(5001));
  });

  it(`keeps at most ${MAX_PATH_CANDIDATES} candidates: a fifth address replaces the one heard from longest ago`, () => {
    const { cb, arriveFrom, answerFrom } = roamingPair();
    const challenges = [5001, 5002, 5003, 5004, 5005].map((port) => arriveFrom(via(port)) as Uint8Array);
    expect(challenges.every(Boolean)).toBe(true);
    answerFrom(challenges[0] as Uint8Array, via(5001));
    expect(cb.address.port).toBe(1111);
    answerFrom(challenges[4] as Uint8Array, via(5005));
    expect(cb.address).toEqual(via(5005));
  });

  it(`ignores an answer that comes ${PATH_CHALLENGE_TTL / 1000} s or more after its challenge, or from another address`, () => {
    const { net, b, cb, arriveFrom, answerFrom } = roamingPair();
    const toX = arriveFrom(via(5001)) as Uint8Array;
    answerFrom(toX, via(5009)); // the right token from the wrong address
    expect(cb.address.port).toBe(1111);
    net.now += PATH_CHALLENGE_TTL;
    answerFrom(toX, via(5001));
    expect(cb.address.port).toBe(1111);
    expect(b.transport.stats.pathMoves).toBe(0);
    // A packet from there now is challenged afresh, and that answer moves the channel.
    answerFrom(arriveFrom(via(5001)) as Uint8Array, via(5001));
    expect(cb.address).toEqual(via(5001));
  });
});
describe('roaming follows only the newest packet (RFC 9000 §9.3)', () => {
  it('a straggler sent before the peer moved, overtaken by what it sent since, challenges nothing and moves nothing back', () => {
    const { net, a, b, ca, cb, answerFrom } = roamingPair();
    // a sends two packets: the first takes a slow path (say the relay), the second the new one.
    a.transport.send(ca, HELLO, net.now);
    const straggler = a.sent.at(-1)?.bytes as Uint8Array;
    a.transport.send(ca, HELLO, net.now);
    const newest = a.sent.at(-1)?.bytes as Uint8Array;
    let before = b.sent.length;
    net.inject(b, via(5001), newest);
    const toNew = b.sent.slice(before).find((s) => s.to.port === 5001)?.bytes as Uint8Array;
    expect(toNew).toBeTruthy();
    answerFrom(toNew, via(5001));
    expect(cb.address).toEqual(via(5001));
    // The straggler arrives later from the old address: its message is taken, nothing is challenged.
    net.now += PATH_CHALLENGE_INTERVAL;
    before = b.sent.length;
    net.inject(b, { host: '10.0.0.1', port: 1111 }, straggler);
    expect(b.sent.slice(before).filter((s) => s.to.port === 1111)).toHaveLength(0);
    expect(b.messages).toHaveLength(2);
    expect(cb.address).toEqual(via(5001));
    expect(b.transport.stats.pathMoves).toBe(1);
    // A new packet from there (the peer really went back) is challenged as ever.
    a.transport.send(ca, HELLO, net.now);
    before = b.sent.length;
    net.inject(b, { host: '10.0.0.1', port: 1111 }, a.sent.at(-1)?.bytes as Uint8Array);
    expect(b.sent.slice(before).some((s) => s.to.port === 1111)).toBe(true);
  });
});


describe('path validation never amplifies', () => {
  it(`a keepalive (32 bytes) alone does not pay for a ${PATH_PACKET_BYTES}-byte challenge; the next one from there does`, () => {
    const { net, b, arriveFrom, answerFrom, cb } = roamingPair();
    const keepalive = new Uint8Array(0);
    expect(arriveFrom(via(5001), keepalive)).toBeUndefined();
    net.now += 5_000; // the next keepalive, as a relayed peer probing a direct path sends them
    const challenge = arriveFrom(via(5001), keepalive);
    expect(challenge?.length).toBe(PATH_PACKET_BYTES);
    answerFrom(challenge as Uint8Array, via(5001));
    expect(cb.address).toEqual(via(5001));
    expect(b.transport.stats).toMatchObject({ pathChallengesSent: 1, pathMoves: 1 });
  });

  it('answers a challenge from an unproven address with the credit it brought, and challenges back only with more', () => {
    const { net, a, b, ca, cb } = roamingPair();
    const token = [1, 2, 3, 4, 5, 6, 7, 8];
    a.transport.send(ca, new Uint8Array([0x01, ...token]), net.now);
    const before = b.sent.length;
    net.inject(b, via(5001), a.sent.at(-1)?.bytes as Uint8Array);
    const toX = b.sent.slice(before).filter((s) => s.to.port === 5001);
    expect(toX).toHaveLength(1); // the answer, and no challenge of ours: 41 bytes came, 41 went
    net.inject(a, b.address, toX[0]?.bytes as Uint8Array);
    expect(a.messages).toHaveLength(0); // a path response is not a message
    expect(cb.address.port).toBe(1111);
    a.transport.send(ca, HELLO, net.now);
    net.inject(b, via(5001), a.sent.at(-1)?.bytes as Uint8Array);
    expect(b.sent.slice(before + 1).filter((s) => s.to.port === 5001)).toHaveLength(1); // now our challenge
  });

  it('challenges one host at most 10 times a second (burst 10), whatever the ports', () => {
    const { net, b, arriveFrom } = roamingPair();
    const victim = (port: number): Address => ({ host: '10.9.9.9', port });
    const challenges = (from: number) =>
      Array.from({ length: 100 }, (_, i) => arriveFrom(victim(from + i))).filter(Boolean).length;
    expect(challenges(10_000)).toBe(10);
    net.now += 1_000;
    expect(challenges(20_000)).toBe(10);
    expect(b.transport.stats.pathPacketsLimited).toBe(180);
    // Another host has a budget of its own.
    expect(Boolean(arriveFrom({ host: '10.9.9.10', port: 1 }))).toBe(true);
  });
});
