/** `netchat history` and `netchat contacts …` on a temporary netchat home, in-process. */
import { ChatHistory } from '@netchat/client';
import { fingerprint, generateKeyPair, KnownPeers } from '@netchat/core';
import { temporaryDirectory } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { contactsCommand, historyCommand } from '../src/home-commands.js';

function homeWith() {
  const home = temporaryDirectory('netchat-home-');
  const knownPeers = KnownPeers.load(home);
  const history = new ChatHistory(home);
  const key = () => {
    const publicKey = generateKeyPair().publicKey;
    return { hex: Buffer.from(publicKey).toString('hex'), print: fingerprint(publicKey) };
  };
  const bob = key();
  const carol = key();
  knownPeers.remember(bob.hex, 'bob', bob.print, {
    address: { host: '127.0.0.1', port: 6666 },
    at: new Date('2026-11-24T10:00:00Z'),
  });
  knownPeers.remember(carol.hex, 'carol', carol.print, { at: new Date('2026-11-24T09:00:00Z') });
  const said = (at: string, direction: 'in' | 'out', text: string) =>
    history.record(bob.hex, { at, direction, nick: 'bob', text });
  said('2026-11-24T10:01:00.000Z', 'in', 'hello there');
  said('2026-11-24T10:02:00.000Z', 'out', '    indented reply');
  said('2026-11-24T10:03:00.000Z', 'in', '/me waves');
  return { home, files: { knownPeers, history }, bob, carol };
}

function run(command: typeof historyCommand, argv: string[], files: Parameters<typeof historyCommand>[1]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = command(argv, files, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('netchat history', () => {
  it('prints the log with a peer by nick, as text or JSON, and --grep searches it', () => {
    const { files } = homeWith();
    expect(run(historyCommand, ['bob'], files)).toEqual({
      code: 0,
      out: [
        '2026-11-24 10:01  bob: hello there',
        '2026-11-24 10:02  you:     indented reply',
        '2026-11-24 10:03  * bob waves',
      ],
      err: [],
    });
    expect(run(historyCommand, ['BOB', '--grep', 'HELLO'], files).out).toEqual([
      '2026-11-24 10:01  bob: hello there',
    ]);
    const json = run(historyCommand, ['bob', '--json'], files).out.map((l) => JSON.parse(l));
    expect(json[1]).toEqual({
      at: '2026-11-24T10:02:00.000Z',
      direction: 'out',
      nick: 'bob',
      text: '    indented reply',
    });
  });

  it('finds a forgotten peer by its whole fingerprint among the logs; says when no one has that name', () => {
    const { files, bob } = homeWith();
    files.knownPeers.forget(bob.hex);
    expect(run(historyCommand, [bob.print.toLowerCase()], files).out).toHaveLength(3);
    expect(run(historyCommand, ['dave'], files)).toEqual({
      code: 1,
      out: [],
      err: ['netchat: no known peer is called "dave" (see netchat contacts)'],
    });
    expect(run(historyCommand, [], files).code).toBe(2);
    expect(run(historyCommand, ['bob', '--bogus'], files).code).toBe(2);
  });
});

describe('netchat contacts', () => {
  it('lists the known peers, most recently seen first, as text or JSON', () => {
    const { files, bob, carol } = homeWith();
    expect(run(contactsCommand, [], files).out).toEqual([
      `bob  ${bob.print}  127.0.0.1 6666  last seen 2026-11-24 10:00 UTC`,
      `carol  ${carol.print}  no address yet  last seen 2026-11-24 09:00 UTC`,
    ]);
    expect(JSON.parse(run(contactsCommand, ['--json'], files).out[0] ?? '')).toMatchObject({
      nick: 'bob',
      fingerprint: bob.print,
    });
    const empty = { knownPeers: KnownPeers.inMemory(), history: files.history };
    expect(run(contactsCommand, [], empty).out).toEqual(['No known peers yet: they are added as you chat.']);
  });

  it('verify needs the whole fingerprint of a known peer, and marks it', () => {
    const { files, bob } = homeWith();
    expect(run(contactsCommand, ['verify', bob.print.slice(0, 9)], files).code).toBe(2);
    expect(run(contactsCommand, ['verify', fingerprint(generateKeyPair().publicKey)], files).code).toBe(1);
    const done = run(contactsCommand, ['verify', bob.print.replaceAll('-', '').toLowerCase()], files);
    expect(done.code).toBe(0);
    expect(done.out[0]).toBe(
      `Verified bob (${bob.print}): its requests say so, and another key calling itself bob is refused.`,
    );
    expect(run(contactsCommand, [], files).out[0]).toMatch(/ \(verified\)$/);
    expect(files.knownPeers.check(bob.hex, 'bob')).toMatchObject({ verified: true });
  });

  it('verify of a new key that shares its nick with a known key says the old key is still let in, and how to forget it', () => {
    const { files, bob } = homeWith();
    const newBob = generateKeyPair().publicKey;
    const newHex = Buffer.from(newBob).toString('hex');
    files.knownPeers.remember(newHex, 'bob', fingerprint(newBob), { at: new Date('2026-11-25T10:00:00Z') });
    const done = run(contactsCommand, ['verify', fingerprint(newBob)], files);
    expect(done).toMatchObject({ code: 0, err: [] });
    expect(done.out).toEqual([
      `Verified bob (${fingerprint(newBob)}): its requests say so, and another key calling itself bob is refused.`,
      `bob (${bob.print}) is known too and still let in: if that key is no longer this peer's, netchat contacts forget ${bob.print}`,
    ]);
    // What the second line says is so: the old key is still known, not refused.
    expect(files.knownPeers.check(bob.hex, 'bob')).toMatchObject({ status: 'known' });
    expect(run(contactsCommand, ['forget', bob.print], files).code).toBe(0);
    expect(run(contactsCommand, ['verify', fingerprint(newBob)], files).out).toHaveLength(1);
  });

  it('rename and forget a peer by nick or the start of its fingerprint', () => {
    const { files, bob, carol } = homeWith();
    expect(run(contactsCommand, ['rename', 'bob', 'Robert'], files).out).toEqual([
      `bob (${bob.print}) is called Robert from now on.`,
    ]);
    expect(run(contactsCommand, [], files).out[0]).toBe(
      `Robert  ${bob.print}  127.0.0.1 6666  last seen 2026-11-24 10:00 UTC  (renamed: calls itself bob)`,
    );
    expect(run(contactsCommand, ['forget', carol.print.slice(0, 4)], files).code).toBe(0);
    expect(files.knownPeers.list().map((p) => p.nick)).toEqual(['Robert']);
    expect(run(contactsCommand, ['forget', 'carol'], files)).toMatchObject({ code: 1 });
    expect(run(contactsCommand, ['rename', 'Robert'], files).code).toBe(2);
    // Verifying a renamed peer names both nicks a new key is refused for: its own and the new name.
    expect(run(contactsCommand, ['verify', bob.print], files).out).toEqual([
      `Verified Robert (${bob.print}): its requests say so, and another key calling itself bob or Robert is refused.`,
    ]);
    const impostor = Buffer.from(generateKeyPair().publicKey).toString('hex');
    for (const nick of ['bob', 'Robert'])
      expect(files.knownPeers.check(impostor, nick)).toMatchObject({
        status: 'nick_conflict',
        verified: true,
      });
    expect(run(contactsCommand, ['rename', 'Robert', 'x\u001b[2J'], files).code).toBe(2);
    expect(run(contactsCommand, ['wipe'], files)).toMatchObject({
      code: 2,
      err: ['netchat: unknown contacts command "wipe" (forget, rename or verify)'],
    });
  });

  it('a shared nick is ambiguous; a change that cannot be saved is exit 1 with why', () => {
    const { files, bob } = homeWith();
    files.knownPeers.remember(
      Buffer.from(generateKeyPair().publicKey).toString('hex'),
      'bob',
      'ZZZZ-ZZZZ-ZZZZ-ZZZZ',
    );
    expect(run(contactsCommand, ['forget', 'bob'], files).err[0]).toMatch(
      /^netchat: "bob" is 2 known peers: /,
    );
    const failing = KnownPeers.load('/nonexistent/netchat-home', {
      writeFile: () => {
        throw Object.assign(new Error('read-only'), { code: 'EROFS' });
      },
    });
    failing.remember(bob.hex, 'bob', bob.print);
    expect(
      run(contactsCommand, ['verify', bob.print], { knownPeers: failing, history: files.history }),
    ).toEqual({
      code: 1,
      out: [],
      err: ['netchat: could not save /nonexistent/netchat-home/known_peers.json: read-only file system'],
    });
  });

  it('--help after a command prints the commands; an unknown option is one short line, exit 2', () => {
    const { files } = homeWith();
    for (const [command, argv] of [
      [contactsCommand, ['--help']],
      [historyCommand, ['-h']],
      [contactsCommand, ['verify', '--help']],
    ] as const) {
      const got = run(command, [...argv], files);
      expect(got.code).toBe(0);
      expect(got.out[0]).toMatch(/^Commands/);
      expect(got.out.join('\n')).toContain('netchat contacts verify FINGERPRINT');
    }
    expect(run(contactsCommand, ['--bogus'], files)).toEqual({
      code: 2,
      out: [],
      err: ["netchat: netchat contacts has no option --bogus (see 'netchat contacts --help')"],
    });
    expect(run(historyCommand, ['bob', '--grep'], files).err).toEqual([
      "netchat: Option '--grep <value>' argument missing (see 'netchat history --help')",
    ]);
  });
});
