/**
 * One client's share of relay pairs (relay-pairs.ts; PROTOCOL.md Relay, Pairs): strangers who ask
 * for a client and relay a packet now and then cannot hold its whole share for ever. Once a pair
 * the client did not ask for is 30 s old, a new introduction may take its place; a pair the
 * client asked for itself keeps its place while such a pair is in its share, and when it asked
 * for all of them, the one made longest ago gives way past its tenure (one it claimed first).
 * The rule alone, on its own clock.
 */
import { describe, expect, it } from 'vitest';
import type { Registration } from '../src/rendezvous/registration-table.js';
import { RelayPairs } from '../src/rendezvous/relay-pairs.js';
import { DEFAULT_RENDEZVOUS_SERVER_OPTIONS } from '../src/rendezvous/server.js';

const GRACE = DEFAULT_RENDEZVOUS_SERVER_OPTIONS.relayPairGraceMs;
const TENURE = DEFAULT_RENDEZVOUS_SERVER_OPTIONS.relayPairTenureMs;

function pairs(share = 2) {
  return new RelayPairs({
    maxPairs: 100,
    maxPairsPerClient: share,
    idleMs: 120_000,
    graceMs: GRACE,
    tenureMs: TENURE,
  });
}

let nextTag = 1;
const client = () => ({ tag: nextTag++ }) as Registration;

/** `strangers` ask for `victim` at `at`, and each relays a packet every 5 s until `until`. */
function strangersHold(
  table: RelayPairs,
  victim: Registration,
  strangers: Registration[],
  at: number,
  until: number,
) {
  for (const s of strangers) expect(table.introduce(s, victim, at)).toBeDefined();
  for (let t = at; t <= until; t += 5_000)
    for (const s of strangers)
      table.relayed(table.between(s.tag, victim.tag) as NonNullable<ReturnType<RelayPairs['between']>>, t);
}

describe("a client's share of relay pairs, held by strangers who relay", () => {
  it('a friend asking before the strangers’ pairs are 30 s old gets none; after, the pair made longest ago makes room', () => {
    const table = pairs();
    const victim = client();
    const [s1, s2] = [client(), client()];
    strangersHold(table, victim, [s1 as Registration], 0, 30_000);
    strangersHold(table, victim, [s2 as Registration], 1_000, 30_000);
    const friend = client();
    expect(table.introduce(friend, victim, GRACE + 5_000)).toBeUndefined();
    expect(table.introduce(friend, victim, TENURE - 1)).toBeUndefined();
    expect(table.introduce(friend, victim, TENURE + 500)).toBeDefined();
    expect(table.between(s1.tag, victim.tag)).toBeUndefined();
    expect(table.between(s2.tag, victim.tag)).toBeDefined();
  });

  it('asking again does not renew a pair’s tenure', () => {
    const table = pairs();
    const victim = client();
    const strangers = [client(), client()];
    strangersHold(table, victim, strangers, 0, 30_000);
    for (const s of strangers) expect(table.introduce(s, victim, TENURE - 5_000)).toBeDefined();
    expect(table.introduce(client(), victim, TENURE)).toBeDefined();
  });

  it('pairs the client asked for itself keep their place while a pair it did not ask for is in its share, however old', () => {
    const table = pairs();
    const victim = client();
    const own = client();
    expect(table.introduce(victim, own, 0)).toBeDefined();
    const between = table.between(victim.tag, own.tag) as NonNullable<ReturnType<RelayPairs['between']>>;
    for (let t = 0; t < 5 * TENURE - 10_000; t += 5_000) table.relayed(between, t);
    strangersHold(table, victim, [client()], 5 * TENURE - 10_000, 5 * TENURE);
    for (let t = 5 * TENURE - 10_000; t <= 5 * TENURE; t += 5_000) table.relayed(between, t);
    // The stranger's pair is inside its tenure: nothing gives way, the client's own pair least of all.
    expect(table.introduce(client(), victim, 5 * TENURE)).toBeUndefined();
    expect(table.between(victim.tag, own.tag)).toBeDefined();
  });

  it('a share the client asked for whole: past their tenure, a pair it claimed gives way before one it made', () => {
    const table = pairs();
    const victim = client();
    const [own, claimed] = [client(), client()];
    expect(table.introduce(victim, own, 0)).toBeDefined();
    // Made by the peer, then asked for by the victim too (its claim).
    expect(table.introduce(claimed, victim, 1_000)).toBeDefined();
    expect(table.introduce(victim, claimed, 2_000)).toBeDefined();
    for (let t = 0; t <= 2 * TENURE; t += 5_000)
      for (const p of [own, claimed])
        table.relayed(table.between(victim.tag, p.tag) as NonNullable<ReturnType<RelayPairs['between']>>, t);
    expect(table.introduce(client(), victim, TENURE - 1)).toBeUndefined(); // both inside their tenure
    expect(table.introduce(client(), victim, TENURE + 1_000)).toBeDefined();
    expect(table.between(victim.tag, claimed.tag)).toBeUndefined();
    expect(table.between(victim.tag, own.tag)).toBeDefined();
  });

  it('a share of pairs the client made itself, all in use: past their tenure, the one made longest ago gives way', () => {
    const table = pairs();
    const victim = client();
    const [p1, p2] = [client(), client()];
    expect(table.introduce(victim, p1, 0)).toBeDefined();
    expect(table.introduce(victim, p2, 1_000)).toBeDefined();
    for (let t = 0; t <= 5 * TENURE; t += 5_000)
      for (const p of [p1, p2])
        table.relayed(table.between(victim.tag, p.tag) as NonNullable<ReturnType<RelayPairs['between']>>, t);
    expect(table.introduce(client(), victim, 5 * TENURE)).toBeDefined();
    expect(table.between(victim.tag, p1.tag)).toBeUndefined();
    expect(table.between(victim.tag, p2.tag)).toBeDefined();
    expect(table.size).toBe(2);
  });
});

describe('a pair that gives way only for a pair that is made', () => {
  it("a client whose own share would give way keeps its pair when the other side's share has no room", () => {
    const table = pairs();
    const [friend, victim] = [client(), client()];
    const [f1, f2] = [client(), client()];
    // The friend asked for both pairs of its share itself, and uses them: past their tenure, its
    // oldest would give way for a new one.
    expect(table.introduce(friend, f1, 0)).toBeDefined();
    expect(table.introduce(friend, f2, 1_000)).toBeDefined();
    // The victim's share: two strangers' pairs in use, inside their tenure.
    strangersHold(table, victim, [client(), client()], 2 * TENURE, 2 * TENURE + 10_000);
    for (let t = 0; t <= 2 * TENURE + 10_000; t += 5_000)
      for (const f of [f1, f2])
        table.relayed(table.between(friend.tag, f.tag) as NonNullable<ReturnType<RelayPairs['between']>>, t);
    // No room at the victim's: no pair, and the friend's own pair in use stays.
    expect(table.introduce(friend, victim, 2 * TENURE + 10_000)).toBeUndefined();
    expect(table.between(friend.tag, f1.tag)).toBeDefined();
    expect(table.between(friend.tag, f2.tag)).toBeDefined();
    expect(table.size).toBe(4);
  });
});
