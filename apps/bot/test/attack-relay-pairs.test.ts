/**
 * The attacker's test for the rendezvous's relay pairs (PROTOCOL.md Relay, Pairs: at most 16 a
 * client; a pair never used makes room after 10 s; in a full share, a pair its client did not ask
 * for makes room once it is 30 s old, relaying or not): 16 strangers, each registered with a key of its own, ask the bot to introduce them to
 * a victim that takes introductions from anyone, so the victim's 16 pairs are theirs. Then a
 * friend asks for the victim more than 10 s later: does its introduction carry a relay tag (a
 * friend behind a NAT that no punch gets through reaches the victim only through the relay)?
 * Against the real process, the strangers and the victim are the independent peer
 * (packages/core/test/interop, PROTOCOL.md alone). Measured: what the strangers sent the bot.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePacket, sealRelay } from '../../../packages/core/test/interop/index.mjs';
import { BotProcess } from './support/bot-process.js';
import { startRegistering } from './support/registered-strangers.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

type Server = { host: string; port: number };
const PAIRS_PER_CLIENT = 16;
/** A new pair's grace (PROTOCOL.md: introduced less than 10 s ago, never evicted), and a margin. */
const PAST_GRACE_MS = 10_500;
/** A pair's tenure in a full share (PROTOCOL.md: 30 s, relaying or not), and a margin. */
const PAST_TENURE_MS = 30_500;

/** An independent peer registered with the bot; `sent` counts its bytes to the bot. */
async function registered(
  server: Server,
  host: string,
  acceptFrom: 'anyone' | 'listed',
  meter = { sent: 0 },
) {
  const started = await startRegistering(server, {
    host,
    acceptFrom,
    toBot: (bytes) => {
      meter.sent += bytes;
    },
  });
  cleanup.push(() => started.peer.stop());
  expect(await started.client.whenRegistered(10_000)).toBe(true);
  return started;
}

/** 16 strangers take the victim's pairs; each relays one packet to it when `relay`. */
async function takeThePairs(relay: boolean) {
  const b = new BotProcess(['0', '--host', '127.0.0.1', '--rendezvous']);
  cleanup.push(() => b.kill());
  const server = { host: '127.0.0.1', port: await b.port() };
  const victim = await registered(server, '127.0.0.2', 'anyone');
  const meter = { sent: 0 };
  const strangers = [];
  // Each from an address of its own (the bot reads 5 requests a second from one host: from one,
  // the same takes about 7 s).
  for (let i = 0; i < PAIRS_PER_CLIENT; i++)
    strangers.push(await registered(server, `127.0.3.${i + 1}`, 'listed', meter));
  const tags = await Promise.all(strangers.map((s) => s.client.find(victim.peer.fingerprint)));
  const takenAt = performance.now();
  if (relay) {
    // One authentic relay packet each (a data packet for a channel the victim does not have:
    // it answers nothing), from a socket of the stranger's: the pair has relayed, so it stays.
    const socket = createSocket('udp4');
    cleanup.push(() => socket.close());
    await new Promise<void>((r) => socket.bind(0, '127.0.0.3', r));
    strangers.forEach((s, i) => {
      const mine = s.client.registered;
      if (!mine) throw new Error('not registered');
      const inner = encodePacket({
        type: 'data',
        receiverIndex: 7,
        counter: 0n,
        ciphertext: randomBytes(48),
      });
      const packet = sealRelay({
        from: mine.tag,
        to: tags[i]?.relayTag ?? 0,
        counter: 0,
        key: mine.relayKey,
        inner,
      });
      meter.sent += packet.length;
      socket.send(packet, server.port, server.host);
    });
  }
  // The pairs' grace, or their tenure, passes (a rule on the bot's clock: this wait is what is tested).
  const wait = relay ? PAST_TENURE_MS : PAST_GRACE_MS;
  await new Promise((r) => setTimeout(r, Math.max(0, takenAt + wait - performance.now())));
  const friend = await registered(server, '127.0.0.4', 'listed');
  const found = await friend.client.find(victim.peer.fingerprint);
  console.log(
    `[relay pairs] ${PAIRS_PER_CLIENT} strangers ${relay ? 'relaying one packet each' : 'only introduced'}: ` +
      `they sent the bot ${meter.sent} B in all; every stranger had a relay tag: ${tags.every((t) => t.relayTag !== 0)}; ` +
      `the friend's introduction ${found.relayTag !== 0 ? 'carries a relay tag' : 'carries no relay tag'}`,
  );
  expect(tags.every((t) => t.relayTag !== 0)).toBe(true);
  return found;
}

describe("strangers take a victim's 16 relay pairs", () => {
  it('introduced only: past the 10 s grace, a friend asking for the victim gets a relay tag (a stranger pair makes room)', async () => {
    const found = await takeThePairs(false);
    expect(found.relayTag).not.toBe(0);
  }, 60_000);

  // One relay packet a stranger every 120 s (16 × 96 bytes; 8 KB in all with the registrations)
  // used to make all 16 of the victim's pairs "in use", never evicted, so no one else's
  // introduction to the victim carried a relay tag for as long as the strangers went on. Now a
  // pair the victim did not ask for gives way to a new introduction once it is 30 s old.
  it('relaying one packet each: past 30 s, a friend asking for the victim still gets a relay tag', async () => {
    const found = await takeThePairs(true);
    expect(found.relayTag).not.toBe(0);
  }, 90_000);
});
