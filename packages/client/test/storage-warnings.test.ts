/** A home whose files cannot be written: one line per file, the first time, and nothing thrown. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporaryDirectory } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { ChatHistory, type StorageWarning, watchStorage } from '../src/index.js';

const alice = 'a1'.repeat(32);
const bob = 'b2'.repeat(32);
const entry = { at: '2026-11-24T10:00:00.000Z', direction: 'in', nick: 'alice', text: 'hi' } as const;

describe('watchStorage', () => {
  it('a file where the history folder should be: one warning for every peer, and the chat is not stopped', () => {
    const home = temporaryDirectory('netchat-storage-');
    writeFileSync(join(home, 'history'), 'in the way');
    const history = new ChatHistory(home);
    const warnings: StorageWarning[] = [];
    watchStorage({ history }, (w) => warnings.push(w));
    expect(() => {
      history.record(alice, entry);
      history.record(alice, entry);
      history.record(bob, entry);
    }).not.toThrow();
    expect(warnings.map((w) => w.text)).toEqual([
      `Could not write the chat history (${join(home, 'history', `${alice}.jsonl`)}: a file is where a folder should be): the chat goes on without being logged.`,
    ]);
    expect(history.stats.writeErrors).toBe(3);
  });

  it('/log off that cannot be saved holds for this run and says so, without throwing', () => {
    const home = temporaryDirectory('netchat-storage-');
    // A folder where the settings' temporary file goes: the write fails, as root too.
    mkdirSync(join(home, `settings.json.${process.pid}.tmp`));
    const history = new ChatHistory(home);
    const warnings: StorageWarning[] = [];
    watchStorage({ history }, (w) => warnings.push(w));
    expect(history.setEnabled(false)).toBe(false);
    expect(history.enabled).toBe(false);
    expect(warnings).toEqual([
      expect.objectContaining({
        what: 'settings',
        text: `Could not save the settings (${join(home, 'settings.json')}: a folder is where a file should be): the change lasts until you quit.`,
      }),
    ]);
  });
});
