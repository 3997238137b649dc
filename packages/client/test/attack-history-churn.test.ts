/**
 * The attacker's test for the chat history's folder: strangers, each with a fresh key (what a
 * `netchat --yes` lets in, one after another), each say a long line and leave. Each peer's file
 * was bounded (256 KiB) but not their number: the folder grew a file a stranger, without bound
 * (2,000 strangers of 2 KiB: 8 MiB at a block a file, 512 MiB had each sent 256 KiB). Now the
 * folder is bounded too (`maxTotalBytes`, 64 MiB; 1 MiB here): the files written least recently
 * go first, and a friend still chatting keeps the lines.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { temporaryDirectory } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { ChatHistory, type HistoryEntry } from '../src/index.js';

const STRANGERS = 2000;
const BOUND = 1024 * 1024;
const BLOCK = 4096;

const said = (text: string): HistoryEntry => ({
  at: new Date().toISOString(),
  direction: 'in',
  nick: 'x',
  text,
});

/** What the folder takes: each file's whole blocks. */
function folderBytes(folder: string): { bytes: number; files: number } {
  const names = readdirSync(folder);
  const bytes = names.reduce((sum, n) => sum + Math.ceil(statSync(join(folder, n)).size / BLOCK) * BLOCK, 0);
  return { bytes, files: names.length };
}

describe('chat history and a churn of strangers with fresh keys', () => {
  it(`${STRANGERS} strangers of 2 KiB each: the folder stays within its bound, and a friend's lines stay`, () => {
    const home = temporaryDirectory('netchat-history-churn-');
    const history = new ChatHistory(home, { maxTotalBytes: BOUND });
    const friend = 'f0'.repeat(32);
    let most = 0;
    for (let i = 0; i < STRANGERS; i++) {
      history.record(randomBytes(32).toString('hex'), said(`stranger ${i} ${'s'.repeat(2000)}`));
      // The friend chats now and then: its file is never the least recently written for long.
      if (i % 50 === 0) history.record(friend, said(`friend line ${i}`));
      if (i % 100 === 0) most = Math.max(most, folderBytes(history.directory).bytes);
    }
    const end = folderBytes(history.directory);
    most = Math.max(most, end.bytes);
    console.log(
      `history churn: ${STRANGERS} strangers x 2 KiB; the folder at most ${most} B, at the end ${end.bytes} B in ${end.files} files (bound ${BOUND} B)`,
    );
    expect(most).toBeLessThanOrEqual(BOUND + BLOCK);
    expect(end.files).toBeLessThanOrEqual(BOUND / BLOCK);
    expect(history.recent(friend, 100).map((e) => e.text)).toContain(`friend line ${STRANGERS - 50}`);
    expect(history.stats.writeErrors).toBe(0);
  });

  it('counts what the folder held before this run: a restart does not start from nothing', () => {
    const home = temporaryDirectory('netchat-history-restart-');
    const first = new ChatHistory(home, { maxTotalBytes: BOUND });
    for (let i = 0; i < 200; i++) first.record(randomBytes(32).toString('hex'), said(`run 1 ${i}`));
    const second = new ChatHistory(home, { maxTotalBytes: BOUND });
    for (let i = 0; i < 200; i++) second.record(randomBytes(32).toString('hex'), said(`run 2 ${i}`));
    expect(folderBytes(second.directory).bytes).toBeLessThanOrEqual(BOUND + BLOCK);
    // The newest run's last lines are there; the first run's oldest files went first.
    expect(folderBytes(second.directory).files).toBeGreaterThan(100);
  });
});
