/**
 * The attacker's test for the per-host handshake limit and relayed peers. Under load (here a
 * flood of inits from forged sources, as anyone can send) a responder answers an init without a
 * valid cookie with a cookie, and lets a host's cookie'd inits through at 5 a second (bursts of
 * 10); and each address's inits at 10 a second. Every peer that comes through a rendezvous's
 * relay has the virtual host `relay` (a port of its own for its tag): counted by host, a stranger
 * with 10 keys, each introduced to the responder (10 relay tags), asking for handshakes faster than
 * that took every relayed friend's turn for as long as the load lasted.
 *
 * The secure layer alone on virtual time (SecureTransports, test/support/secure-net.ts); the
 * relayed peers are nodes at `relay` addresses, as the endpoint sees them.
 */
import { describe, expect, it } from 'vitest';
import { encodePacket, relayAddress } from '../src/index.js';
import { seededBytes } from './support/random.js';
import { SecureNet } from './support/secure-net.js';

/** The forged flood: inits a millisecond (3,000 a second, past the 2,000 that make load). */
const FLOOD_PER_MS = 3;
/** How long the flood, the stranger and the friend's wait last (ms). */
const FLOOD_MS = 10_000;
/** Each of the stranger's relay tags asks for a new handshake this often (ms): 10 a second, about 1.5 KB/s. */
const STRANGER_EVERY_MS = 100;
/** The stranger's keys introduced to the responder, so its relay tags (a client's share of relay pairs is 16). */
const TAGS = Array.from({ length: 10 }, (_, i) => 100 + i);
/** The loop's step (ms): one tag asks at each, in turn. */
const STEP_MS = STRANGER_EVERY_MS / TAGS.length;

describe('a relayed stranger and the per-host handshake limit under load', () => {
  it(`${TAGS.length} tags asking ${1000 / STRANGER_EVERY_MS} handshakes a second each during a flood: a relayed friend (another tag) still gets in; each tag within its own budget`, () => {
    const net = new SecureNet(31);
    const b = net.add('10.0.0.2', 2222);
    const strangers = TAGS.map((tag) => net.add(relayAddress(tag).host, relayAddress(tag).port));
    const friend = net.add(relayAddress(8).host, relayAddress(8).port);
    const noise = seededBytes(31);
    let forgedSent = 0;
    const flood = (ms: number) => {
      for (let t = 0; t < ms; t++) {
        for (let k = 0; k < FLOOD_PER_MS; k++) {
          const i = forgedSent++;
          const from = { host: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, port: 4444 };
          const init = {
            type: 'handshake_init',
            senderIndex: i + 1,
            cookie: new Uint8Array(16),
            noise: noise(32),
          };
          net.inject(b, from, encodePacket(init as Parameters<typeof encodePacket>[0]));
        }
        net.run(() => false, net.now + 1);
      }
    };
    flood(1_000);
    let strangerAsked = 0;
    let friendChannel: ReturnType<typeof friend.transport.connect> | undefined;
    let friendIn: number | undefined;
    let friendAsked = 0;
    for (let step = 0; step * STEP_MS < FLOOD_MS; step++) {
      strangers[step % strangers.length]?.transport.connect(b.address, net.now);
      strangerAsked++;
      if (friendChannel === undefined && step * STEP_MS >= 1_000) {
        friendChannel = friend.transport.connect(b.address, net.now);
        friendAsked = net.now;
      }
      flood(STEP_MS);
      const id = friendChannel?.id;
      if (friendIn === undefined && id !== undefined && friend.transport.channel(id)?.isOpen)
        friendIn = net.now;
    }
    const opened = (tag: number) => b.opened.filter((o) => o.channel.address.port === tag).length;
    const strangerOpened = TAGS.map(opened);
    console.log(
      `under a flood of ${forgedSent} forged inits: the stranger's ${strangerAsked} handshakes, ` +
        `${strangerOpened.join(' + ')} completed; the relayed friend ${friendIn === undefined ? 'never got in' : `got in after ${friendIn - friendAsked} ms`}; ` +
        `rate limited: ${b.transport.stats.handshakesRateLimited}`,
    );
    expect(b.transport.stats.cookiesSent).toBeGreaterThan(0); // under load
    // Each tag is held to one host's budget: 5 a second and a burst of 10.
    for (const n of strangerOpened) expect(n).toBeLessThanOrEqual(10 + (5 * FLOOD_MS) / 1000);
    expect(friendIn).toBeDefined();
    expect((friendIn ?? Number.POSITIVE_INFINITY) - friendAsked).toBeLessThan(5_000);
  });
});
