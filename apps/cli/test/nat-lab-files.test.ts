/**
 * Files through the NAT lab (support/nat-lab.ts, lab/nat-lab.sh): alice in home a sends with
 * `--connect FINGERPRINT --send-file`, bob in home b takes it with `--accept-files --json`;
 * directly behind endpoint-independent NATs, through the relay behind port-randomising ones, and
 * with 5 % of the router's datagrams lost. Skipped, saying why, without root, ip and iptables.
 * Every wait is for a line the programs print, bounded; only the lab's own addresses are used.
 */
import { temporaryDirectory } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventsOf,
  labMissing,
  NatLab,
  type NatMode,
  randomFile,
  receivingBob,
  removeLabs,
  sha256,
  until,
} from './support/nat-lab.js';
import type { NetchatProcess } from './support/netchat-process.js';

if (labMissing)
  console.log(`[nat-lab-files] skipped: ${labMissing} (needs root, iproute2 with tc, and iptables)`);

afterEach(removeLabs);

/** Registered with the lab's rendezvous; heartbeats every 2 s unless a test needs a peer lost sooner. */
const rendezvousArgs = (heartbeat = '2') => [
  '--rendezvous',
  '10.200.0.1:3478',
  '--heartbeat-interval',
  heartbeat,
  '--connect-timeout',
  '8',
];
const RENDEZVOUS = rendezvousArgs();

/** bob in home b: registered (with `common`), taking every chat and file into a new folder; his fingerprint. */
const receiver = (lab: NatLab, common = RENDEZVOUS) => receivingBob(lab, [...common, '--json']);

interface SenderOptions {
  /** Registration and heartbeat flags (RENDEZVOUS unless a test needs a peer lost sooner). */
  common?: string[];
  /** false: she prints what a person reads. */
  json?: boolean;
  /** Her NETCHAT_HOME, to start her again with the same key and unfinished transfers. */
  home?: string;
}

/** alice in home a asks for `fingerprint` and, with `files`, offers them once the chat opens. */
function sender(
  lab: NatLab,
  fingerprint: string,
  files: string[],
  options: SenderOptions = {},
): NetchatProcess {
  const { common = RENDEZVOUS, json = true, home } = options;
  const offers = files.flatMap((file) => ['--send-file', file]);
  const args = [
    '--nick',
    'alice',
    ...common,
    ...(json ? ['--json'] : []),
    '--connect',
    fingerprint,
    ...offers,
  ];
  return lab.netchat('a', args, home);
}

/**
 * Heartbeats every second, the peer lost after three missed: 3.5 s of silence, so a test that
 * restores a cut at the first miss (1.5 s) has two seconds to spare on a loaded machine.
 */
const FAST = [...rendezvousArgs('1'), '--miss-limit', '3'];

/**
 * A lab whose home a is shaped to 4 Mbit/s (so a 3 MB file takes seconds, and a test can act
 * mid-transfer), and bob with FAST heartbeats; `held(transfer)`: the bytes bob last reported.
 */
async function slowReceiver() {
  const lab = new NatLab('eim');
  await lab.rendezvous();
  lab.router('rate', 'a', '4mbit');
  const { bob, fingerprint } = await receiver(lab, FAST);
  const held = (transfer: number) =>
    Math.max(
      0,
      ...bob
        .events()
        .filter((e) => e.type === 'file_progress' && e.transfer === transfer)
        .map((e) => Number(e.bytes)),
    );
  return { lab, bob, fingerprint, held };
}

/** Sends `file` from a to b in a new lab of `mode`; returns both and what b received. */
async function sendThrough(mode: NatMode, size: number, relayBytesPerSecond?: number, json = true) {
  const lab = new NatLab(mode);
  const rendezvous = await lab.rendezvous('', relayBytesPerSecond);
  const { bob, downloads, fingerprint } = await receiver(lab);
  const file = randomFile(size);
  const start = performance.now();
  const alice = sender(lab, fingerprint, [file], { json });
  alice.endInput();
  const code = await alice.exited;
  const seconds = (performance.now() - start) / 1000;
  await bob.waitForEvent('file_received', 10_000);
  const [received] = eventsOf(bob, 'file_received');
  return { lab, rendezvous, alice, bob, file, downloads, received, code, seconds };
}

/**
 * alice (her own home) sends 3 MB to bob through the shaped lab; once bob holds 800 kB her router
 * drops everything until both sides have lost the other (alice, whose chat ended, exits 4), then
 * forwards again. `heldAtLoss`: what bob last reported holding.
 */
async function cutPastLiveness() {
  const { lab, bob, fingerprint, held } = await slowReceiver();
  const file = randomFile(3_000_000);
  const home = temporaryDirectory('nat-lab-alice-');
  const alice = sender(lab, fingerprint, [file], { common: FAST, home });
  alice.endInput();
  await until(() => held(1) >= 800_000, 'bob to hold 800 kB', 20_000);
  lab.router('cut', 'a');
  // The liveness limit (3 x 1 s + 0.5 s) passes on both sides: each reports the peer lost.
  expect(await alice.exited, alice.stdout + alice.stderr).toBe(4);
  await bob.waitForEvent('lost', 10_000);
  const heldAtLoss = held(1);
  lab.router('restore', 'a');
  return { lab, bob, alice, fingerprint, file, home, heldAtLoss };
}

describe.skipIf(labMissing !== '')('NAT lab: files', () => {
  it('behind endpoint-independent NATs a 3 MB file goes directly, arrives verified, and the sender exits 0', async () => {
    const { rendezvous, alice, bob, file, received, code, seconds } = await sendThrough('eim', 3_000_000);
    expect(code, alice.stdout + alice.stderr).toBe(0);
    expect(received).toMatchObject({ size: 3_000_000 });
    expect(sha256(String(received?.path))).toBe(sha256(file));
    expect(eventsOf(bob, 'file_accepted')[0]).toMatchObject({ offset: 0 });
    // Direct: bob's chat is with alice's router's public address, and the relay carried nothing.
    expect(bob.events().find((e) => e.type === 'connected' || e.type === 'request')).toMatchObject({
      peer: expect.stringMatching(/^10\.200\.0\.2:\d+$/),
    });
    expect((await rendezvous.stats()).relayed).toBe(0);
    console.log(
      `[nat-lab-files] direct: 3 MB sent and verified in ${seconds.toFixed(1)} s (connect included)`,
    );
  }, 60_000);

  it('behind port-randomising NATs a 2 MB file goes through the relay, arrives verified, and the sender says it is relayed and why slower', async () => {
    const relayRate = 1024 * 1024;
    const { rendezvous, alice, bob, file, received, code, seconds } = await sendThrough(
      'random',
      2_000_000,
      relayRate,
      false,
    );
    expect(code, alice.stdout + alice.stderr).toBe(0);
    expect(sha256(String(received?.path))).toBe(sha256(file));
    // What alice (a person, no --json) reads: the chat is relayed, and the transfer is slower for it.
    expect(alice.stdout).toContain('Relayed through the rendezvous: no direct path opened');
    expect(alice.stdout).toContain(
      'This chat goes through the rendezvous relay (no direct path between you): the transfer is limited to the relay budget its operator set, so it is slower.',
    );
    // bob's --json says relayed by the chat's address (relay:N), and on the transfer's offer and accept.
    expect(eventsOf(bob, 'request')[0]).toMatchObject({ peer: expect.stringMatching(/^relay:\d+$/) });
    expect(eventsOf(bob, 'file_offer')[0]).toMatchObject({ relayed: true });
    expect(eventsOf(bob, 'file_accepted')[0]).toMatchObject({ relayed: true });
    const stats = await rendezvous.stats();
    expect(stats.relayedBytes).toBeGreaterThan(2_000_000);
    expect(stats.plaintextSeen).toBe(0);
    console.log(
      `[nat-lab-files] relayed: 2 MB sent and verified in ${seconds.toFixed(1)} s (connect included, 3 s of it waiting for a direct path) at a relay budget of 1 MiB/s; the relay forwarded ${stats.relayedBytes} bytes`,
    );
  }, 60_000);

  it("with 5 % of alice's router's datagrams dropped both ways, 40 chat lines arrive in order and a 2 MB file arrives verified", async () => {
    const lab = new NatLab('eim');
    await lab.rendezvous();
    const { bob, fingerprint } = await receiver(lab);
    const file = randomFile(2_000_000);
    const alice = sender(lab, fingerprint, [file]);
    await alice.waitForEvent('accepted', 30_000);
    // The loss starts once the chat is open. From the start it also hit the `features` bob sends
    // with his accept (1 time in 20): alice then took him for text only and offered nothing
    // (file_not_offered, exit 4) although the protocol's `ask` brings his features a round trip
    // later. FileLink now waits for that answer before refusing an offer (core's
    // file-link-features-lost.test.ts); this test keeps the loss for the transfer itself.
    lab.router('loss', 'a', '0.05');
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1} of 40 through a lossy NAT`);
    for (const line of lines) alice.type(line);
    alice.endInput();
    // Exit 0: every line confirmed delivered and the file received and verified.
    expect(await alice.exited, alice.stdout + alice.stderr).toBe(0);
    await bob.waitForEvent('file_received', 10_000);
    const [received] = eventsOf(bob, 'file_received');
    expect(sha256(String(received?.path))).toBe(sha256(file));
    expect(eventsOf(bob, 'message').map((e) => e.text)).toEqual(lines);
    const dropped = /(\d+)\s+\d+\s+DROP/.exec(lab.forwardRules('a'))?.[1];
    expect(Number(dropped)).toBeGreaterThan(0); // the loss was real
    console.log(
      `[nat-lab-files] 5 % loss: 40 lines in order and 2 MB verified; the router dropped ${dropped} datagrams`,
    );
  }, 60_000);

  it('a link cut shorter than the liveness limit (restored at the first missed heartbeat): the transfer goes on by itself, nothing lost', async () => {
    const { lab, bob, fingerprint, held } = await slowReceiver();
    const file = randomFile(3_000_000);
    const alice = sender(lab, fingerprint, [file], { common: FAST });
    alice.endInput();
    await until(() => held(1) >= 800_000, 'bob to hold 800 kB', 20_000);
    lab.router('cut', 'a');
    await alice.waitForEvent('heartbeat_missed', 10_000);
    lab.router('restore', 'a');
    expect(await alice.exited, alice.stdout + alice.stderr).toBe(0);
    await bob.waitForEvent('file_received', 10_000);
    expect(sha256(String(eventsOf(bob, 'file_received')[0]?.path))).toBe(sha256(file));
    expect(eventsOf(bob, 'lost')).toEqual([]);
    expect(eventsOf(bob, 'file_accepted')).toHaveLength(1);
  }, 60_000);

  it('a link cut longer than the liveness limit: both sides report the peer lost and the transfer interrupted; alice started again re-offers by herself and bob resumes from what he held', async () => {
    const { lab, bob, alice, fingerprint, file, home, heldAtLoss } = await cutPastLiveness();
    for (const side of [alice, bob])
      expect(eventsOf(side, 'file_failed')[0]).toMatchObject({ reason: 'interrupted', resumable: true });
    expect(alice.stderr).toContain(
      'Transfer 1 interrupted (the chat ended): it is offered again when the chat with this peer opens.',
    );
    expect(eventsOf(alice, 'lost')).toHaveLength(1);

    // alice again, same home, no --send-file: the open chat alone brings the offer back.
    const again = sender(lab, fingerprint, [], { common: FAST, home });
    await bob.waitForEvent('file_received', 30_000);
    again.endInput();
    expect(await again.exited, again.stdout + again.stderr).toBe(0);
    const [reoffer] = eventsOf(bob, 'file_offer').slice(1);
    expect(reoffer).toMatchObject({ resuming: true, offerId: eventsOf(bob, 'file_offer')[0]?.offerId });
    const offset = Number(eventsOf(bob, 'file_accepted')[1]?.offset);
    // bob kept (made durable) at least everything he had reported holding: nothing of it comes twice.
    expect(offset).toBeGreaterThanOrEqual(heldAtLoss);
    expect(offset).toBeLessThan(3_000_000);
    const [received] = eventsOf(bob, 'file_received');
    expect(sha256(String(received?.path))).toBe(sha256(file));
    console.log(
      `[nat-lab-files] cut past the liveness limit: bob reported ${heldAtLoss} bytes held at the loss; the re-offer resumed at ${offset}; ${Number(received?.size) - offset} bytes sent in the second chat`,
    );
  }, 60_000);

  // alice started again as a script whose input has already ended (`--connect FINGERPRINT <
  // /dev/null`): the chat opens, she makes the interrupted offer again by herself, waits for it as
  // for a --send-file, and exits 0 once bob has the file (4 had it not arrived). Before, she closed
  // the chat at once, never re-offered, said nothing of it, and exited 0.
  it('alice started again with her input already ended: exit 0 only if the unfinished file then arrived', async () => {
    const { lab, bob, fingerprint, home, file } = await cutPastLiveness();
    const again = sender(lab, fingerprint, [], { common: FAST, home });
    again.endInput();
    const code = await again.exited;
    const received = eventsOf(bob, 'file_received').length === 1;
    expect({ code, received }).toEqual({ code: 0, received: true });
    const [got] = eventsOf(bob, 'file_received');
    expect(sha256(String(got?.path))).toBe(sha256(file));
  }, 60_000);
});
