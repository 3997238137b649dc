/**
 * A laptop carried to another network mid-transfer, in the NAT lab (support/nat-lab.ts,
 * lab/nat-lab.sh `move`): alice's namespace is unplugged from home a (router 10.200.0.2) and
 * plugged into home c (router 10.200.0.4), numbered the same, so her program keeps its address
 * and socket and the world sees her at a new public address, from a new router whose NAT has
 * never seen her. Directly between two homes (bob's port-restricted NAT lets nothing in from the
 * new address until he sends to it: both ask the rendezvous where the other is now) and through
 * the relay (the rendezvous follows her); and a direct chat whose laptop moves behind a
 * port-randomising NAT, where no direct path can open: it goes on through the relay. Skipped,
 * saying why, without root, ip and iptables. Every wait is bounded.
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
  receivingBob,
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
  const { bob, fingerprint } = await receivingBob(lab, FAST);
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

  /** alice registered in home a and idle; her laptop moves to home c. `ask()`: bob asks for her. */
  async function idleMove() {
    const lab = new NatLab('eim');
    await lab.rendezvous();
    const alice = lab.netchat('a', [...FAST, '--yes', '--nick', 'alice']);
    await alice.waitFor(/it sees you at 10\.200\.0\.2:\d+\./);
    const fingerprint = String(eventsOf(alice, 'listening')[0]?.fingerprint);
    lab.moveLaptop();
    const ask = async () => {
      const asked = performance.now();
      const bob = lab.netchat('b', [...FAST, '--nick', 'bob', '--connect', fingerprint]);
      await bob.waitForEvent('accepted', 20_000);
      const found = ((performance.now() - asked) / 1000).toFixed(1);
      bob.type('found you');
      await alice.waitFor('"text":"found you"', 10_000);
      bob.endInput();
      expect(await bob.exited, bob.stdout + bob.stderr).toBe(0);
      return { found, peer: String(eventsOf(bob, 'accepted')[0]?.peer) };
    };
    return { lab, ask };
  }

  it.skipIf(!hasConntrack)(
    'an idle laptop moves: once the rendezvous has answered her through router c, bob finds her by fingerprint and talks to her new address directly',
    async () => {
      const { lab, ask } = await idleMove();
      const moved = performance.now();
      // Her next heartbeat to the rendezvous leaves through router c, and is answered there.
      await until(
        () => /dport=3478 (?!.*\[UNREPLIED\])/.test(lab.conntrack('c')),
        'an answered mapping',
        10_000,
      );
      const followed = ((performance.now() - moved) / 1000).toFixed(1);
      const { found, peer } = await ask();
      expect(peer).toMatch(/^10\.200\.0\.4:\d+$/);
      console.log(
        `[nat-lab-move] idle move: the rendezvous answered her through router c ${followed} s after it; bob then connected to her new address in ${found} s`,
      );
    },
    60_000,
  );

  // Asked at once, the rendezvous may still hold her old address (until her next heartbeat
  // reaches it from router c, up to a heartbeat interval: 25 s by default): the direct attempt
  // goes to home a, fails, and after 3 s the chat opens through the relay, where it stays. It
  // opens; the path it takes is printed, not asserted (it depends on which came first).
  it('an idle laptop moves and bob asks for her by fingerprint at once: the chat opens and the line arrives', async () => {
    const { ask } = await idleMove();
    const { found, peer } = await ask();
    console.log(`[nat-lab-move] idle move, asked at once: connected in ${found} s, to ${peer}`);
  }, 60_000);

  /**
   * A direct chat between two homes (eim); alice's laptop moves to home c, behind a port-randomising
   * NAT (a new port for every destination: no direct path can open from there), and she types a
   * line. Waits until it arrives or her chat is lost (3.5 s of silence: 1 s heartbeats, 3 missed).
   */
  async function moveBehindRandomisingNat() {
    const lab = new NatLab('eim', 'random');
    await lab.rendezvous();
    const bob = lab.netchat('b', [...FAST, '--yes', '--nick', 'bob']);
    await bob.waitFor(/it sees you at 10\.200\.0\.3:\d+\./);
    const fingerprint = String(eventsOf(bob, 'listening')[0]?.fingerprint);
    const home = temporaryDirectory('nat-lab-alice-');
    const ask = () => lab.netchat('a', [...FAST, '--nick', 'alice', '--connect', fingerprint], home);
    const alice = ask();
    await alice.waitForEvent('accepted', 20_000);
    expect(eventsOf(alice, 'accepted')[0]).toMatchObject({
      peer: expect.stringMatching(/^10\.200\.0\.3:\d+$/),
    });
    alice.type('from home a');
    await bob.waitFor('"text":"from home a"');
    await alice.waitForEvent('delivered');
    lab.moveLaptop();
    const moved = performance.now();
    alice.type('from home c');
    const arrived = () => bob.stdout.includes('"text":"from home c"');
    await until(() => arrived() || eventsOf(alice, 'lost').length > 0, 'the line, or the chat lost', 30_000);
    console.log(
      `[nat-lab-move] direct chat, laptop moved behind a port-randomising NAT: the next line ${arrived() ? 'arrived' : 'did not: the chat was lost'} after ${((performance.now() - moved) / 1000).toFixed(1)} s`,
    );
    return { bob, alice, arrived, ask };
  }

  // Found by this lab (s27), fixed in core (rendezvous/relay-fallback.ts): the chat was lost 3.5 s
  // after the move. Behind the port-randomising NAT her datagrams reach bob's router from a port
  // his NAT never sent to, and no path challenge can pass directly; the refinds at the first missed
  // heartbeat bring the pair's relay tags, and a chat still silent a second later is challenged
  // at its peer's relayed address, on its own channel: the answer through the relay moves it.
  it('a direct chat whose laptop moves behind a port-randomising NAT goes on through the relay: the line typed after the move arrives once, nobody lost, exit 0; alice asking again from there gets a relayed chat', async () => {
    const { bob, alice, arrived, ask } = await moveBehindRandomisingNat();
    expect(arrived()).toBe(true);
    await until(() => eventsOf(alice, 'delivered').length >= 2, 'both lines delivered', 10_000);
    alice.endInput();
    expect(await alice.exited, alice.stdout + alice.stderr).toBe(0);
    expect(eventsOf(bob, 'message').map((e) => e.text)).toEqual(['from home a', 'from home c']);
    expect([...eventsOf(alice, 'lost'), ...eventsOf(bob, 'lost'), ...eventsOf(alice, 'failed')]).toEqual([]);
    // bob's side of the chat names the relay by its end (the line itself may come through the
    // relay before bob's own challenge there is answered: alice resends it as her channel moves).
    await bob.waitForEvent('closed', 10_000);
    expect(eventsOf(bob, 'closed').at(-1)?.peer).toMatch(/^relay:\d+$/);
    const start = performance.now();
    const again = ask();
    await again.waitForEvent('accepted', 30_000);
    expect(eventsOf(again, 'accepted')[0]).toMatchObject({ peer: expect.stringMatching(/^relay:\d+$/) });
    again.type('from home c, asked again');
    await bob.waitFor('"text":"from home c, asked again"', 10_000);
    again.endInput();
    expect(await again.exited, again.stdout + again.stderr).toBe(0);
    console.log(
      `[nat-lab-move] alice asked again from behind the port-randomising NAT: relayed chat open in ${((performance.now() - start) / 1000).toFixed(1)} s`,
    );
  }, 90_000);
});
