import { describe, expect, it, vi } from 'vitest';
import { COMMAND_HELP } from '../src/model/commands.js';
import { invisibleAsDim } from '../src/view/dim.js';
import { alice, build, chatWithFortyLines, ESC, settle, until } from './blessed-screen.js';
import { identityOf } from './fake-port.js';

describe('the blessed screen', () => {
  it('lays out status bar, conversation, input line and tab bar', () => {
    const { screenText } = build();
    const rows = screenText();
    expect(rows).toHaveLength(24);
    expect(rows[0]).toMatch(/^me@\[::\]:7000 │ home │ 0 chats\s*$/);
    expect(rows[1]).toContain('10:30 -- netchat: listening on [::]:7000');
    expect(rows[22]).toMatch(/^> \s*$/);
    expect(rows[23]).toMatch(/^ 0 home \s*$/);
  });

  it('types into the input line and sends on Enter, marking the message until it is delivered', async () => {
    const { model, keys, screenText, port, view } = build();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    view.render();
    await keys('hello 😀');
    expect(screenText()[22]).toMatch(/^> hello 😀 \s*$/);
    await keys('\r');
    expect(port.calls.at(-1)).toBe('send 1 hello 😀');
    expect(screenText().some((r) => r.includes('10:30 <me> hello 😀 …'))).toBe(true);
    model.onEvent({ type: 'delivered', session: 1, peer: alice, messageId: 1 });
    view.render();
    expect(screenText().some((r) => r.includes('<me> hello 😀 ✓'))).toBe(true);
    expect(screenText()[23]).toMatch(/ 0 home │ 1 alice /);
  });

  it('shows a request in a dialog; typing goes on into the draft, and only Alt+Y, once seen, accepts', async () => {
    const { model, keys, screenText, view, port, wait } = build();
    await keys('not finished');
    model.onEvent({ type: 'request', session: 4, peer: alice, nick: 'alice', ...identityOf('alice') });
    view.render();
    const text = screenText().join('\n');
    expect(text).toContain('Connection request from: 127.0.0.1 5555');
    expect(text).toContain('Nick: alice');
    expect(text).toContain('Fingerprint: ALIC-FPFP-FPFP-FPFP (new: this key has not been seen');
    expect(text).toContain('Accept? Alt+Y yes, Alt+N no, Esc later');
    await keys(' yes, n'); // letters typed in flow go on into the draft, never to the dialog
    await keys('\x1by'); // Alt+Y pressed before the dialog could be seen: nothing
    expect(port.calls).toEqual([]);
    wait(500);
    await keys('\x1by');
    expect(port.calls).toEqual(['accept 4']);
    expect(screenText().join('\n')).not.toContain('Accept? Alt+Y');
    // The new chat's tab is shown; the draft waits, exactly as typed, in the tab it was typed in.
    expect(screenText()[22]).toMatch(/^> \s*$/);
    await keys('\x1b0'); // Alt+0: home
    expect(model.editor.text).toBe('not finished yes, n');
    expect(screenText()[22]).toMatch(/^> not finished yes, n \s*$/);
  });

  it('typing "hello sunny day" key by key while a request arrives: every key goes to the draft, none answers', async () => {
    const { model, keys, port, screenText, wait } = build();
    const typed = 'hello sunny day';
    for (const [i, ch] of Array.from(typed).entries()) {
      // The request comes in after "hello s": the keys after it were in flight or typed on.
      if (i === 7)
        model.onEvent({ type: 'request', session: 4, peer: alice, nick: 'alice', ...identityOf('alice') });
      await keys(ch);
      wait(150); // a fast typist: the dialog has been on screen long enough halfway through "sunny"
    }
    expect(port.calls).toEqual([]);
    expect(model.editor.text).toBe(typed);
    expect(screenText()[22]).toMatch(/^> hello sunny day \s*$/);
    expect(screenText().join('\n')).toContain('Accept? Alt+Y yes, Alt+N no');
    await keys('\x1bn'); // Alt+N
    expect(port.calls).toEqual(['decline 4']);
    expect(model.editor.text).toBe(typed);
  });

  it('the quit question: y quits, n stays; any other key closes it and goes to the draft, none lost', async () => {
    const { model, keys, screenText, port, view } = build();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    view.render();
    await keys('\x03'); // Ctrl+C, as a shell's "clear the line"
    expect(screenText().join('\n')).toContain('Close 1 chat and quit? (y/n)');
    await keys('hello, are you there?');
    // Before: every key but y and n was dropped while the question was up.
    expect(model.confirmingQuit).toBe(false);
    expect(model.editor.text).toBe('hello, are you there?');
    expect(screenText().join('\n')).not.toContain('and quit?');
    const calls = () => port.calls.filter((c) => !c.startsWith('typing'));
    expect(calls()).toEqual(['accept 1']);
    await keys('\x03');
    await keys('n');
    expect(model.editor.text).toBe('hello, are you there?');
    expect(calls()).toEqual(['accept 1']);
    await keys('\x03');
    await keys('\r'); // Enter closes the question; the draft is not sent
    expect(model.confirmingQuit).toBe(false);
    expect(model.editor.text).toBe('hello, are you there?');
    expect(calls()).toEqual(['accept 1']);
    await keys('\x03');
    await keys('y');
    expect(calls()).toEqual(['accept 1', 'quit']);
  });

  it('switches tabs with Ctrl+N, Ctrl+P and Alt+digit, and highlights unread ones', async () => {
    const { model, keys, screenText, view } = build();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    await keys('\x10'); // Ctrl+P: back to home
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'new' });
    view.render();
    expect(screenText()[23]).toContain(' 1 alice *1 ');
    await keys('\x0e'); // Ctrl+N
    expect(model.current).toBe(1);
    expect(screenText()[23]).not.toContain('*1');
    await keys('\x1b0'); // Alt+0
    expect(model.current).toBe(0);
  });

  it('scrolls with PgUp and PgDn and says when more is below', async () => {
    const { keys, screenText } = chatWithFortyLines();
    expect(screenText().some((r) => r.includes('line 39'))).toBe(true);
    await keys('\x1b[5~'); // PgUp
    expect(screenText()[0]).toContain('▼ more below');
    expect(screenText().some((r) => r.includes('line 39'))).toBe(false);
    await keys('\x1b[6~'); // PgDn
    expect(screenText()[0]).not.toContain('more below');
    expect(screenText().some((r) => r.includes('line 39'))).toBe(true);
  });

  it('scrolls with the mouse wheel over the conversation with --mouse', async () => {
    const { model, keys, screenText } = chatWithFortyLines({ mouse: true });
    // X10 mouse report: ESC [ M, then button 64 (wheel up) and column 10, row 5, each plus 32.
    const wheel = (button: number) => `${ESC}[M${String.fromCharCode(32 + button, 32 + 10, 32 + 5)}`;
    await keys(wheel(64));
    expect(model.currentTab.log.anchor).toBeDefined();
    expect(screenText()[0]).toContain('▼ more below');
    await keys(wheel(65));
    expect(model.currentTab.log.anchor).toBeUndefined();
  });

  it('recalls input history with Up, opens help with F1 and closes it with Esc', async () => {
    const { keys, screenText } = build();
    await keys('/whoami\r');
    await keys('\x1b[A'); // Up
    expect(screenText()[22]).toMatch(/^> \/whoami \s*$/);
    await keys('\x1bOP'); // F1
    expect(screenText().join('\n')).toContain('help: Esc closes');
    expect(screenText().join('\n')).toContain('/connect IP PORT');
    await keys('\x1b');
    // A lone Esc may be told from Alt+key only after a short wait: wait for the help to close.
    await until(() => !screenText().join('\n').includes('help: Esc closes'), 'the help closing on Esc');
  });

  it('aligns emoji and full-width characters: each takes two cells', () => {
    const { model, view, screenText } = build();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    model.onEvent({ type: 'message', session: 1, peer: alice, text: '😀|漢字|x' });
    model.onEvent({ type: 'message', session: 1, peer: alice, text: '12|3456|x' });
    view.render();
    const rows = screenText();
    const wide = rows.find((r) => r.includes('😀|漢字|x')) ?? '';
    const narrow = rows.find((r) => r.includes('12|3456|x')) ?? '';
    // The cells, not the string lengths, must line up: count cells by the screen's own grid.
    const cells = (view.screen as unknown as { lines: [unknown, string][][] }).lines;
    const wideRow = cells[rows.indexOf(wide)] ?? [];
    const narrowRow = cells[rows.indexOf(narrow)] ?? [];
    const lastBar = (row: [unknown, string][]) => row.map((c) => c[1]).lastIndexOf('|');
    expect(lastBar(wideRow)).toBeGreaterThan(0);
    expect(lastBar(wideRow)).toBe(lastBar(narrowRow));
  });

  it('works at 40×10 and redraws on resize', async () => {
    const { output, screenText, model, view } = build(40, 10);
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    view.render();
    let rows = screenText();
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => Array.from(r).length <= 40)).toBe(true);
    expect(rows.join('\n')).toContain('Accept? Alt+Y yes');
    // The dialog leaves the input line and the tab bar in view: typing goes on under it.
    expect(rows[8]).toMatch(/^> /);
    expect(rows[9]).toMatch(/^ 0 home !1 /);
    model.answerDialog(true);
    view.render();
    // Too narrow for the whole status bar: your own address goes first, the session's state stays.
    expect(screenText()[0]).toBe('alice │ 127.0.0.1:5555 │ open'.padEnd(40));
    Object.assign(output, { columns: 100, rows: 30 });
    output.emit('resize');
    await until(() => screenText().length === 30, 'the redraw after the resize');
    rows = screenText();
    expect(rows).toHaveLength(30);
    expect(rows[0]).toBe('me@[::]:7000 │ alice │ 127.0.0.1:5555 │ open'.padEnd(100));
  });

  it("at 40 columns keeps the peer's name in the status bar, shortened when it must be, not dropped", async () => {
    const { model, port, screenText, view } = build(40, 10);
    const nick = 'bartholomew-the-magnificent';
    model.onEvent({ type: 'request', session: 1, peer: alice, nick, ...identityOf(nick) });
    model.answerDialog(true);
    const info = {
      id: 1,
      peer: alice,
      peerNick: nick,
      ...identityOf(nick),
      state: 'open' as const,
      initiator: false,
      rtt: 12,
      lastHeard: 0,
      missedHeartbeats: 0,
      pendingMessages: 0,
    };
    port.infos.set(1, info);
    view.render();
    // Who this tab talks to outranks how (direct or relayed), the round trip and the rest.
    expect(screenText()[0]).toBe(`${nick} │ open`.padEnd(40));
    // A heartbeat warning takes room: the name is cut to what is left, never dropped.
    port.infos.set(1, { ...info, missedHeartbeats: 3 });
    view.render();
    const bar = screenText()[0] ?? '';
    expect(bar).toMatch(/^bartholo\S*… │ open │ ⚠ 3 heartbeats missed\s*$/);
    expect(Array.from(bar.trimEnd()).length).toBeGreaterThan(36);
    // A short name stays whole beside the scroll mark.
    const short = build(40, 10);
    short.model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    short.model.answerDialog(true);
    short.port.infos.set(1, { ...info, peerNick: 'alice', ...identityOf('alice') });
    for (let i = 0; i < 20; i++)
      short.model.onEvent({ type: 'message', session: 1, peer: alice, text: `line ${i}` });
    short.view.render();
    await short.keys('\x1b[5~'); // PgUp
    short.model.onEvent({ type: 'message', session: 1, peer: alice, text: 'new' });
    short.view.render();
    expect(short.screenText()[0]).toMatch(/^alice │ open │ ▼ 1 new line below \(End\)\s*$/);
  });

  /** Every SGR parameter list the program wrote. */
  const sgrs = (written: string) =>
    [...written.matchAll(new RegExp(`${ESC}\\[([\\d;]*)m`, 'g'))].map((m) => (m[1] ?? '').split(';'));
  /** Colour parameters: foreground or background, normal, bright or 256. */
  const isColour = (p: string) => /^(3\d|4\d|9\d|10\d)$/.test(p);

  /** A screen showing everything that is styled: a warning, a failed mark, unread and waiting tabs. */
  async function everythingStyled(noColor: boolean, terminal: string) {
    const b = build(80, 24, noColor, { terminal });
    b.model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    b.model.answerDialog(true);
    b.model.onEvent({ type: 'message', session: 1, peer: alice, text: 'hi' });
    await b.keys('sent\r');
    b.model.onEvent({ type: 'failed', session: 1, peer: alice, messageId: 1, reason: 'closed' });
    b.model.selectTab(0);
    b.model.run({ name: 'invalid', message: 'a warning' });
    b.model.onEvent({ type: 'message', session: 1, peer: alice, text: 'unread' });
    b.model.onEvent({ type: 'request', session: 2, peer: alice, nick: 'bob', ...identityOf('bob') });
    b.model.dismissDialog();
    b.view.render();
    await settle(); // blessed flushes its output on a later tick
    b.model.selectTab(1); // now the home tab, with its waiting request, is not the current one
    b.view.render();
    await settle();
    return b;
  }

  it.each(['screen', 'screen-256color', 'tmux-256color', 'xterm', 'xterm-256color'])(
    'under TERM=%s uses default colours and attributes: no black, no grey, red only for trouble',
    async (terminal) => {
      const b = await everythingStyled(false, terminal);
      const params = sgrs(b.written()).flat();
      expect(params.filter(isColour).every((p) => p === '31')).toBe(true);
      expect(params).toContain('31'); // the warning
      expect(params).toContain('7'); // the bars and the current tab: inverse video
      expect(params).toContain('1'); // unread tab, peer nick: bold
      expect(params).toContain('4'); // the home tab with a waiting request: underlined
      expect(b.screenText()[23]).toContain(' 0 home !1 │ 1 alice ');
    },
  );

  it('writes nothing to stderr under TERM=screen-256color (blessed prints what terminfo it cannot compile)', () => {
    const error = vi.spyOn(console, 'error');
    try {
      build(80, 24, false, { terminal: 'screen-256color' });
      expect(error).not.toHaveBeenCalled();
    } finally {
      error.mockRestore();
    }
  });

  it('uses no colours at all with NO_COLOR, only attributes and text marks', async () => {
    const b = await everythingStyled(true, 'xterm-256color');
    const params = sgrs(b.written()).flat();
    expect(params.filter(isColour)).toEqual([]);
    expect(params).toContain('7');
    expect(b.screenText().some((r) => r.includes('<alice> hi'))).toBe(true);
    expect(b.screenText().some((r) => r.includes('<me> sent ? not confirmed delivered'))).toBe(true);
  });

  it('takes a bracketed paste whole: one multi-line message, the input showing its tail', async () => {
    const { model, keys, screenText, port, written } = build();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    await settle();
    expect(written()).toContain(`${ESC}[?2004h`); // bracketed paste asked for
    const big = `first line\r\n${'z'.repeat(20_000)}`;
    await keys(`${ESC}[200~${big}${ESC}[201~`);
    const input = screenText()[22] ?? '';
    expect(input).toMatch(/^… z+ +\[20011\]\s*$/);
    expect(Array.from(input).length).toBe(80);
    await keys('\r');
    expect(port.calls.filter((c) => c.startsWith('send'))).toEqual([
      `send 1 first line\n${'z'.repeat(20_000)}`,
    ]);
  });

  it('inserts a long bare paste (no bracketed paste) whole, and the keys after it still work', async () => {
    const { model, keys, screenText, port } = build();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    await keys(`${'b'.repeat(5_000)}\x1b[D\x1b[D!\r`); // then Left, Left, "!", Enter
    expect(port.calls.at(-1)).toBe(`send 1 ${'b'.repeat(4_998)}!bb`);
    expect(screenText()[22]).toMatch(/^> \s*$/);
  });

  it('edits with Ctrl+A/E/K/U/W and Alt+B/F, completes with Tab', async () => {
    const { model, keys } = build();
    const text = () => model.editor.text;
    await keys('one two three');
    await keys('\x1bb'); // Alt+B: before "three"
    await keys('\x0b'); // Ctrl+K
    expect(text()).toBe('one two ');
    await keys('\x01X'); // Ctrl+A, X
    expect(text()).toBe('Xone two ');
    await keys('\x1bf\x15'); // Alt+F (after "Xone"), Ctrl+U
    expect(text()).toBe(' two ');
    await keys('\x05\x17'); // Ctrl+E, Ctrl+W
    expect(text()).toBe(' ');
    await keys('\x15/cont\t'); // Ctrl+U, "/cont", Tab
    expect(text()).toBe('/contacts ');
  });

  it('rings the bell once for a message in another tab, not for one in this tab', async () => {
    const { model, view, written } = build();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    view.render();
    await settle();
    const BEL = String.fromCharCode(7);
    // BEL also ends the title sequence (OSC 0); those are not bells.
    const title = new RegExp(`${ESC}\\][^${BEL}]*${BEL}`, 'g');
    const bells = () => written().replace(title, '').split(BEL).length - 1;
    const before = bells();
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'here' });
    view.render();
    await settle();
    expect(bells()).toBe(before);
    model.selectTab(0);
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'elsewhere' });
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'and again' });
    view.render();
    await settle();
    expect(bells()).toBe(before + 1);
  });

  it('Ctrl+J puts a line break in the message, shown as ↵ while typing', async () => {
    const { model, keys, screenText, port } = build();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    await keys('one\ntwo');
    expect(screenText()[22]).toMatch(/^> one↵two /);
    await keys('\r');
    expect(port.calls.at(-1)).toBe('send 1 one\ntwo');
    const rows = screenText();
    const at = rows.findIndex((r) => r.includes('<me> one'));
    expect(rows[at + 1]).toMatch(/^ {6}two …/);
  });

  it('keeps a scrolled-back view still as lines arrive, says how many wait below, End jumps down', async () => {
    const { model, keys, screenText, view } = chatWithFortyLines();
    await keys('\x1b[5~'); // PgUp
    const before = screenText().slice(1, 9);
    for (let i = 0; i < 4; i++)
      model.onEvent({ type: 'message', session: 1, peer: alice, text: `late ${i}` });
    view.render();
    expect(screenText().slice(1, 9)).toEqual(before);
    expect(screenText()[0]).toContain('▼ 4 new lines below (End)');
    await keys('\x1b[4~'); // End
    expect(screenText().some((r) => r.includes('late 3'))).toBe(true);
    expect(screenText()[0]).not.toContain('below');
    await keys('\x1b[1~'); // Home
    expect(screenText()[1]).toContain('Accepted the request from 127.0.0.1 5555 (alice).');
  });

  it('does not take the mouse unless asked (--mouse)', async () => {
    const plain = build();
    await settle();
    expect(plain.written()).not.toMatch(new RegExp(`${ESC}\\[\\?100[0236]h`));
    const mouse = chatWithFortyLines({ mouse: true });
    await settle();
    expect(mouse.written()).toContain(`${ESC}[?1000h`);
  });

  it('at 40×10 the help scrolls to its last line', async () => {
    const { keys, screenText } = build(40, 10);
    await keys('\x1bOP'); // F1
    const shown = () => screenText().join('\n');
    expect(shown()).toContain(' /connect IP PORT');
    expect(shown()).not.toContain('Ctrl+C');
    await keys('\x1b[B'); // Down: one line
    expect(shown()).not.toContain(' /connect IP PORT');
    for (let i = 0; i < 20 && !shown().includes('Ctrl+C'); i++) await keys('\x1b[6~'); // PgDn
    expect(shown()).toContain('Ctrl+C');
    expect(shown()).not.toContain('/connect IP PORT');
  });

  it('at 40×10 the help wraps every explanation inside its box: no word is cut at the edge', async () => {
    const { keys, screenText } = build(40, 10);
    await keys('\x1bOP'); // F1
    const seen: string[] = [];
    for (let i = 0; i < 60 && !seen.join('\n').includes('Ctrl+C'); i++) {
      seen.push(...screenText());
      await keys('\x1b[B'); // Down: one line
    }
    seen.push(...screenText());
    // Inside the box's borders, the words read whole, whatever rows they were wrapped over.
    const inside = seen
      .filter((row) => row.includes('│'))
      .map((row) => row.slice(row.indexOf('│') + 1, row.lastIndexOf('│')).trim());
    const text = inside.join(' ').replace(/\s+/g, ' ');
    expect(text).toContain('known peers, verified, last seen');
    for (const [, why] of COMMAND_HELP) expect(text).toContain(why);
  });

  it('shows the current tab and counts hidden ones when the tabs do not fit', async () => {
    const { model, screenText, view } = build(40, 10);
    for (let i = 1; i <= 8; i++)
      model.onEvent({
        type: 'request',
        session: i,
        peer: { host: '127.0.0.1', port: 5000 + i },
        nick: `peer${i}`,
        ...identityOf(`peer${i}`),
      });
    for (let i = 1; i <= 8; i++) model.answerDialog(true);
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'unread on tab 1' });
    model.selectTab(6);
    view.render();
    const bar = screenText()[9] ?? '';
    expect(bar).toContain('6 peer6');
    expect(bar).toMatch(/^«\d+ \*1 /);
    expect(bar).toMatch(/\d+» *$/);
    // One space between a hidden-tabs mark and the tab beside it, as between words ("«1 1 alice").
    expect(bar.trimEnd()).not.toContain('  ');
  });

  it('draws actions as "* nick does", the nick in bold for the peer, marked like messages for us', async () => {
    const { model, keys, screenText, view, written } = build();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    view.render();
    await keys('/me waves\r');
    model.onEvent({ type: 'message', session: 1, peer: alice, text: '/me bows 🙇' });
    view.render();
    await settle();
    const rows = screenText();
    expect(rows.some((r) => /^10:30 \* me waves …\s*$/.test(r))).toBe(true);
    expect(rows.some((r) => /^10:30 \* alice bows 🙇\s*$/.test(r))).toBe(true);
    // "* alice" is drawn bold (SGR 1), as a peer's nick in a message is.
    expect(written()).toMatch(new RegExp(`${ESC}\\[[\\d;]*\\b1[;\\d]*m\\* alice`));
  });

  it('draws history lines dim (SGR 2), never invisible', async () => {
    const { model, view, written, screenText } = build();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    model.currentTab.log.prependWithHeading('Earlier chats', [
      { kind: 'peer', sender: 'alice', text: 'from last week', old: true },
    ]);
    view.render();
    await settle();
    const params = [...written().matchAll(new RegExp(`${ESC}\\[([\\d;]*)m`, 'g'))].flatMap((m) =>
      (m[1] ?? '').split(';'),
    );
    expect(params).toContain('2');
    expect(params).not.toContain('8');
    expect(screenText().some((r) => r.includes('<alice> from last week'))).toBe(true);
  });
});

describe('dim from invisible', () => {
  it('rewrites SGR 8 and 28, and leaves colour arguments alone', () => {
    expect(invisibleAsDim(`${ESC}[1;8m${ESC}[28m${ESC}[38;5;8m${ESC}[48;2;8;8;8;8m`)).toBe(
      `${ESC}[1;2m${ESC}[22m${ESC}[38;5;8m${ESC}[48;2;8;8;8;2m`,
    );
  });
});
