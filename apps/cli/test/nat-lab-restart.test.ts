/**
 * Programs killed and started again in the NAT lab (support/nat-lab.ts, lab/nat-lab.sh): a peer
 * behind a NAT killed with SIGKILL (nothing said, nothing saved on the way out) and started again
 * on the same port with the same home, mid-chat and mid-transfer; and the rendezvous killed and
 * started again on its address, its registrations gone. Each prints how long the way back took.
 * Skipped, saying why, without root, ip and iptables. Every wait is bounded.
 */
import { temporaryDirectory } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { eventsOf, labMissing, NatLab, randomFile, removeLabs, sha256, until } from './support/nat-lab.js';
import type { NetchatProcess } from './support/netchat-process.js';

if (labMissing)
  console.log(`[nat-lab-restart] skipped: ${labMissing} (needs root, iproute2 with tc, and iptables)`);

afterEach(removeLabs);

/** Heartbeats every second, the peer lost after three missed (3.5 s of silence). */
const FAST = ['--rendezvous', '10.200.0.1:3478', '--heartbeat-interval', '1', '--miss-limit', '3'];
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

/**
 * bob in home b taking every chat and file; `alice(port)` starts alice in home a (always the same
 * home, so the same key and unfinished transfers) asking bob by fingerprint, with `extra` flags.
 */
async function bobAndAlice(lab: NatLab) {
  await lab.rendezvous();
  const downloads = temporaryDirectory('nat-lab-dl-');
  const bob = lab.netchat('b', [
    ...FAST,
    '--json',
    '--yes',
    '--nick',
    'bob',
    '--accept-files',
    '--download-dir',
    downloads,
  ]);
  await bob.waitFor(/it sees you at 10\.200\.0\.3:\d+\./);
  const fingerprint = String(eventsOf(bob, 'listening')[0]?.fingerprint);
  const home = temporaryDirectory('nat-lab-alice-');
  const alice = (port = 0, extra: string[] = []) =>
    lab.netchat('a', [...FAST, '--json', '--nick', 'alice', '--connect', fingerprint, ...extra], home, port);
  return { bob, alice };
}

/** What bob printed since alice's first run was killed, as `type(reason)` words, for the log. */
const story = (bob: NetchatProcess, from: number) =>
  bob
    .events()
    .slice(from)
    .filter((e) => !/^(file_progress|heartbeat_)/.test(String(e.type)))
    .map((e) => `${e.type}${e.reason ? `(${e.reason})` : ''}`)
    .join(' ');

describe.skipIf(labMissing !== '')('NAT lab: programs killed and started again', () => {
  it('alice killed with SIGKILL mid-chat and started again on the same port behind her NAT: the chat opens again and lines go both ways', async () => {
    const lab = new NatLab('eim');
    const { bob, alice } = await bobAndAlice(lab);
    const first = alice();
    await first.waitForEvent('accepted', 15_000);
    first.type('before the kill');
    await bob.waitFor('"text":"before the kill"');
    const port = await first.port();
    const seen = bob.events().length;
    await first.kill('SIGKILL');

    const start = performance.now();
    const again = alice(port);
    // The same port: her NAT's mapping (still in its conntrack) carries her from the same public
    // address, so bob's channel meets a new handshake with the same key from the same address.
    await again.waitForEvent('accepted', 20_000);
    const reopened = seconds(start);
    again.type('after the restart');
    await bob.waitFor('"text":"after the restart"', 10_000);
    bob.type('welcome back');
    await again.waitFor('"text":"welcome back"', 10_000);
    again.endInput();
    expect(await again.exited, again.stdout + again.stderr).toBe(0);
    expect(eventsOf(bob, 'message').map((e) => e.text)).toEqual(['before the kill', 'after the restart']);
    expect(eventsOf(again, 'accepted')[0]).toMatchObject({
      peer: expect.stringMatching(/^10\.200\.0\.3:\d+$/),
    });
    console.log(
      `[nat-lab-restart] alice killed mid-chat, started again on port ${port}: chat open again after ${reopened} s; bob saw: ${story(bob, seen)}`,
    );
  }, 60_000);

  it('alice killed with SIGKILL mid-transfer and started again on the same port, her input ended: she offers the file again, bob resumes from what he held, and she exits 0', async () => {
    const lab = new NatLab('eim');
    lab.router('rate', 'a', '4mbit');
    const { bob, alice } = await bobAndAlice(lab);
    const file = randomFile(3_000_000);
    const first = alice(0, ['--send-file', file]);
    first.endInput();
    const held = () => Math.max(0, ...eventsOf(bob, 'file_progress').map((e) => Number(e.bytes)));
    await until(() => held() >= 800_000, 'bob to hold 800 kB', 20_000);
    const port = await first.port();
    const heldAtKill = held();
    const seen = bob.events().length;
    await first.kill('SIGKILL');

    const start = performance.now();
    const again = alice(port);
    again.endInput();
    expect(await again.exited, again.stdout + again.stderr).toBe(0);
    const took = seconds(start);
    await bob.waitForEvent('file_received', 10_000);
    const [received] = eventsOf(bob, 'file_received');
    expect(sha256(String(received?.path))).toBe(sha256(file));
    const offers = eventsOf(bob, 'file_offer');
    expect(offers).toHaveLength(2);
    expect(offers[1]).toMatchObject({ resuming: true, offerId: offers[0]?.offerId });
    const offset = Number(eventsOf(bob, 'file_accepted')[1]?.offset);
    // What bob had made durable when alice died is not sent again (he reports what he wrote).
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(3_000_000);
    console.log(
      `[nat-lab-restart] alice killed mid-transfer (bob reported ${heldAtKill} bytes), started again on port ${port}: resumed at ${offset}, file verified and alice exited 0 ${took} s after the restart; bob saw: ${story(bob, seen)}`,
    );
  }, 90_000);

  it('the rendezvous killed with SIGKILL and started again on its address: alice and bob register again by themselves, and alice finds bob by fingerprint', async () => {
    const lab = new NatLab('eim');
    const first = await lab.rendezvous();
    const common = ['--rendezvous', '10.200.0.1:3478', '--heartbeat-interval', '2', '--connect-timeout', '8'];
    const registered = /it sees you at 10\.200\.0\.\d+:\d+\./g;
    const alice = lab.netchat('a', ['--nick', 'alice', ...common]);
    const bob = lab.netchat('b', ['--nick', 'bob', '--yes', ...common]);
    await alice.waitFor(registered);
    await bob.waitFor(registered);
    await alice.waitFor('Start chat with? (IP Port): ');
    const fingerprint = /Your fingerprint: (\S+)/.exec(bob.stdout)?.[1] ?? '';
    expect(fingerprint).not.toBe('');

    await first.kill('SIGKILL');
    const start = performance.now();
    const second = await lab.rendezvous();
    await alice.waitFor(registered, 30_000, 2);
    const aliceBack = seconds(start);
    await bob.waitFor(registered, 30_000, 2);
    const bobBack = seconds(start);
    expect((await second.stats()).registrations).toBeGreaterThanOrEqual(2);

    const asked = performance.now();
    alice.type(fingerprint);
    await alice.waitFor(/Connected to 10\.200\.0\.3 \d+ \(bob\)\./, 15_000);
    const found = seconds(asked);
    alice.type('hello after the restart');
    await bob.waitFor(/alice: hello after the restart/, 10_000);
    console.log(
      `[nat-lab-restart] rendezvous restarted: alice registered again ${aliceBack} s after, bob ${bobBack} s after (heartbeats every 2 s); then found by fingerprint and the chat open in ${found} s`,
    );
  }, 90_000);
});
