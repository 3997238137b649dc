/**
 * A sender offers each path as the receiver would map it (PROTOCOL.md Files: names: a sender
 * SHOULD offer paths that map to themselves), by the receiver's own function (checkOffer, over
 * safeRelativePath): PROTOCOL.md's name vectors go on the wire mapped, the receiver finds nothing
 * to rename, and a path a receiver refuses, or two that map to one, fail at the sender before
 * anything is sent.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contentHash, NetchatError } from '../src/index.js';
import { filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';

type Text = string | [string, number][];
const protocol = readFileSync(new URL('../../../PROTOCOL.md', import.meta.url), 'utf8');
const vectors = [...protocol.matchAll(/```names\n([\s\S]*?)```/g)].flatMap((m) =>
  (m[1] ?? '')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { in: Text; out?: Text; refused?: string }),
);
const expand = (text: Text) => (typeof text === 'string' ? text : text.map(([t, n]) => t.repeat(n)).join(''));

describe('names mapped before offering', () => {
  it("each of PROTOCOL.md's name vectors goes on the wire as the receiver maps it, and lands there unrenamed", () => {
    const mapped = vectors.filter((v) => v.out !== undefined);
    expect(mapped.length).toBeGreaterThan(50);
    const { net, alice, bob, sa } = filePair({}, 31);
    const data = randomData(10, 1);
    // One offer a vector (two vectors may map to one path).
    for (const vector of mapped) {
      const before = bob.of('file_offer').length;
      alice.engine.offer(
        sa,
        [{ path: expand(vector.in), size: data.length, hash: contentHash(data) }],
        net.now,
      );
      alice.pump();
      expect(net.run(() => bob.of('file_offer').length > before, net.now + 5_000)).toBe(true);
      const [sent] = alice.of('file_offer').at(-1)?.files ?? [];
      const [got] = bob.of('file_offer').at(-1)?.files ?? [];
      const out = expand(vector.out as Text);
      // The sender shows its own name and the name offered; the receiver finds nothing to change.
      expect(sent).toMatchObject({
        path: expand(vector.in),
        offeredPath: out,
        renamed: out !== expand(vector.in),
      });
      expect(got).toMatchObject({ path: out, offeredPath: out, renamed: false });
      bob.decline(bob.of('file_offer').at(-1)?.transfer as number);
    }
  });

  it('a mapped file is received and verified under the name the sender was shown', () => {
    const { net, alice, bob, sa } = filePair({}, 32);
    const files = {
      CON: randomData(3000, 2),
      'dir\\x.txt': randomData(500, 3),
      '.bashrc': randomData(10, 4),
    };
    alice.offer(sa, files);
    net.run(() => bob.of('file_offer').length > 0, net.now + 5_000);
    bob.accept(bob.of('file_offer')[0]?.transfer as number);
    expect(net.run(() => alice.of('file_done').length > 0, net.now + 10_000)).toBe(true);
    expect([...bob.storage.placed.keys()].sort()).toEqual(['_CON', '_bashrc', 'dir_x.txt']);
    expect(alice.of('file_sent').map((e) => e.path)).toEqual(expect.arrayContaining(Object.keys(files)));
    expect(alice.of('file_done')[0]).toMatchObject({ files: 3, verified: 3 });
  });

  it('a path a receiver refuses, or two that map to one, fail at the sender and nothing is sent', () => {
    const { net, alice, bob, sa, a } = filePair({}, 33);
    const data = randomData(10, 5);
    const file = (path: string) => ({ path, size: data.length, hash: contentHash(data) });
    const sentBefore = a.sent.length;
    for (const paths of [
      ['../../x'],
      ['/etc/passwd'],
      ['a/../b'],
      ['a\\b', 'a_b'],
      ['CON', '_CON'],
      ['x', 'x/y'],
    ]) {
      let thrown: unknown;
      try {
        alice.engine.offer(sa, paths.map(file), net.now);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, paths.join(', ')).toBeInstanceOf(NetchatError);
      expect((thrown as NetchatError).code).toBe('INVALID_ARGUMENT');
      expect((thrown as Error).message).toMatch(/refuses|once its name is made safe/);
    }
    alice.pump();
    net.runFor(1_000);
    expect(alice.engine.list()).toEqual([]);
    expect(bob.of('file_offer')).toEqual([]);
    // Only the chat's own packets (acknowledgements, heartbeats) went: no stream was opened.
    expect(a.sent.slice(sentBefore).some((d) => d.message?.type === 'stream_data')).toBe(false);
  });

  it('mapNames: false (a test playing a stranger) offers paths as given: the receiver refuses or maps them', () => {
    const { net, alice, bob, sa } = filePair({}, 34, { mapNames: false });
    const data = randomData(10, 6);
    const file = (path: string) => ({ path, size: data.length, hash: contentHash(data) });
    alice.engine.offer(sa, [file('../../x')], net.now);
    alice.engine.offer(sa, [file('CON')], net.now);
    alice.pump();
    expect(
      net.run(() => alice.of('file_declined').length > 0 && bob.of('file_offer').length > 0, net.now + 5_000),
    ).toBe(true);
    expect(alice.of('file_declined')[0]).toMatchObject({ reason: 'bad_offer', by: 'peer' });
    expect(bob.of('file_offer')[0]?.files[0]).toMatchObject({
      path: '_CON',
      offeredPath: 'CON',
      renamed: true,
    });
  });
});
