/**
 * One meaning for a name (issue 18, 9): the same names given to `netchat --connect`, to
 * `netchat-tui --connect` (in a terminal) and to the TUI's `/connect` answer the same way: the
 * same peer dialled the same way (by address, through the rendezvous, at the last address seen),
 * or the same one-line problem. The programs are the built ones, on loopback; the rendezvous is a
 * UDP socket that never answers (only what the name means is compared, not whether it opens).
 * And the known peers: `/contacts` shows the lines `netchat contacts` prints.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fingerprint, KnownPeers, loadIdentity } from '@netchat/core';
import { hasTmux, ProgramProcess, temporaryDirectory } from '@netchat/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testModel } from './fake-port.js';
import { tui } from './tmux-tui.js';

const cli = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));

/** What a name came to: the peer dialled (as "Sending connection request to …" names it), or the problem. */
type Outcome = { kind: 'dials'; to: string } | { kind: 'refused'; message: string };

const DIALS = /Sending connection request to (.+?)(?:\.\.\.|…)/;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A usage line names its own program ("see 'netchat-tui --help'"): the rest must be the same. */
const sameProgram = (message: string) =>
  message.replace(/\(see 'netchat(?:-tui)? --help'\)$/, "(see 'PROGRAM --help')");

let sink: Socket;
let port = 0;
let home = '';
let own = '';
const bob = { key: randomBytes(32), nick: 'bob' };
const dave = { key: randomBytes(32), nick: 'dave' };
const stranger = fingerprint(randomBytes(32));

beforeAll(async () => {
  // Where the rendezvous and the dialled addresses point: a loopback socket that never answers.
  sink = createSocket('udp4');
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
  port = sink.address().port;
  home = temporaryDirectory('netchat-names-home-');
  own = fingerprint(loadIdentity(home).keyPair.publicKey);
  const known = KnownPeers.load(home);
  // bob was seen at an address; dave is known by key only (remembered before addresses were kept).
  known.remember(bob.key.toString('hex'), bob.nick, fingerprint(bob.key), {
    address: { host: '127.0.0.1', port },
  });
  known.remember(dave.key.toString('hex'), dave.nick, fingerprint(dave.key));
});

afterAll(() => new Promise<void>((resolve) => sink.close(() => resolve())));

/** Each front-end in a home of its own with the same key and known peers. */
function copyOfHome(): string {
  const copy = temporaryDirectory('netchat-names-copy-');
  cpSync(home, copy, { recursive: true });
  return copy;
}

async function viaCli(name: string, rendezvous: boolean): Promise<Outcome> {
  const args = ['0', '--connect', name, ...(rendezvous ? ['--rendezvous', `127.0.0.1:${port}`] : [])];
  const program = new ProgramProcess(cli, args, { NETCHAT_HOME: copyOfHome() });
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const dials = DIALS.exec(program.stdout);
      if (dials) return { kind: 'dials', to: dials[1] as string };
      const code = await Promise.race([program.exited, new Promise((r) => setTimeout(r, 50, 'running'))]);
      if (code === 2)
        return { kind: 'refused', message: sameProgram(program.stderr.trim().replace(/^netchat: /, '')) };
      if (code !== 'running' || Date.now() > deadline)
        throw new Error(`netchat: no outcome (${String(code)})\n${program.stdout}\n${program.stderr}`);
    }
  } finally {
    await program.kill();
  }
}

async function viaTuiCommandLine(name: string, rendezvous: boolean): Promise<Outcome> {
  const args = ['0', '--connect', `'${name}'`, ...(rendezvous ? ['--rendezvous', `127.0.0.1:${port}`] : [])];
  const t = tui(args, { home: copyOfHome(), size: { columns: 250, rows: 12 } });
  try {
    const screen = await t.waitUntil((s) => DIALS.test(s) || s.includes('AFTER-EXIT'), 'an outcome', 20_000);
    const dials = DIALS.exec(screen);
    if (dials) return { kind: 'dials', to: dials[1] as string };
    expect(screen).toContain('AFTER-EXIT 2');
    const line = screen.split('\n').find((row) => row.startsWith('netchat-tui: ')) ?? '';
    return { kind: 'refused', message: sameProgram(line.trim().replace(/^netchat-tui: /, '')) };
  } finally {
    t.close();
  }
}

/** `/connect NAME` in the TUI's model, with the known peers and the key of the same home. */
function viaTuiCommand(name: string, rendezvous: boolean): Outcome {
  const { port: fake, model } = testModel({ rendezvous });
  fake.contactList = KnownPeers.load(home).list();
  fake.ownFingerprint = own;
  model.editor.insert(`/connect ${name}`);
  model.submit();
  const last = model.currentTab.lines.at(-1);
  if (model.current === 0 && last?.kind === 'warning') return { kind: 'refused', message: last.text };
  const dials = DIALS.exec(last?.text ?? '');
  return dials
    ? { kind: 'dials', to: dials[1] as string }
    : { kind: 'refused', message: `none: ${last?.text}` };
}

describe.skipIf(!hasTmux)('the same name means the same peer to netchat and netchat-tui', () => {
  const bobPrint = () => fingerprint(bob.key);
  const cases: [string, () => string, boolean, (o: Outcome) => void][] = [
    [
      'an address',
      () => `127.0.0.1 ${port}`,
      false,
      (o) => expect(o).toEqual({ kind: 'dials', to: `127.0.0.1 ${port}` }),
    ],
    [
      'a host name',
      () => `localhost:${port}`,
      false,
      (o) => expect(o).toEqual({ kind: 'dials', to: `localhost ${port}` }),
    ],
    [
      'a fingerprint, with a rendezvous',
      bobPrint,
      true,
      (o) => expect(o).toEqual({ kind: 'dials', to: `${bobPrint()} (bob)` }),
    ],
    [
      'a known fingerprint, no rendezvous: its last address',
      () => bobPrint().toLowerCase(),
      false,
      (o) => expect(o).toEqual({ kind: 'dials', to: `127.0.0.1 ${port} (bob)` }),
    ],
    [
      'a known nick, with a rendezvous',
      () => 'bob',
      true,
      (o) => expect(o).toEqual({ kind: 'dials', to: `${bobPrint()} (bob)` }),
    ],
    [
      'a known nick, no rendezvous: its last address',
      () => 'Bob',
      false,
      (o) => expect(o).toEqual({ kind: 'dials', to: `127.0.0.1 ${port} (bob)` }),
    ],
    [
      'a known nick with no address, no rendezvous',
      () => 'dave',
      false,
      (o) =>
        expect(o).toMatchObject({
          kind: 'refused',
          message: expect.stringContaining('no address is known for dave'),
        }),
    ],
    [
      'an unknown fingerprint, no rendezvous',
      () => stranger,
      false,
      (o) =>
        expect(o).toMatchObject({
          kind: 'refused',
          message: expect.stringContaining('you need a rendezvous'),
        }),
    ],
    [
      'an unknown nick',
      () => 'carol',
      true,
      (o) =>
        expect(o).toMatchObject({
          kind: 'refused',
          message: expect.stringContaining('no known peer is called "carol"'),
        }),
    ],
    [
      'our own fingerprint',
      () => own,
      true,
      (o) =>
        expect(o).toMatchObject({
          kind: 'refused',
          message: expect.stringContaining('is your own fingerprint'),
        }),
    ],
  ];

  it.each(cases)('%s', async (_what, name, rendezvous, expected) => {
    const [fromCli, fromTui] = await Promise.all([
      viaCli(name(), rendezvous),
      viaTuiCommandLine(name(), rendezvous),
    ]);
    const typed = viaTuiCommand(name(), rendezvous);
    expected(fromCli);
    // --connect: the same outcome, word for word, from both programs.
    expect(fromTui).toEqual(fromCli);
    // /connect inside the TUI: the same peer, or the same problem (without the "--connect NAME: "
    // a flag's error starts with, and the "(see … --help)" it ends with).
    if (typed.kind === 'dials') expect(typed).toEqual(fromCli);
    else
      expect(fromCli).toEqual({
        kind: 'refused',
        message: expect.stringMatching(
          new RegExp(`${escapeRegExp(typed.message)} \\(see 'PROGRAM --help'\\)$`),
        ),
      });
  });
});

describe('the known peers', () => {
  it('/contacts shows the lines netchat contacts prints: verified, renamed, where, last seen', async () => {
    const copy = copyOfHome();
    const known = KnownPeers.load(copy);
    known.verify(bob.key.toString('hex'));
    known.rename(dave.key.toString('hex'), 'David');
    const program = new ProgramProcess(cli, ['contacts'], { NETCHAT_HOME: copy });
    expect(await program.exited).toBe(0);
    const printed = program.stdout.trim().split('\n');
    expect(printed).toHaveLength(2);
    expect(printed.join('\n')).toContain('(verified)');
    expect(printed.join('\n')).toContain('(renamed: calls itself dave)');
    const { port: fake, model } = testModel();
    fake.contactList = KnownPeers.load(copy).list();
    model.editor.insert('/contacts');
    model.submit();
    expect(model.home.lines.slice(-2).map((l) => l.text)).toEqual(printed);
  });
});
