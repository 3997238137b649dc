/**
 * A laptop carried to another network mid-transfer, in the NAT lab (support/nat-lab.ts,
 * lab/nat-lab.sh `move`): alice's namespace is unplugged from home a (router 10.200.0.2) and
 * plugged into home c (router 10.200.0.4), numbered the same, so her program keeps its address
 * and socket and the world sees her at a new public address, from a new router whose NAT has
 * never seen her. Directly between two homes (bob's port-restricted NAT lets nothing in from the
 * new address until he sends to it: both ask the rendezvous where the other is now) and through
 * the relay (the rendezvous follows her). Skipped, saying why, without root, ip and iptables.
 * Every wait is bounded.
 */
import { temporaryDirectory } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventsOf,
  hasConntrack,
  labMissing,
  NatLab,
  type NatMode,
  randomFile,
  removeLabs,
  sha256,
  until,
} from './support/nat-lab.js';

if (labMissing)
  console.log(`[nat-lab-move] skipped: ${labMissing} (needs root, iproute2 with tc, and iptables)`);

afterEach(removeLabs);

const FAST = ['--rendezvous', '10.200.0.1:3478', '--heartbeat-interval', '1', '--miss-limit', '3', '--json'];

/**
 * alice in home a sends bob (home b) 3 MB and one chat line; once bob holds 800 kB her laptop
 * moves to home c and she types a second line. Direct (eim, bob's router shaped to 4 Mbit/s so
 * the file lasts) or relayed (random, the relay's budget 1 MiB/s).
 */
async function moveMidTransfer(mode: NatMode) {
  const lab = new NatLab(mode);
  const rendezvous = await lab.rendezvous('', mode === 'random' ? 1024 * 1024 : undefined);
  if (mode === 'eim') lab.router('rate', 'b', '4mbit');
  const downloads = temporaryDirectory('nat-lab-dl-');
  const bob = lab.netchat('b', [
    ...FAST,
    '--yes',
    '--nick',
    'bob',
    '--accept-files',
    '--download-dir',
    downloads,
  ]);
  await bob.waitFor(/it sees you at 10\.200\.0\.3:\d+\./);
  const fingerprint = String(eventsOf(bob, 'listening')[0]?.fingerprint);
  const file = randomFile(3_000_000);
  const alice = lab.netchat('a', [...FAST, '--nick', 'alice', '--connect', fingerprint, '--send-file', file]);
  await alice.waitForEvent('accepted', 20_000);
  alice.type('from home a');
  const held = () => Math.max(0, ...eventsOf(bob, 'file_progress').map((e) => Number(e.bytes)));
  await until(() => held() >= 800_000, 'bob to hold 800 kB', 20_000);
  const heldAtMove = held();
  lab.moveLaptop();
  const moved = performance.now();
  alice.type('from home c');
  alice.endInput();
  await bob.waitFor('"text":"from home c"', 20_000);
  const lineAfter = (performance.now() - moved) / 1000;
  await until(() => held() > heldAtMove + 100_000, 'the file to move again', 20_000);
  const fileAfter = (performance.now() - moved) / 1000;
  const code = await alice.exited;
  await bob.waitForEvent('file_received', 20_000);
  const total = (performance.now() - moved) / 1000;
  return { lab, rendezvous, alice, bob, file, code, heldAtMove, lineAfter, fileAfter, total };
}

describe.skipIf(labMissing !== '')('NAT lab: a laptop moves to another network', () => {
  it('directly between two homes: after the move the file goes on once, verified, and chat lines still arrive', async () => {
    const { alice, bob, file, code, heldAtMove, lineAfter, fileAfter, total } = await moveMidTransfer('eim');
    expect(eventsOf(alice, 'accepted')[0]).toMatchObject({
      peer: expect.stringMatching(/^10\.200\.0\.3:\d+$/),
    });
    expect(code, alice.stdout + alice.stderr).toBe(0);
    expect(sha256(String(eventsOf(bob, 'file_received')[0]?.path))).toBe(sha256(file));
    expect(eventsOf(bob, 'file_accepted')).toHaveLength(1);
    expect(eventsOf(bob, 'message').map((e) => e.text)).toEqual(['from home a', 'from home c']);
    expect([...eventsOf(alice, 'lost'), ...eventsOf(bob, 'lost')]).toEqual([]);
    // bob's side of the chat now names alice's new router.
    const last = bob
      .events()
      .map((e) => e.peer)
      .filter((p) => typeof p === 'string')
      .at(-1);
    expect(last).toMatch(/^10\.200\.0\.4:\d+$/);
    console.log(
      `[nat-lab-move] direct: moved at ${heldAtMove} bytes; the line typed after it arrived in ${lineAfter.toFixed(1)} s, the file moved again in ${fileAfter.toFixed(1)} s, verified ${total.toFixed(1)} s after the move`,
    );
  }, 90_000);

  it('through the relay (port-randomising NATs): after the move the file goes on once, verified, and chat lines still arrive', async () => {
    const { lab, rendezvous, alice, bob, file, code, heldAtMove, lineAfter, fileAfter, total } =
      await moveMidTransfer('random');
    expect(eventsOf(alice, 'accepted')[0]).toMatchObject({ peer: expect.stringMatching(/^relay:\d+$/) });
    expect(code, alice.stdout + alice.stderr).toBe(0);
    expect(sha256(String(eventsOf(bob, 'file_received')[0]?.path))).toBe(sha256(file));
    expect(eventsOf(bob, 'file_accepted')).toHaveLength(1);
    expect(eventsOf(bob, 'message').map((e) => e.text)).toEqual(['from home a', 'from home c']);
    expect([...eventsOf(alice, 'lost'), ...eventsOf(bob, 'lost')]).toEqual([]);
    // Her datagrams to the rendezvous now leave through router c, and are answered there.
    if (hasConntrack) expect(lab.conntrack('c')).toMatch(/dport=3478 (?!.*\[UNREPLIED\])/);
    const stats = await rendezvous.stats();
    console.log(
      `[nat-lab-move] relayed: moved at ${heldAtMove} bytes; the line typed after it arrived in ${lineAfter.toFixed(1)} s, the file moved again in ${fileAfter.toFixed(1)} s, verified ${total.toFixed(1)} s after the move; the relay forwarded ${stats.relayedBytes} bytes`,
    );
  }, 90_000);
});
