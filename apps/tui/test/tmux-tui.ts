/**
 * The built netchat-tui in a real terminal (tmux) for tests, with real peers on loopback. Every
 * terminal, peer, netchat home and file a test makes here is removed after it, whatever its
 * outcome.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetchatPeer } from '@netchat/core';
import { TmuxTerminal } from '@netchat/testkit';
import { afterEach } from 'vitest';

const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const peers: NetchatPeer[] = [];
const terminals: TmuxTerminal[] = [];
/** Files and folders a test made (netchat homes, a crash log). */
const files: string[] = [];
afterEach(async () => {
  for (const t of terminals.splice(0)) t.close();
  await Promise.all(peers.splice(0).map((p) => p.close(100)));
  for (const file of files.splice(0)) {
    try {
      chmodSync(file, 0o700); // a test may have made a home read-only
    } catch {}
    rmSync(file, { recursive: true, force: true });
  }
});

/** Removes `path` after the test. */
export function removeAfter(path: string): void {
  files.push(path);
}

/** Closes `peer` after the test. */
export function closeAfter(peer: NetchatPeer): NetchatPeer {
  peers.push(peer);
  return peer;
}

/** A new, empty netchat home, removed after the test. */
export function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'netchat-tui-home-'));
  removeAfter(home);
  return home;
}

export interface TuiOptions {
  env?: Record<string, string>;
  size?: { columns: number; rows: number };
  /** The netchat home (default: a new one). */
  home?: string;
  /** Words before the program (`setpriv …` to run it as another user). */
  prefix?: string[];
}

/** `netchat-tui ARGS` in a terminal of its own. */
export function tui(args: string[], options: TuiOptions = {}): TmuxTerminal {
  const env = { NETCHAT_HOME: options.home ?? newHome(), ...options.env };
  const terminal = new TmuxTerminal(
    [...(options.prefix ?? []), process.execPath, bin, ...args],
    env,
    options.size,
  );
  terminals.push(terminal);
  return terminal;
}

/** A real peer on loopback that accepts everyone and echoes every message. */
export async function echoPeer(nick: string): Promise<NetchatPeer> {
  const peer = closeAfter(await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick }));
  peer.on('request', (e) => peer.accept(e.session));
  peer.on('message', (e) => peer.send(e.session, `echo: ${e.text}`));
  return peer;
}

/**
 * Presses `key` until the screen shows `done` (the request dialog takes keys only once it has
 * been on screen for half a second), at most 40 times.
 */
export async function pressUntil(
  t: TmuxTerminal,
  key: string,
  done: (s: string) => boolean,
): Promise<string> {
  for (let i = 0; i < 40; i++) {
    t.press(key);
    try {
      return await t.waitUntil(done, `after ${key}`, 250);
    } catch {}
  }
  return t.waitUntil(done, `after ${key}`, 1000);
}
