/**
 * A 20 MB file and chat lines through bad routers in the NAT lab (support/nat-lab.ts,
 * lab/nat-lab.sh): 20 % loss one way only (each way in turn), 10 % both ways, and datagrams
 * delivered twice or out of order. alice (home a) sends to bob (home b) directly; the bad router
 * is alice's, from the moment the chat is open. Each prints how long the file took, what alice's
 * link carried against the file's size, and what the router did. The lab has no tc netem
 * (duplication: iptables TEE, into a home only; reordering: a slow tc queue for a marked share).
 * Skipped, saying why, without root, ip and iptables. Every wait is bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventsOf,
  labCannotSpoil,
  labMissing,
  NatLab,
  randomFile,
  receivingBob,
  removeLabs,
  sha256,
} from './support/nat-lab.js';

if (labMissing)
  console.log(`[nat-lab-loss] skipped: ${labMissing} (needs root, iproute2 with tc, and iptables)`);
/** Why duplication and reordering cannot be tried here ('' when they can). */
const cannotSpoil = labCannotSpoil();
if (cannotSpoil && !labMissing)
  console.log(`[nat-lab-loss] duplication and reordering skipped: ${cannotSpoil}`);

afterEach(removeLabs);

const SIZE = 20_000_000;
const COMMON = ['--rendezvous', '10.200.0.1:3478', '--heartbeat-interval', '2', '--json'];
const LINES = Array.from({ length: 20 }, (_, i) => `line ${i + 1} of 20 beside the file`);

/**
 * alice sends bob 20 MB; once the chat is open (`fromStart`: before she starts, so her request and
 * its answer go through it too) `spoil(lab)` makes her router bad, and she types 20 lines. Waits
 * until she exits (every line delivered and the file verified: 0), at most 150 s.
 */
async function fileThroughBadRouter(spoil: (lab: NatLab) => void, fromStart = false) {
  const lab = new NatLab('eim');
  await lab.rendezvous();
  const { bob, fingerprint } = await receivingBob(lab, COMMON);
  const file = randomFile(SIZE);
  const before = lab.homeLink('a');
  if (fromStart) spoil(lab);
  const alice = lab.netchat('a', [
    ...COMMON,
    '--nick',
    'alice',
    '--connect',
    fingerprint,
    '--send-file',
    file,
  ]);
  const asked = performance.now();
  await alice.waitForEvent('accepted', 30_000);
  const opened = (performance.now() - asked) / 1000;
  if (!fromStart) spoil(lab);
  const start = performance.now();
  for (const line of LINES) alice.type(line);
  alice.endInput();
  const code = await Promise.race([
    alice.exited,
    new Promise<string>((resolve) => setTimeout(() => resolve('still running after 150 s'), 150_000)),
  ]);
  const seconds = (performance.now() - start) / 1000;
  const after = lab.homeLink('a');
  const sent = after.txBytes - before.txBytes;
  const received = after.rxBytes - before.rxBytes;
  expect(code, alice.stdout.slice(-3000) + alice.stderr).toBe(0);
  await bob.waitForEvent('file_received', 10_000);
  expect(sha256(String(eventsOf(bob, 'file_received')[0]?.path))).toBe(sha256(file));
  // Every line once, in order, although the datagrams were lost, doubled or overtaken.
  expect(eventsOf(bob, 'message').map((e) => e.text)).toEqual(LINES);
  expect(eventsOf(bob, 'file_accepted')).toHaveLength(1);
  const figures = `${fromStart ? `chat open in ${opened.toFixed(1)} s; ` : ''}20 MB and 20 lines in ${seconds.toFixed(1)} s (${((SIZE * 8) / seconds / 1e6).toFixed(1)} Mbit/s); alice's link sent ${(sent / 1e6).toFixed(1)} MB (${(sent / SIZE).toFixed(2)} x the file) and received ${(received / 1e6).toFixed(2)} MB`;
  return { lab, figures };
}

/** The packets a rule of the router's FORWARD chain (iptables -L -v -x) matched, by its target. */
const matched = (rules: string, target: string) =>
  rules
    .split('\n')
    .filter((line) => line.includes(` ${target} `))
    .reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[0]), 0);

describe.skipIf(labMissing !== '')('NAT lab: loss, duplication and reordering', () => {
  it("20 % of what leaves alice's home lost (the file's way only): the file arrives verified and every line in order", async () => {
    const { lab, figures } = await fileThroughBadRouter((lab) => lab.router('loss', 'a', '0.2', 'out'));
    const dropped = matched(lab.forwardRules('a'), 'DROP');
    expect(dropped).toBeGreaterThan(1000);
    console.log(`[nat-lab-loss] 20 % out only: ${figures}; the router dropped ${dropped} datagrams`);
  }, 200_000);

  it("20 % of what comes into alice's home lost (the acknowledgements' way only): the file arrives verified and every line in order", async () => {
    const { lab, figures } = await fileThroughBadRouter((lab) => lab.router('loss', 'a', '0.2', 'in'));
    const dropped = matched(lab.forwardRules('a'), 'DROP');
    expect(dropped).toBeGreaterThan(100);
    console.log(`[nat-lab-loss] 20 % in only: ${figures}; the router dropped ${dropped} datagrams`);
  }, 200_000);

  it('10 % lost both ways: the file arrives verified and every line in order', async () => {
    const { lab, figures } = await fileThroughBadRouter((lab) => lab.router('loss', 'a', '0.1'));
    const dropped = matched(lab.forwardRules('a'), 'DROP');
    expect(dropped).toBeGreaterThan(1000);
    console.log(`[nat-lab-loss] 10 % both ways: ${figures}; the router dropped ${dropped} datagrams`);
  }, 200_000);

  // Found by this lab (4 runs in 17): alice's chat opened without bob's `features` (lost), took
  // him for text only and asked once; the ask (or its answer) lost too, her --send-file ended in
  // file_not_offered. A session now asks 3 times (core's session/features.ts).
  it('10 % lost both ways from before alice asks (her request, the answer and the features too): the chat opens, the file arrives verified and every line in order', async () => {
    const { lab, figures } = await fileThroughBadRouter((lab) => lab.router('loss', 'a', '0.1'), true);
    const dropped = matched(lab.forwardRules('a'), 'DROP');
    expect(dropped).toBeGreaterThan(1000);
    console.log(
      `[nat-lab-loss] 10 % both ways from the start: ${figures}; the router dropped ${dropped} datagrams`,
    );
  }, 200_000);

  it.skipIf(cannotSpoil !== '')(
    '10 % of what comes into each home delivered twice (iptables TEE): nothing arrives twice, the file is verified',
    async () => {
      const { lab, figures } = await fileThroughBadRouter((lab) => {
        lab.router('duplicate', 'a', '0.1');
        lab.router('duplicate', 'b', '0.1');
      });
      const doubled = matched(lab.mangleRules('b'), 'TEE') + matched(lab.mangleRules('a'), 'TEE');
      expect(doubled).toBeGreaterThan(1000);
      console.log(
        `[nat-lab-loss] 10 % duplicated into each home: ${figures}; the routers doubled ${doubled} datagrams`,
      );
    },
    200_000,
  );

  it.skipIf(cannotSpoil !== '')(
    '5 % of what comes into each home held back and overtaken (a slow queue): the file is verified and every line in order',
    async () => {
      const { lab, figures } = await fileThroughBadRouter((lab) => {
        lab.router('reorder', 'a', '0.05');
        lab.router('reorder', 'b', '0.05');
      });
      const heldBack = matched(lab.mangleRules('b'), 'CLASSIFY') + matched(lab.mangleRules('a'), 'CLASSIFY');
      expect(heldBack).toBeGreaterThan(500);
      console.log(
        `[nat-lab-loss] 5 % reordered into each home: ${figures}; the routers held back ${heldBack} datagrams`,
      );
    },
    200_000,
  );
});
