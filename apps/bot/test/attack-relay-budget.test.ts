/**
 * The attacker's test for the bot's relay: a registered stranger (the independent peer of
 * packages/core/test/interop, written from PROTOCOL.md alone) is introduced to a registered
 * bystander, then sends relay packets as fast as it can: 2,000 sealed ones of 1,100 bytes to the
 * bystander (far beyond --relay-rate), 1,000 to tags nobody holds, and 1,000 with a MAC that does
 * not verify. Measured: the bytes the bot hands the bystander against the budget (--relay-rate
 * 65536 a second, bursts of two seconds' worth) and against what the attacker sent, the bot's
 * memory, and its relay counters.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePacket, sealRelay } from '../../../packages/core/test/interop/index.mjs';
import { BotProcess } from './support/bot-process.js';
import { registeredAttacker, registeredBystander } from './support/registered-strangers.js';
import { rssKiB, watchPeakRss } from './support/victim-measures.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const RATE = 65_536;

/** A `data` packet for the relay to carry (it checks only that a netchat packet is inside). */
const innerPacket = () =>
  encodePacket({ type: 'data', receiverIndex: 1, counter: 0n, ciphertext: randomBytes(1100 - 16) });

describe('a stranger floods the relay toward a peer it was introduced to', () => {
  it('2,000 sealed packets to the bystander, 1,000 to no one, 1,000 forged: the bystander gets no more than the budget', async () => {
    const b = new BotProcess(['0', '--host', '127.0.0.1', '--rendezvous', '--relay-rate', String(RATE)]);
    cleanup.push(() => b.kill());
    const port = await b.port();
    const server = { host: '127.0.0.1', port };
    const pid = b.child.pid ?? 0;

    const watched = await registeredBystander(server);
    const bystander = watched.peer;
    cleanup.push(() => bystander.stop());
    const stranger = await registeredAttacker(server);
    const attacker = stranger.peer;
    cleanup.push(() => attacker.stop());
    const client = stranger.client;
    expect(await watched.client.whenRegistered(10_000)).toBe(true);
    expect(await client.whenRegistered(10_000)).toBe(true);
    const introduction = await client.find(bystander.fingerprint);
    const registered = client.registered;
    if (!registered) throw new Error('not registered');

    const before = rssKiB(pid);
    const peak = watchPeakRss(pid);
    const bystanderBefore = watched.bytes();
    const attackerBefore = stranger.bytes();
    const started = performance.now();
    // The client's own sender (its socket, its registered address), with our inner packets.
    const send = (inner: Uint8Array, tag: number) =>
      (client as unknown as { sendRelayed(inner: Uint8Array, to: { port: number }): void }).sendRelayed(
        inner,
        {
          port: tag,
        },
      );
    for (let i = 0; i < 2000; i++) {
      send(innerPacket(), introduction.relayTag);
      send(innerPacket(), (introduction.relayTag + 1 + i) >>> 0 || 1); // tags no one holds
      if (i % 2 === 0) {
        // Forged: a MAC under another key, straight from the attacker's socket.
        const forged = sealRelay({
          from: registered.tag,
          to: introduction.relayTag,
          counter: 1_000_000 + i,
          key: randomBytes(32),
          inner: innerPacket(),
        });
        (
          attacker as unknown as { socket: { send(b: Uint8Array, port: number, host: string): void } }
        ).socket.send(forged, port, '127.0.0.1');
        stranger.add(forged.length);
      }
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (performance.now() - started) / 1000;
    // The bot's counters say when it has judged them all (it logs them at shutdown).
    b.kill('SIGTERM');
    const [summary] = await b.waitForLogs((l) => l.event === 'summary');
    const peakKiB = peak.stop();
    const counters = (summary as { rendezvous: Record<string, number> }).rendezvous;
    const inBytes = stranger.bytes() - attackerBefore;
    const outBytes = watched.bytes() - bystanderBefore;
    // The budget: two seconds' worth at once, then RATE a second (both ways counted per peer).
    const budget = 2 * RATE + RATE * (seconds + 1);
    console.log(
      `relay flood: attacker sent ${inBytes} B in ${seconds.toFixed(2)} s; bystander got ${outBytes} B ` +
        `(budget ${budget.toFixed(0)} B; x${(outBytes / inBytes).toFixed(3)} of what came in); ` +
        `bot RSS ${before} KiB before, ${peakKiB} KiB peak; rendezvous ${JSON.stringify(counters)}`,
    );
    expect(outBytes).toBeLessThanOrEqual(budget);
    expect(outBytes).toBeGreaterThan(0); // the relay works: the budget's worth went
    expect(counters.relayForged).toBeGreaterThan(0);
    expect(counters.relayUnpaired).toBeGreaterThan(0);
    expect(counters.relayOverBudget).toBeGreaterThan(0);
    expect(peakKiB - before).toBeLessThan(32 * 1024);
  }, 90_000);
});
