/**
 * File transfers in the view-model (the client's Transfers on a fake file link, on an injected
 * clock): an offer shown like a request (a line, a bell, `!` on the chat's tab, the dialog),
 * accepted or declined, its progress rows and its end line; cancelling from each side; our own
 * /send; an offer arriving while typing (on the real blessed screen); Tab completion of paths.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayAddress } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { listDirectory } from '../src/directory-lister.js';
import { tabText } from '../src/model/tab-bar.js';
import type { ModelSettings, TuiModel } from '../src/model/tui-model.js';
import { offerRows } from '../src/view/overlays.js';
import { alice, build, until } from './blessed-screen.js';
import { FakeFiles, fileInfo, offerIn, progressIn } from './fake-files.js';
import { identityOf, testModel } from './fake-port.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A model with file transfers on a fake link, its clock moved by the test, a chat open with alice. */
function setup(settings: Partial<ModelSettings> = {}) {
  const files = new FakeFiles();
  let now = Date.parse('2026-11-24T10:30:00');
  const { port, model } = testModel({
    clock: () => new Date(now),
    files: { port: files, downloadFolder: '/home/zoe/Downloads' },
    ...settings,
  });
  files.deliver = (e) => model.files?.transfers.handle(e);
  model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
  model.answerDialog(true);
  const type = (text: string) => {
    model.editor.insert(text);
    model.submit();
  };
  const lines = (index = 1) => model.tabs[index]?.lines.map((l) => l.text) ?? [];
  const advance = (ms: number) => {
    now += ms;
  };
  return { port, model, files, type, lines, advance };
}

const bar = (model: TuiModel) => model.tabBar().map(tabText);

/**
 * The real screen at `columns`×`rows`, its model taking files from a FakeFiles (downloads in
 * `downloadFolder`), with a chat open with `peer` (alice unless named): tab 1.
 */
function chatScreen(
  columns: number,
  rows: number,
  downloadFolder: string | undefined,
  settings: Partial<ModelSettings> = {},
  peer: { nick: string; name: string } = { nick: 'alice', name: 'alice' },
) {
  const files = new FakeFiles();
  const screen = build(columns, rows, false, {
    settings: { files: { port: files, ...(downloadFolder && { downloadFolder }) }, ...settings },
  });
  const { model } = screen;
  files.deliver = (e) => model.files?.transfers.handle(e);
  model.onEvent({ type: 'request', session: 1, peer: alice, nick: peer.nick, ...identityOf(peer.name) });
  model.answerDialog(true);
  return { ...screen, files };
}

describe('an offer to us', () => {
  it('is shown like a request, then accepted: progress rows, one end line, nothing left waiting', () => {
    const { model, files, lines, advance } = setup();
    model.takeBell();
    files.deliver(offerIn(7, 1, [fileInfo('report.pdf', 2_400_000)]));
    expect(lines().at(-1)).toBe(
      'Accept file "report.pdf" (2.4 MB) from alice? Alt+Y / Alt+N in the dialog, or /accept 7, /decline 7 (transfer 7).',
    );
    expect(model.takeBell()).toBe(true);
    expect(bar(model)).toEqual([' 0 home ', ' 1 alice !1 ']);
    expect(model.dialogOffer?.id).toBe(7);
    model.answerDialog(true);
    expect(files.calls).toEqual(['accept 7']);
    files.deliver({ type: 'file_accepted', transfer: 7, session: 1, direction: 'receive', offset: 0 });
    expect(model.dialogOffer).toBeUndefined();
    expect(bar(model)).toEqual([' 0 home ', ' 1 alice ']);
    const tab = model.currentTab;
    expect(model.files?.busy(tab)).toBe(true);
    files.deliver({
      type: 'file_started',
      transfer: 7,
      session: 1,
      direction: 'receive',
      file: 0,
      offset: 0,
    });
    for (let i = 1; i <= 4; i++) {
      advance(500);
      files.deliver(progressIn(7, { bytes: i * 300_000, size: 2_400_000, rate: 600_000, eta: 2 }));
    }
    const rows = model.files?.progressRows(tab, 100) ?? [];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.text).toMatch(/^\[7\] +50% {2}1\.2 MB\/2\.4 MB {2}600 kB\/s {2}ETA 0:02 {2}report\.pdf$/);
    expect(rows[0]?.fraction).toBe(0.5);
    advance(2000);
    files.deliver({
      type: 'file_received',
      transfer: 7,
      session: 1,
      direction: 'receive',
      file: 0,
      path: '/home/zoe/Downloads/report.pdf',
      relativePath: 'report.pdf',
      size: 2_400_000,
      hash: 'ab'.repeat(32),
      seconds: 4,
    });
    files.deliver({ type: 'file_done', transfer: 7, session: 1, direction: 'receive' } as never);
    expect(lines().slice(-2)).toEqual([
      'Receiving "report.pdf" into /home/zoe/Downloads (transfer 7).',
      'Received /home/zoe/Downloads/report.pdf (2.4 MB) in 0:04, 600 kB/s average, verified.',
    ]);
    expect(model.files?.busy(tab)).toBe(false);
    expect(model.files?.progressRows(tab, 100)).toEqual([]);
  });

  it('a transfer that stalls (the sender killed) shows its rate falling and no time left, not its last figures', () => {
    const { model, files, advance } = setup();
    files.deliver(offerIn(7, 1, [fileInfo('big.bin', 50_000_000)]));
    model.answerDialog(true);
    files.deliver({ type: 'file_accepted', transfer: 7, session: 1, direction: 'receive', offset: 0 });
    for (let i = 1; i <= 8; i++) {
      advance(500);
      files.deliver(progressIn(7, { bytes: i * 5_000_000, size: 50_000_000, rate: 10_000_000, eta: 1 }));
    }
    const row = () => model.files?.progressRows(model.currentTab, 100)[0]?.text;
    expect(row()).toMatch(/^\[7\] +80% {2}40 MB\/50 MB {2}10 MB\/s {2}ETA 0:01 {2}big\.bin$/);
    // Nothing more arrives: the view redraws every second, and the row follows the clock.
    advance(2_000);
    expect(row()).toMatch(/^\[7\] +80% {2}40 MB\/50 MB {2}6 MB\/s {2}ETA 0:02 {2}big\.bin$/);
    advance(10_000);
    expect(row()).toMatch(/^\[7\] +80% {2}40 MB\/50 MB {2}0 B\/s {2}ETA --:-- {2}big\.bin$/);
  });

  it('a folder of 25 files: a line for each of the first 10, one for the rest, then the end line', () => {
    const { model, files, lines } = setup();
    const names = Array.from({ length: 25 }, (_, i) => `photos/p${i}.jpg`);
    files.deliver(
      offerIn(
        7,
        1,
        names.map((name, i) => fileInfo(name, 1000, i)),
      ),
    );
    model.answerDialog(true);
    files.deliver({ type: 'file_accepted', transfer: 7, session: 1, direction: 'receive', offset: 0 });
    const before = lines().length;
    names.forEach((name, file) => {
      files.deliver({
        type: 'file_received',
        transfer: 7,
        session: 1,
        direction: 'receive',
        file,
        path: `/home/zoe/Downloads/${name}`,
        relativePath: name,
        size: 1000,
        hash: 'ab'.repeat(32),
        seconds: 1,
      });
    });
    files.deliver({ type: 'file_done', transfer: 7, session: 1, direction: 'receive' } as never);
    const said = lines().slice(before);
    expect(said.filter((l) => l.startsWith('Received '))).toHaveLength(10);
    expect(said.slice(10)).toEqual([
      'Transfer 7: its other 15 files are not listed one by one (a file that fails is); /transfers shows how far it is, and its end how it went.',
      'Transfer 7 done: all 25 files verified.',
    ]);
  });

  it('/decline in the chat declines its latest offer; /accept N takes the one named', () => {
    const { model, files, type, lines } = setup();
    files.deliver(offerIn(3, 1, [fileInfo('a.txt', 10)]));
    files.deliver(offerIn(4, 1, [fileInfo('b.txt', 20), fileInfo('c/d.txt', 30, 1)]));
    expect(lines().slice(-3)).toEqual([
      'Accept 2 files (50 bytes) from alice? Alt+Y / Alt+N in the dialog, or /accept 4, /decline 4 (transfer 4).',
      '  b.txt  20 bytes',
      '  c/d.txt  30 bytes',
    ]);
    expect(bar(model)[1]).toBe(' 1 alice !2 ');
    type('/decline');
    expect(files.calls).toEqual(['decline 4']);
    expect(lines().at(-1)).toBe('You declined 2 files from alice.');
    type('/accept 3');
    expect(files.calls).toEqual(['decline 4', 'accept 3']);
    type('/accept 3'); // answered already: not asked twice
    expect(files.calls).toEqual(['decline 4', 'accept 3']);
    files.deliver({ type: 'file_accepted', transfer: 3, session: 1, direction: 'receive', offset: 0 });
    type('/accept 3');
    expect(lines().at(-1)).toBe('No waiting request or file offer 3: see /requests and /transfers.');
  });

  it('Esc puts the offer aside: it waits for /accept N, and the dialog moves on', () => {
    const { model, files, lines } = setup();
    files.deliver(offerIn(5, 1, [fileInfo('a.txt', 10)]));
    files.deliver(offerIn(6, 1, [fileInfo('b.txt', 10)]));
    model.dismissDialog();
    expect(lines().at(-1)).toBe('File offer 5 is waiting: /accept 5 or /decline 5 (see /transfers).');
    expect(model.dialogOffer?.id).toBe(6);
    expect(bar(model)[1]).toBe(' 1 alice !2 ');
  });

  it('a request is asked before an offer', () => {
    const { model, files } = setup();
    files.deliver(offerIn(5, 1, [fileInfo('a.txt', 10)]));
    model.onEvent({ type: 'request', session: 2, peer: alice, nick: 'bob', ...identityOf('bob') });
    expect(model.dialogRequest?.session).toBe(2);
    expect(model.dialogOffer).toBeUndefined();
    model.answerDialog(false);
    expect(model.dialogOffer?.id).toBe(5);
  });

  it('closing the chat (/close, exit) while offers wait declines them first: the sender hears "declined", not "interrupted"', () => {
    const { model, port, files, type, lines } = setup();
    model.onEvent({ type: 'request', session: 2, peer: alice, nick: 'bob', ...identityOf('bob') });
    model.answerDialog(true);
    files.deliver(offerIn(5, 1, [fileInfo('a.txt', 10)]));
    files.deliver(offerIn(6, 1, [fileInfo('b.txt', 10)]));
    files.deliver(offerIn(7, 2, [fileInfo('c.txt', 10)]));
    model.dismissDialog(); // one of them put aside with Esc: still waiting, still declined
    model.selectTab(1);
    type('/close');
    // Each decline goes before the close, so the peer has it before the session ends.
    expect(files.calls).toEqual(['decline 5', 'decline 6']);
    expect(port.calls.at(-1)).toBe('close 1');
    expect(lines().filter((l) => l.startsWith('You declined'))).toEqual([
      'You declined "a.txt" from alice.',
      'You declined "b.txt" from alice.',
    ]);
    // bob's offer, in the other chat, still waits.
    expect(model.dialogOffer?.id).toBe(7);
  });
});

describe('a relayed chat', () => {
  it('says the transfer is relayed, and why slower: in the chat, the dialog and the progress row', () => {
    const { model, files, lines } = setup();
    model.onEvent({
      type: 'request',
      session: 2,
      peer: relayAddress(7),
      nick: 'carol',
      ...identityOf('carol'),
    });
    model.answerDialog(true);
    files.deliver(offerIn(4, 2, [fileInfo('big.iso', 5_000_000)]));
    expect(lines(2).slice(-1)).toEqual([
      'This chat goes through the rendezvous relay (no direct path between you): the transfer is limited to the relay budget its operator set, so it is slower.',
    ]);
    const offer = model.dialogOffer;
    if (!offer) throw new Error('no offer in the dialog');
    const dialog = offerRows(offer, '/dl', 60, 10).map((row) => row.map((span) => span.text).join(''));
    expect(dialog).toEqual([
      'File "big.iso" (5 MB) from carol (transfer 4)',
      'Into /dl',
      'Relayed: slower (the relay budget)',
      'Accept? Alt+Y yes, Alt+N no, Esc later',
    ]);
    model.answerDialog(true);
    files.deliver({ type: 'file_accepted', transfer: 4, session: 2, direction: 'receive', offset: 0 });
    expect(model.files?.progressRows(model.currentTab, 100)[0]?.text).toMatch(/^\[4\] relayed +0%/);
  });
});

describe('cancelling', () => {
  it('our /send, accepted, then /cancel N: the peer is asked, the end said', async () => {
    const { model, files, type, lines } = setup();
    type('/send notes.txt');
    await new Promise((r) => setImmediate(r));
    expect(files.calls).toEqual(['offer 1 notes.txt']);
    expect(lines().at(-1)).toBe('Offered "notes.txt" (1 kB) to alice: waiting for an answer (transfer 1).');
    files.deliver({ type: 'file_accepted', transfer: 1, session: 1, direction: 'send', offset: 0 });
    expect(lines().at(-1)).toBe('alice accepted "notes.txt" (transfer 1).');
    expect(model.files?.progressRows(model.currentTab, 80)).toHaveLength(1);
    type('/cancel 1');
    expect(files.calls.at(-1)).toBe('cancel 1');
    files.deliver({
      type: 'file_cancelled',
      transfer: 1,
      session: 1,
      direction: 'send',
      by: 'local',
    } as never);
    expect(lines().at(-1)).toBe('Transfer 1 cancelled.');
    expect(model.files?.progressRows(model.currentTab, 80)).toEqual([]);
    type('/cancel 1');
    expect(lines().at(-1)).toBe('Transfer 1 has ended (cancelled).');
    type('/cancel 9');
    expect(lines().at(-1)).toBe('No transfer 9: /transfers lists them.');
  });

  it('the peer cancels a transfer to us while it moves: said as a warning, its row gone', () => {
    const { model, files, lines } = setup();
    files.deliver(offerIn(2, 1, [fileInfo('b.bin', 5000)]));
    model.answerDialog(true);
    files.deliver({ type: 'file_accepted', transfer: 2, session: 1, direction: 'receive', offset: 0 });
    expect(model.files?.busy(model.currentTab)).toBe(true);
    files.deliver({
      type: 'file_cancelled',
      transfer: 2,
      session: 1,
      direction: 'receive',
      by: 'peer',
    } as never);
    const last = model.currentTab.lines.at(-1);
    expect(last).toMatchObject({ kind: 'warning', text: 'alice cancelled transfer 2 ("b.bin").' });
    expect(model.files?.busy(model.currentTab)).toBe(false);
    expect(lines()).not.toContain('Received');
  });

  it('/transfers lists every transfer with its state', () => {
    const { files, type, lines } = setup();
    type('/transfers');
    expect(lines().at(-1)).toBe('No file transfers yet. /send PATH... offers files.');
    files.deliver(offerIn(2, 1, [fileInfo('b.bin', 5000)]));
    type('/transfers');
    expect(lines().at(-1)).toBe('  2  ← alice  "b.bin" 5 kB  waiting for your answer');
  });
});

describe('an offer while typing (the real screen)', () => {
  it('never takes the keys typed before it could be seen; Alt+Y once seen accepts it', async () => {
    const { model, keys, screenText, wait, view, files } = chatScreen(100, 30, '/home/zoe/Downloads');
    const typed = 'hello sunny day';
    for (const [i, ch] of Array.from(typed).entries()) {
      if (i === 6) files.deliver(offerIn(9, 1, [fileInfo('写真 😀.jpg', 1_500_000)]));
      await keys(ch);
      wait(100);
    }
    await keys('\x1by'); // Alt+Y: the dialog has been up 0.8 s now, but this one came after the letters
    expect(files.calls).toEqual(['accept 9']);
    expect(model.editor.text).toBe(typed);
    view.render();
    expect(screenText()[28]).toMatch(/^> hello sunny day \s*$/);
  });

  it('Alt+Y pressed before the dialog was on screen long enough answers nothing', async () => {
    const { model, keys, screenText, wait, view, files } = chatScreen(40, 10, '/dl');
    await keys('draft');
    files.deliver(offerIn(9, 1, [fileInfo('report.pdf', 2_400_000)]));
    view.render();
    const shown = screenText().join('\n');
    expect(shown).toContain('File offer');
    expect(shown).toContain('Accept? Alt+Y yes, Alt+N no, Esc later');
    await keys('\x1by');
    expect(files.calls).toEqual([]);
    wait(500);
    await keys('\x1bn');
    expect(files.calls).toEqual(['decline 9']);
    expect(model.editor.text).toBe('draft');
    expect(screenText()[9]).toMatch(/ 1 alice /);
    expect(screenText()[9]).not.toMatch(/!1/);
  });
});

describe('an offer of many files at 40×10', () => {
  it('with no room for a name, the dialog says the count once, never "… and 200 more" of none', () => {
    const { view, screenText, files } = chatScreen(
      40,
      10,
      '/home/zoe/Downloads',
      {},
      {
        nick: 'carolinewithaverylongnickname_x',
        name: 'carol',
      },
    );
    const many = Array.from({ length: 200 }, (_, i) => fileInfo(`folder200/f${i}.txt`, 9, i));
    files.deliver(offerIn(4, 1, many));
    view.render();
    const inside = screenText()
      .filter((row) => row.startsWith('│'))
      .map((row) => row.slice(1, row.lastIndexOf('│')).trim());
    expect(inside.join(' ')).toMatch(
      /^200 files \(1\.8 kB\) from carolinewithaverylongnickname_x \(transfer 4\)/,
    );
    expect(inside.join(' ')).not.toContain('more');
    expect(inside.at(-1)).toBe('Accept? Alt+Y yes, Alt+N no, Esc later');
  });
});

describe('progress on screen', () => {
  it('rows under the log; figures arriving one by one are drawn at most four times a second, not once each', async () => {
    let now = 0;
    const { model, view, screenText, files } = chatScreen(80, 12, undefined, { clock: () => new Date(now) });
    // The app's wiring: figures redraw at the view's pace.
    model.settings.onProgress = () => view.scheduleProgressRender();
    files.deliver(offerIn(3, 1, [fileInfo('data.bin', 1_000_000)]));
    model.answerDialog(true);
    files.deliver({ type: 'file_accepted', transfer: 3, session: 1, direction: 'receive', offset: 0 });
    view.render();
    expect(screenText()[9]).toMatch(/^\[3\] +0% .*data\.bin/);
    expect(screenText()[10]).toMatch(/^> /);
    let renders = 0;
    const render = view.render.bind(view);
    view.render = () => {
      renders++;
      render();
    };
    const started = performance.now();
    for (let i = 1; i <= 40; i++) {
      // Each on a turn of its own, as figures come from the network.
      await new Promise((r) => setImmediate(r));
      now += 300;
      files.deliver(progressIn(3, { bytes: i * 20_000, size: 1_000_000, rate: 66_000, eta: 10 }));
    }
    const elapsed = performance.now() - started;
    await until(() => renders > 0, 'the progress redraw');
    await new Promise((r) => setTimeout(r, 300)); // the last quarter second's redraw, if one is due
    // At most one redraw per 250 ms the burst lasted (plus the last), never one per figure.
    expect(renders).toBeLessThanOrEqual(Math.floor(elapsed / 250) + 1);
    expect(renders).toBeLessThan(40);
    expect(screenText()[9]).toMatch(/^\[3\] +80% +800 kB\/1 MB/);
  });
});

describe('Tab after /send completes paths', () => {
  function withFolder() {
    const root = mkdtempSync(join(tmpdir(), 'netchat-tui-paths-'));
    folders.push(root);
    writeFileSync(join(root, 'my file.txt'), 'x');
    writeFileSync(join(root, '写真.jpg'), 'x');
    writeFileSync(join(root, '😀 smile.png'), 'x');
    writeFileSync(join(root, '.hidden'), 'x');
    mkdirSync(join(root, 'docs dir'));
    writeFileSync(join(root, 'docs dir', 'inner.txt'), 'x');
    const built = setup({ paths: { list: listDirectory, home: root, cwd: () => root } });
    const tab = (typed: string) => {
      built.model.editor.clear();
      built.model.completer.reset();
      built.model.editor.insert(typed);
      built.model.complete();
      return built.model.editor.text;
    };
    return { ...built, root, tab };
  }

  it('names with blanks, emoji and CJK, ~, and folders (Tab again goes in)', async () => {
    const { model, files, root, tab } = withFolder();
    expect(tab('/send my')).toBe('/send my\\ file.txt ');
    expect(tab('/send ~/写')).toBe('/send ~/写真.jpg ');
    expect(tab('/send 😀')).toBe('/send 😀\\ smile.png ');
    expect(tab('/send "my f')).toBe('/send my\\ file.txt ');
    expect(tab('/send ~')).toBe('/send ~/');
    expect(tab('/send .')).toBe('/send .hidden ');
    expect(tab('/send x.txt do')).toBe('/send x.txt docs\\ dir/');
    model.complete(); // into the folder
    expect(model.editor.text).toBe('/send x.txt docs\\ dir/inner.txt ');
    model.editor.clear();
    model.editor.insert('/send ~/docs\\ dir/inner.txt ~/my\\ file.txt');
    model.submit();
    await new Promise((r) => setImmediate(r));
    expect(files.calls).toEqual([`offer 1 ${root}/docs dir/inner.txt|${root}/my file.txt`]);
  });

  it('cycles through the names that match, and leaves the line as it was when none does', () => {
    const { model, tab } = withFolder();
    expect(tab('/send ')).toBe('/send docs\\ dir/');
    model.complete();
    expect(model.editor.text).toBe('/send my\\ file.txt ');
    model.complete();
    expect(model.editor.text).toBe('/send 写真.jpg ');
    model.complete();
    expect(model.editor.text).toBe('/send 😀\\ smile.png ');
    expect(tab('/send nothing-here')).toBe('/send nothing-here');
    expect(tab('/send /no/such/folder/x')).toBe('/send /no/such/folder/x');
  });
});

describe('quitting with a transfer moving', () => {
  it('the quit question says what quitting stops, at 40×10 too, with the question whole below it', async () => {
    const { model, view, screenText, keys, port, files } = chatScreen(40, 10, '/dl');
    files.deliver(offerIn(3, 1, [fileInfo('big300.bin', 300_000_000)]));
    model.answerDialog(true);
    files.deliver({ type: 'file_accepted', transfer: 3, session: 1, direction: 'receive', offset: 0 });
    files.deliver(progressIn(3, { bytes: 69_000_000, size: 300_000_000, rate: 20_000_000, eta: 11.5 }));
    view.render();
    await keys('\x03'); // Ctrl+C
    view.render();
    // The box's rows, inside its borders, read as one text.
    const inside = screenText()
      .filter((row) => row.startsWith('│'))
      .map((row) => row.slice(1, row.lastIndexOf('│')).trim())
      .join(' ');
    // Before: only "Close 1 chat and quit? (y/n)", and the 23% received stopped unsaid.
    expect(inside).toBe(
      'It stops transfer 3 ("big300.bin", 23%) unfinished: what arrived is kept, and it goes on when offered again. Close 1 chat and quit? (y/n)',
    );
    expect(screenText()[8]).toMatch(/^> /); // the input line stays in sight
    await keys('n');
    expect(model.confirmingQuit).toBe(false);
    expect(port.calls).not.toContain('quit');
    // Nothing moving: the question alone.
    files.deliver({ type: 'file_cancelled', transfer: 3, session: 1, direction: 'receive', by: 'peer' });
    await keys('\x03');
    view.render();
    expect(
      screenText()
        .filter((row) => row.startsWith('│'))
        .map((row) => row.slice(1, row.lastIndexOf('│')).trim()),
    ).toEqual(['Close 1 chat and quit? (y/n)']);
  });

  it('the quit question says which offers still asked it declines (its box hides their dialog)', async () => {
    const { model, view, screenText, keys, files } = chatScreen(40, 10, '/dl');
    const inside = () =>
      screenText()
        .filter((row) => row.startsWith('│'))
        .map((row) => row.slice(1, row.lastIndexOf('│')).trim())
        .join(' ');
    files.deliver(offerIn(4, 1, [fileInfo('a.txt', 10)]));
    view.render();
    await keys('\x03');
    view.render();
    // Before: only "Close 1 chat and quit? (y/n)", the offer declined unsaid.
    expect(inside()).toBe(
      'It declines the offer of "a.txt" from alice, not yet answered. Close 1 chat and quit? (y/n)',
    );
    await keys('n');
    files.deliver(offerIn(5, 1, [fileInfo('b.txt', 10), fileInfo('c.txt', 10)]));
    await keys('\x03');
    view.render();
    expect(inside()).toBe(
      'It declines 2 offers not yet answered (transfers 4, 5). Close 1 chat and quit? (y/n)',
    );
    expect(model.confirmingQuit).toBe(true);
  });
});
