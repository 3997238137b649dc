/**
 * Path validation per address: challenges are kept per (channel, address), at most
 * MAX_PATH_CHALLENGES, each good for PATH_CHALLENGE_TTL, at most one a second to each address.
 * Datagrams are carried by hand here, so each test says exactly which path each one took.
 */
import { describe, expect, it } from 'vitest';
import type { Address } from '../src/index.js';
import {
  MAX_PATH_CHALLENGES,
  PATH_CHALLENGE_INTERVAL,
  PATH_CHALLENGE_TTL,
} from '../src/secure/path-validation.js';
import { SecureNet } from './support/secure-net.js';

const message = (text: string) => new Uint8Array([0x4e, 0x43, ...new TextEncoder().encode(text)]);
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
  const arriveFrom = (from: Address) => {
    const before = b.sent.length;
    a.transport.send(ca, message('hi'), net.now);
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

  it(`keeps at most ${MAX_PATH_CHALLENGES} outstanding: a fifth address replaces the oldest`, () => {
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
