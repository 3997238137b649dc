/**
 * The attacker's test for the bot as a rendezvous: a registered stranger (the independent peer
 * of packages/core/test/interop, written from PROTOCOL.md alone) asks to be introduced to 2,000
 * random fingerprints and, 300 times, to one registered bystander; meanwhile 150 more strangers
 * register and hold their registrations (the table's limit is 100). Measured: the bytes the bot
 * sends the bystander against the bytes the attacker sent (introductions must not turn the bot
 * into an amplifier toward a registered peer), the bot's memory, its counters, and whether an
 * honest pair still finds each other.
 */
import { randomBytes } from 'node:crypto';
import { fingerprint, NetchatPeer, RendezvousLink } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { IndependentPeer, RendezvousClient } from '../../../packages/core/test/interop/index.mjs';
import { BotProcess } from './support/bot-process.js';
import { registeredAttacker, registeredBystander } from './support/registered-strangers.js';
import { rssKiB, watchPeakRss } from './support/victim-measures.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A random fingerprint in the text form `find` takes (base32 of 32 random bytes, in groups of 4). */
function randomFingerprint(): string {
  return fingerprint(randomBytes(32));
}

describe('a registered stranger asks the rendezvous for introductions by the thousand', () => {
  it('2,000 random fingerprints, 300 asks for one bystander, 150 registrations past the limit: no amplification, memory bounded, an honest pair still meets', async () => {
    const b = new BotProcess(['0', '--host', '127.0.0.1', '--rendezvous', '--max-registrations', '100']);
    cleanup.push(() => b.kill());
    const port = await b.port();
    const server = { host: '127.0.0.1', port };
    const pid = b.child.pid ?? 0;

    // The bystander: registered, introduced to anyone (one that takes introductions from nobody
    // is never named to a requester: the bot refuses those asks), counts what the bot sends it.
    const watched = await registeredBystander(server);
    const bystander = watched.peer;
    cleanup.push(() => bystander.stop());
    expect(await watched.client.whenRegistered(10_000)).toBe(true);

    // The attacker, its bytes to the bot counted.
    const stranger = await registeredAttacker(server, 'listed');
    const attacker = stranger.peer;
    cleanup.push(() => attacker.stop());
    const client = stranger.client;
    expect(await client.whenRegistered(10_000)).toBe(true);
    const before = rssKiB(pid);
    const peak = watchPeakRss(pid);
    const bystanderBefore = watched.bytes();
    const attackerBefore = stranger.bytes();

    const asks: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) asks.push(client.find(bystander.fingerprint).catch((e: Error) => e));
    for (let i = 0; i < 2000; i++) asks.push(client.find(randomFingerprint()).catch((e: Error) => e));
    // 150 strangers register too (the table holds 100).
    const registrants: IndependentPeer[] = [];
    for (let i = 0; i < 150; i++) {
      const r = await IndependentPeer.listen({ host: '127.0.0.1' });
      cleanup.push(() => r.stop());
      r.rendezvous = new RendezvousClient(r, { server, acceptFrom: 'listed', listedKeys: [] });
      r.rendezvous.start();
      registrants.push(r);
    }
    const answers = await Promise.all(asks);
    const registered = await Promise.all(registrants.map((r) => r.rendezvous?.whenRegistered(5_000)));
    const peakKiB = peak.stop();

    // An honest pair still finds each other.
    const honest = await Promise.all(
      ['ana', 'bo'].map(async (nick) => {
        const p = await NetchatPeer.listen({ port: 0, host: '127.0.0.2', nick });
        cleanup.push(() => p.close(100));
        const link = new RendezvousLink(p, { server, acceptFrom: 'anyone', listedKeys: [] });
        return { peer: p, link };
      }),
    );
    const [ana, bo] = honest as [(typeof honest)[0], (typeof honest)[0]];
    // From another host: the strangers' per-host rate limit is not theirs.
    const anaIn = await b.whileRunning(ana.link.whenRegistered(10_000));
    const boIn = await b.whileRunning(bo.link.whenRegistered(10_000));
    const met = await b.whileRunning(ana.link.find(fingerprint(bo.peer.publicKey)));
    expect(met).toEqual(bo.peer.address);

    const inBytes = stranger.bytes() - attackerBefore;
    const outBytes = watched.bytes() - bystanderBefore;
    const found = answers.filter((a) => !(a instanceof Error)).length;
    b.kill('SIGTERM');
    const [summary] = await b.waitForLogs((l) => l.event === 'summary');
    const counters = (summary as { rendezvous: Record<string, number> }).rendezvous;
    console.log(
      `introductions: attacker sent ${inBytes} B, bystander got ${outBytes} B (x${(outBytes / inBytes).toFixed(3)}); ` +
        `${found} of 2,300 asks answered; ${registered.filter(Boolean).length} of 150 registered; honest pair registered: ${anaIn}, ${boIn}; ` +
        `bot RSS ${before} KiB before, ${peakKiB} KiB peak; rendezvous ${JSON.stringify(counters)}`,
    );
    // The bystander was introduced (the service works) but got fewer bytes than the attacker sent.
    expect(counters.introductions).toBeGreaterThan(0);
    expect(outBytes).toBeGreaterThan(0);
    expect(outBytes).toBeLessThan(inBytes);
    expect(registered.filter(Boolean).length).toBeLessThanOrEqual(100 - 2);
    expect(peakKiB - before).toBeLessThan(32 * 1024);
    expect(b.stderr).not.toMatch(/uncaught|Error/i);
  }, 120_000);
});
