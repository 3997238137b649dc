/**
 * Sending files between real netchat processes on loopback (port 0): an offer asked and
 * answered, declined, cancelled; --send-file's exit codes; --accept-files with --max-file-size;
 * the "//" escape and an unknown "/x" refused; names a hostile peer offers land safely.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostileSender } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const running: NetchatProcess[] = [];
const folders: string[] = [];
const hostile: HostileSender[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) p.kill();
  for (const h of hostile.splice(0)) await h.close();
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

function folder(): string {
  const made = mkdtempSync(join(tmpdir(), 'netchat-files-'));
  folders.push(made);
  return made;
}

async function started(...args: string[]): Promise<[NetchatProcess, number]> {
  const p = new NetchatProcess(['0', ...args]);
  running.push(p);
  return [p, await p.port()];
}

/** netchat as a script: connects to `port`, offers each path with --send-file, its input ended. */
function scriptSending(port: number, options: { json?: boolean }, ...paths: string[]): NetchatProcess {
  const sendFiles = paths.flatMap((path) => ['--send-file', path]);
  const p = new NetchatProcess([
    '0',
    ...(options.json ? ['--json'] : []),
    '--connect',
    `127.0.0.1:${port}`,
    ...sendFiles,
  ]);
  running.push(p);
  p.endInput();
  return p;
}

/** The files in a folder a person would see (no hidden partial files). */
function visible(dir: string): string[] {
  return readdirSync(dir).filter((name) => !name.startsWith('.'));
}

/** alice (piped, not a script) chatting with bob (--yes), bob saving into `dl`. */
async function chatting(dl: string, ...bobArgs: string[]) {
  const [b, portB] = await started('--nick', 'bob', '--yes', '--download-dir', dl, ...bobArgs);
  const [a] = await started('--nick', 'alice');
  await a.waitFor('Start chat with? (IP Port): ');
  a.type(`127.0.0.1 ${portB}`);
  await a.waitFor('Your message: ');
  return { a, b };
}

describe('files between two netchat processes', () => {
  it('/send offers a file, the peer answers y, both sides end with one line', async () => {
    const src = folder();
    const dl = folder();
    const data = randomBytes(1_500_000);
    writeFileSync(join(src, 'report.pdf'), data);
    const { a, b } = await chatting(dl);
    a.type(`/send ${join(src, 'report.pdf')}`);
    await a.waitFor('Offered "report.pdf" (1.5 MB) to bob: waiting for an answer (transfer 1).');
    await b.waitFor('Accept file "report.pdf" (1.5 MB) from alice? (y/n): ');
    b.type('y');
    await a.waitFor(
      /Sent report\.pdf \(1\.5 MB\) in \d+:\d\d, [\d.]+ [kMG]?B\/s average: bob verified it\./,
      30_000,
    );
    await b.waitFor(
      new RegExp(
        `Received ${join(dl, 'report.pdf').replace(/[.]/g, '\\.')} \\(1\\.5 MB\\) in \\d+:\\d\\d, .* average, verified\\.`,
      ),
      30_000,
    );
    expect(readFileSync(join(dl, 'report.pdf')).equals(data)).toBe(true);
    expect(readdirSync(dl)).toEqual(['report.pdf']);
    a.type('/transfers');
    await a.waitFor(/ {2}1 {2}→ bob {2}"report\.pdf" 1\.5 MB {2}done/);
  });

  it('a folder of 15 files: a line for each of the first 10 on each side, one for the rest, then the end line', async () => {
    const src = folder();
    const dl = folder();
    mkdirSync(join(src, 'photos'));
    for (let i = 0; i < 15; i++) writeFileSync(join(src, 'photos', `p${i}.jpg`), `photo ${i}`);
    const { a, b } = await chatting(dl, '--accept-files');
    a.type(`/send ${join(src, 'photos')}`);
    const rest =
      'Transfer 1: its other 5 files are not listed one by one (a file that fails is); /transfers shows how far it is, and its end how it went.';
    await a.waitFor('Transfer 1 done: all 15 files verified.', 30_000);
    await b.waitFor('Transfer 1 done: all 15 files verified.', 30_000);
    expect(visible(join(dl, 'photos'))).toHaveLength(15);
    for (const [p, ended] of [
      [a, /^Sent photos\/p\d+\.jpg/],
      [b, /^Received .*photos\/p\d+\.jpg/],
    ] as const) {
      const said = p.stdout.split('\n');
      expect(said.filter((l) => ended.test(l))).toHaveLength(10);
      expect(said.filter((l) => l === rest)).toHaveLength(1);
    }
  });

  it('n declines: the sender is told, nothing is written', async () => {
    const src = folder();
    const dl = folder();
    writeFileSync(join(src, 'a.txt'), 'hello');
    const { a, b } = await chatting(dl);
    a.type(`/send ${join(src, 'a.txt')}`);
    await b.waitFor('Accept file "a.txt" (5 bytes) from alice? (y/n): ');
    b.type('maybe');
    await b.waitFor('Please answer y or n.');
    // A line meant for the chat, typed at the question, is said not sent: it only seemed to go.
    b.type('hello alice, what is this?');
    await b.waitFor(
      'Please answer y or n. That line was not sent: the offer of "a.txt" from alice waits for your answer first.',
    );
    // A command typed there was not run, rather than "not sent" (it was never a message).
    b.type('exit');
    await b.waitFor(
      'Please answer y or n. "exit" was not run: the offer of "a.txt" from alice waits for your answer first; type it again then.',
    );
    b.type('/transfers');
    await b.waitFor('"/transfers" was not run: the offer of "a.txt"');
    b.type('n');
    await a.waitFor('bob declined "a.txt".');
    await b.waitFor('You declined "a.txt" from alice.');
    expect(readdirSync(dl)).toEqual([]);
    // The chat goes on.
    b.type('still here');
    await a.waitFor('bob: still here');
  });

  it('a second offer while one asks y/n is said at once, then asked once the first is answered', async () => {
    const src = folder();
    const dl = folder();
    writeFileSync(join(src, 'a.txt'), 'hello');
    writeFileSync(join(src, 'b.txt'), 'world!');
    mkdirSync(join(src, 'pics'));
    writeFileSync(join(src, 'pics', 'c.jpg'), 'c');
    writeFileSync(join(src, 'pics', 'd.jpg'), 'dd');
    const { a, b } = await chatting(dl);
    a.type(`/send ${join(src, 'a.txt')}`);
    await b.waitFor('Accept file "a.txt" (5 bytes) from alice? (y/n): ');
    a.type(`/send ${join(src, 'b.txt')}`);
    a.type(`/send ${join(src, 'pics')}`);
    // The later offers are not silent until their turn: each says it waits, and for what.
    await b.waitFor(
      'Another offer waits: file "b.txt" (6 bytes) from alice (transfer 2), asked after this one.',
    );
    await b.waitFor(
      'Another offer waits: 2 files (3 bytes) from alice (transfer 3), asked after the 2 before it.',
    );
    await b.waitFor('  pics/d.jpg  2 bytes');
    b.type('y');
    await b.waitFor('Accept file "b.txt" (6 bytes) from alice? (y/n): ');
    b.type('n');
    await b.waitFor('Accept 2 files (3 bytes) from alice? (y/n): ');
    b.type('y');
    await a.waitFor('Transfer 3 done: all 2 files verified.', 30_000);
    expect(visible(dl).sort()).toEqual(['a.txt', 'pics']);
  });

  it('the input ending while an offer asks y/n declines it, and the chat is closed once, said once', async () => {
    const src = folder();
    const dl = folder();
    writeFileSync(join(src, 'a.txt'), 'hello');
    const { a, b } = await chatting(dl);
    a.type(`/send ${join(src, 'a.txt')}`);
    await b.waitFor('Accept file "a.txt" (5 bytes) from alice? (y/n): ');
    b.endInput();
    await a.waitFor('bob declined "a.txt".');
    await a.waitFor('Peer closed the session.');
    expect(await b.exited).toBe(0);
    // Declining the question ended its transfer, which asked the flow whether it was done while it
    // was quitting: the quit ran a second time inside the first ("Closing session" twice).
    expect(b.stdout.split('Closing session with peer...')).toHaveLength(2);
    expect(b.stdout).toContain('You declined "a.txt" from alice.');
  });

  it('a ninth /send before bob answered waits, said so and in /transfers, and goes when bob answers one', async () => {
    const src = folder();
    const dl = folder();
    for (let i = 0; i < 9; i++) writeFileSync(join(src, `f${i}.txt`), `file ${i}`);
    const { a, b } = await chatting(dl);
    for (let i = 0; i < 8; i++) {
      a.type(`/send ${join(src, `f${i}.txt`)}`);
      await a.waitFor(`Offered "f${i}.txt" (6 bytes) to bob: waiting for an answer (transfer ${i + 1}).`);
    }
    // The ninth has not gone: it says it waits, never "Offered".
    a.type(`/send ${join(src, 'f8.txt')}`);
    await a.waitFor(
      'Transfer 9 ("f8.txt") waits for bob to answer earlier offers: it goes as soon as bob answers one.',
    );
    expect(a.stdout).not.toMatch(/Offered "f8\.txt"/);
    a.type('/transfers');
    await a.waitFor(/ {2}9 {2}→ bob {2}"f8\.txt" 6 bytes {2}waiting for earlier offers to be answered/);
    await b.waitFor('Accept file "f0.txt" (6 bytes) from alice? (y/n): ');
    b.type('n');
    await a.waitFor('bob declined "f0.txt".');
    await a.waitFor('Transfer 9 ("f8.txt") offered to bob now: waiting for an answer.');
    expect(a.stdout).not.toMatch(/too many offers/);
  });

  it('/cancel N stops a running transfer; the peer is told and keeps no file', async () => {
    const src = folder();
    const dl = folder();
    writeFileSync(join(src, 'big.bin'), randomBytes(100_000_000));
    const { a, b } = await chatting(dl);
    a.type(`/send ${join(src, 'big.bin')}`);
    await b.waitFor('Accept file "big.bin" (100 MB) from alice? (y/n): ', 60_000);
    b.type('y');
    await a.waitFor('bob accepted "big.bin" (transfer 1).');
    a.type('/cancel 1');
    await a.waitFor('Transfer 1 cancelled.');
    await b.waitFor('alice cancelled transfer 1 ("big.bin").');
    expect(visible(dl)).toEqual([]);
    a.type('/cancel 1');
    await a.waitFor('Transfer 1 has ended (cancelled).');
    a.type('/cancel 9');
    await a.waitFor('No transfer 9: /transfers lists them.');
  });

  it('several files: their names come first, the question last (the prompt answered), as README shows', async () => {
    const src = folder();
    const dl = folder();
    mkdirSync(join(src, 'photos'));
    writeFileSync(join(src, 'notes.txt'), randomBytes(1_200));
    writeFileSync(join(src, 'photos', 'a.jpg'), randomBytes(2_400_000));
    writeFileSync(join(src, 'photos', 'b.jpg'), randomBytes(2_300_000));
    const { a, b } = await chatting(dl);
    a.type(`/send ${join(src, 'notes.txt')} ${join(src, 'photos')}`);
    const question = 'Accept 3 files (4.7 MB) from alice? (y/n): ';
    await b.waitFor(question, 30_000);
    // The question is the last thing printed: what the person answers is right above the cursor.
    expect(b.stdout.endsWith(question)).toBe(true);
    const printed = b.stdout.slice(0, -question.length).trimEnd().split('\n');
    const names = ['  notes.txt  1.2 kB', '  photos/a.jpg  2.4 MB', '  photos/b.jpg  2.3 MB'];
    expect(printed.slice(-names.length)).toEqual(names);
    // README.md shows the same lines, in the same order, the question (answered) last.
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const shown = /```\n((?: {2}.*\n)+Accept 3 files .*\n)```/.exec(readme)?.[1];
    expect(shown).toBe(`${names.join('\n')}\n${question}y\n`);
    b.type('y');
    await b.waitFor('verified.', 30_000, 3);
    expect(visible(dl).sort()).toEqual(['notes.txt', 'photos']);
  });

  it('//text sends "/text"; a single "/" that is no command is refused with a hint, never sent', async () => {
    const dl = folder();
    const { a, b } = await chatting(dl);
    a.type('/x marks the spot');
    await a.waitFor('Not sent: /x is not a command. Commands: /send PATH..., /transfers, /cancel N,');
    a.type('//x marks the spot');
    await b.waitFor('alice: /x marks the spot');
    expect(b.stdout.split('/x marks the spot').length - 1).toBe(1);
  });
});

describe('files in scripts', () => {
  it('--json file_progress comes about four times a second, as README says, however many files a folder has', async () => {
    const src = folder();
    const dl = folder();
    mkdirSync(join(src, 'many'));
    for (let i = 0; i < 300; i++) writeFileSync(join(src, 'many', `n${i}.txt`), `file ${i}`);
    const [b, portB] = await started('--json', '--yes', '--accept-files', '--download-dir', dl);
    const began = Date.now();
    const a = scriptSending(portB, { json: true }, join(src, 'many'));
    expect(await a.exited).toBe(0);
    await b.waitForEvent('file_done', 10_000);
    const seconds = (Date.now() - began) / 1000;
    for (const p of [a, b]) {
      const events = p.events();
      const progress = events.filter((e) => e.type === 'file_progress');
      // Every file ended with a progress event of its own: 300 and more in a second or two.
      expect(progress.length, `${progress.length} in ${seconds} s`).toBeLessThanOrEqual(4 * seconds + 2);
      expect(progress.length).toBeGreaterThan(0);
      // The last says where the transfer ended: all of it.
      const done = events.findIndex((e) => e.type === 'file_done');
      const last = events.slice(0, done).findLast((e) => e.type === 'file_progress');
      expect(last?.bytes).toBe(last?.size);
      expect(events[done]).toMatchObject({ files: 300, verified: 300 });
    }
  });

  it('--send-file exits 0 when the peer received and verified every file; --json has the events', async () => {
    const src = folder();
    const dl = folder();
    writeFileSync(join(src, 'one.bin'), randomBytes(300_000));
    writeFileSync(join(src, 'two.txt'), 'two');
    const [b, portB] = await started(
      '--json',
      '--yes',
      '--accept-files',
      '--download-dir',
      dl,
      '--max-file-size',
      '1M',
    );
    const a = scriptSending(portB, {}, join(src, 'one.bin'), join(src, 'two.txt'));
    expect(await a.exited).toBe(0);
    await b.waitForEvent('file_done', 10_000);
    const types = b.events().map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['file_offer', 'file_accepted', 'file_received', 'file_done']),
    );
    const received = b.events().filter((e) => e.type === 'file_received');
    expect(received.map((e) => e.path).sort()).toEqual([join(dl, 'one.bin'), join(dl, 'two.txt')]);
    expect(received[0]).toMatchObject({
      transfer: 1,
      session: expect.any(Number),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(b.events().find((e) => e.type === 'file_accepted')).toMatchObject({ offset: 0 });
    expect(readFileSync(join(dl, 'two.txt'), 'utf8')).toBe('two');
  });

  it('started again with its input already ended, a sender makes its unfinished offer again, waits for it, and exits 0 once it arrived', async () => {
    const src = folder();
    const dl = folder();
    const home = folder();
    const content = randomBytes(100_000_000);
    writeFileSync(join(src, 'big.bin'), content);
    const [b, portB] = await started('--json', '--yes', '--accept-files', '--download-dir', dl);
    const first = new NetchatProcess(
      ['0', '--connect', `127.0.0.1:${portB}`, '--send-file', join(src, 'big.bin')],
      { NETCHAT_HOME: home },
    );
    running.push(first);
    first.endInput();
    await b.waitForEvent('file_progress', 20_000);
    // The sender is stopped mid-transfer (Ctrl+C): the offer stays recorded in its home.
    expect(await first.kill('SIGINT')).not.toBe(0);
    await b.waitForEvent('file_failed', 10_000);
    expect(visible(dl)).toEqual([]);
    // Started again with nothing to send and its input at an end (`< /dev/null`).
    const again = new NetchatProcess(['0', '--connect', `127.0.0.1:${portB}`], { NETCHAT_HOME: home });
    running.push(again);
    again.endInput();
    expect(await again.exited, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/accepted "big\.bin" from [\d.]+ [kM]?B already held/);
    const accepted = b.events().filter((e) => e.type === 'file_accepted');
    expect(accepted).toHaveLength(2);
    expect(Number(accepted[1]?.offset)).toBeGreaterThan(0);
    await b.waitForEvent('file_received', 10_000);
    expect(Buffer.compare(readFileSync(join(dl, 'big.bin')), content)).toBe(0);
  }, 60_000);

  it('--send-file exits 4 when the peer declines (--max-file-size); --json file_declined says why', async () => {
    const src = folder();
    const dl = folder();
    writeFileSync(join(src, 'large.bin'), randomBytes(20_000));
    const [b, portB] = await started(
      '--json',
      '--yes',
      '--accept-files',
      '--download-dir',
      dl,
      '--max-file-size',
      '10k',
    );
    const a = scriptSending(portB, { json: true }, join(src, 'large.bin'));
    expect(await a.exited).toBe(4);
    expect(a.events().find((e) => e.type === 'file_declined')).toMatchObject({
      reason: 'too_large',
      by: 'peer',
      transfer: 1,
    });
    await b.waitForEvent('file_declined', 10_000);
    expect(readdirSync(dl)).toEqual([]);
  });

  it('--send-file of an empty folder: nothing is offered, --json says file_not_offered, exit 4', async () => {
    const empty = folder();
    const dl = folder();
    const [, portB] = await started('--json', '--yes', '--accept-files', '--download-dir', dl);
    const a = new NetchatProcess(['0', '--json', '--connect', `127.0.0.1:${portB}`, '--send-file', empty]);
    running.push(a);
    a.endInput();
    expect(await a.exited).toBe(4);
    const event = a.events().find((e) => e.type === 'file_not_offered');
    expect(event).toMatchObject({ paths: [empty] });
    expect(String(event?.detail)).not.toBe('');
    // Said by name, in words a person reads: no "invalid offer" jargon.
    expect(event?.detail).toBe(
      `Nothing was offered: ${empty} holds no regular file to send (links and special files are not sent)`,
    );
    expect(a.events().some((e) => e.type === 'file_offer')).toBe(false);
    expect(readdirSync(dl)).toEqual([]);
  });

  it('bad file arguments: a message and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--send-file', '/nonexistent/x'], /--send-file needs --connect PEER/],
      [
        ['--connect', '127.0.0.1:9', '--send-file', '/nonexistent/x'],
        /--send-file \/nonexistent\/x: no such file or folder/,
      ],
      [['--max-file-size', 'huge'], /--max-file-size must be a size, e.g. 500k, 10M, 1\.5G or 2GiB/],
    ];
    for (const [args, message] of cases) {
      const p = new NetchatProcess(['0', ...args]);
      running.push(p);
      expect(await p.exited).toBe(2);
      expect(p.stderr).toMatch(message);
    }
  });
});

describe('a hostile peer offering names', () => {
  it('../../x, /etc/x, a/../../b are refused whole; control characters, 300 bytes, CON are made safe inside the folder', async () => {
    const src = folder();
    const dl = join(folder(), 'deep', 'dl');
    mkdirSync(dl, { recursive: true });
    writeFileSync(join(src, 'payload'), 'owned');
    const [b, portB] = await started('--json', '--yes', '--accept-files', '--download-dir', dl);
    const mallory = await HostileSender.start();
    hostile.push(mallory);
    const session = await mallory.connect(portB);
    await mallory.offer(session, join(src, 'payload'), ['../../x', '/etc/x', 'a/../../b', 'fine.txt']);
    await b.waitForEvent('file_declined', 20_000);
    expect(b.events().find((e) => e.type === 'file_declined')).toMatchObject({
      reason: 'bad_offer',
      transfer: 1,
    });
    const safe = [
      `bell${String.fromCharCode(7, 27)}[2J.txt`,
      `${'é'.repeat(150)}.txt`,
      'CON',
      'sub/dir/x.txt',
    ];
    await mallory.offer(session, join(src, 'payload'), safe);
    await b.waitForEvent('file_done', 20_000);
    expect(b.events().find((e) => e.type === 'file_done')).toMatchObject({ files: 4, verified: 4 });
    // Nothing escaped: the folders above the download folder hold only what the test made.
    expect(readdirSync(join(dl, '..'))).toEqual(['dl']);
    expect(readdirSync(join(dl, '..', '..'))).toEqual(['deep']);
    const paths = b
      .events()
      .filter((e) => e.type === 'file_received')
      .map((e) => String(e.path));
    expect(paths).toHaveLength(4);
    for (const path of paths) {
      expect(path.startsWith(`${dl}/`)).toBe(true);
      expect(readFileSync(path, 'utf8')).toBe('owned');
      expect(
        Buffer.byteLength(
          path
            .slice(dl.length + 1)
            .split('/')
            .at(-1) ?? '',
        ),
      ).toBeLessThanOrEqual(255);
      expect([...path].some((c) => (c.codePointAt(0) ?? 0) < 32)).toBe(false);
    }
    expect(visible(dl).sort()).toHaveLength(4);
    // The terminal never gets the control characters (--json escapes them).
    expect(b.stdout.includes(String.fromCharCode(27))).toBe(false);
  });
});
