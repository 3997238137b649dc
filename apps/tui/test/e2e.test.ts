/**
 * The real netchat-tui in a real terminal (tmux), against a real peer on loopback: type, read
 * the reply off the screen, quit, and check the terminal was given back in its normal state.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NetchatPeer } from '@netchat/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const socket = `netchat-test-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });

let sessions = 0;
const peers: NetchatPeer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close(100)));
});
afterAll(() => {
  if (hasTmux) spawnSync('tmux', ['-L', socket, 'kill-server']);
});

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(resolve));
  return port;
}

/** A real peer that accepts everyone and echoes. */
async function echoPeer(): Promise<NetchatPeer> {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'echo-peer' });
  peers.push(peer);
  peer.on('request', (e) => peer.accept(e.session));
  peer.on('message', (e) => peer.send(e.session, `echo: ${e.text}`));
  return peer;
}

/** Starts netchat-tui in a new 80×20 tmux window; a marker shows what the shell printed before and after. */
function startTui(args: string[], env: Record<string, string> = {}): string {
  const name = `tui${sessions++}`;
  const vars = Object.entries(env)
    .map(([k, v]) => `${k}=${v} `)
    .join('');
  const command = `printf 'BEFORE-TUI\\n'; ${vars}${process.execPath} ${bin} ${args.join(' ')}; echo AFTER-EXIT $?; sleep 60`;
  tmux('-u', 'new-session', '-d', '-s', name, '-x', '80', '-y', '20', 'sh', '-c', command);
  return name;
}

const screen = (name: string) => tmux('capture-pane', '-p', '-t', name);

async function waitForScreen(name: string, text: string, ms = 10_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const shown = screen(name);
    if (shown.includes(text)) return shown;
    if (Date.now() > deadline) throw new Error(`"${text}" never appeared; the screen:\n${shown}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Alternate screen off, cursor visible, mouse reporting off: the terminal is as it was. */
function terminalState(name: string): string {
  return tmux('display-message', '-p', '-t', name, '#{alternate_on} #{cursor_flag} #{mouse_any_flag}').trim();
}

describe.skipIf(!hasTmux)('netchat-tui in a terminal', () => {
  it('chats with a real peer, then quits on Ctrl+C and restores the terminal', async () => {
    const peer = await echoPeer();
    const closed = new Promise((resolve) => peer.once('closed', resolve));
    const name = startTui([
      String(await freePort()),
      '--nick',
      'zoe',
      '--connect',
      `127.0.0.1:${peer.address.port}`,
    ]);
    await waitForScreen(name, `Connected to 127.0.0.1 ${peer.address.port} (echo-peer).`);
    expect(terminalState(name)).toBe('1 0 1'); // full screen: alternate screen, own cursor, mouse on
    tmux('send-keys', '-t', name, '-l', 'hello from tmux 😀');
    tmux('send-keys', '-t', name, 'Enter');
    const shown = await waitForScreen(name, '<echo-peer> echo: hello from tmux 😀');
    expect(shown).toContain('<zoe> hello from tmux 😀');
    expect(shown.split('\n')[0]).toContain('echo-peer 127.0.0.1:');
    tmux('send-keys', '-t', name, 'C-c');
    const after = await waitForScreen(name, 'AFTER-EXIT 0');
    expect(after).toContain('BEFORE-TUI');
    expect(terminalState(name)).toBe('0 1 0');
    await closed; // the peer was told the session closed
  });

  it('quits on /quit and restores the terminal', async () => {
    const name = startTui([String(await freePort())]);
    await waitForScreen(name, 'netchat: listening on');
    tmux('send-keys', '-t', name, '-l', '/quit');
    tmux('send-keys', '-t', name, 'Enter');
    await waitForScreen(name, 'AFTER-EXIT 0');
    expect(terminalState(name)).toBe('0 1 0');
  });

  it('quits on SIGTERM and restores the terminal', async () => {
    const port = await freePort();
    const name = startTui([String(port)]);
    await waitForScreen(name, 'netchat: listening on');
    // Anchored, so it signals node and not the shell whose command line also names it.
    execFileSync('pkill', ['-TERM', '-f', `^${process.execPath} ${bin} ${port}`]);
    await waitForScreen(name, 'AFTER-EXIT 0');
    expect(terminalState(name)).toBe('0 1 0');
  });

  it('on an uncaught error restores the terminal and prints where the details are', async () => {
    const name = startTui([String(await freePort())], { NETCHAT_TUI_CRASH_AFTER_MS: '500' });
    const shown = await waitForScreen(name, 'AFTER-EXIT 1');
    expect(terminalState(name)).toBe('0 1 0');
    expect(shown).toContain('netchat-tui: unexpected error: crash requested by NETCHAT_TUI_CRASH_AFTER_MS');
    const path = /details written to (\S+)/.exec(shown)?.[1] ?? '';
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain('crash requested');
  });
});
