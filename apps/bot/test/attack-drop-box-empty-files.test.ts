/**
 * The attacker's test for the drop box's file count: empty files cost no bytes, so a quota in
 * bytes alone let a stranger fill DIR with as many files (inodes, directory entries) as it liked:
 * 10,000 an offer, offer after offer, and folders (a path names up to 32). Each file and folder
 * now counts at least 4096 bytes (drop-box.ts, MIN_CHARGE). The bot, a real process on loopback;
 * the stranger, core's FileLink offering folders of empty files.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { offerAnswered, startDropBox } from './support/drop-box.js';
import { FileSender } from './support/file-sender.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Files and folders under `dir`, hidden ones too. */
function entries(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    n++;
    if (statSync(join(dir, name)).isDirectory()) n += entries(join(dir, name));
  }
  return n;
}

/** A folder `name` under `root` with `count` empty files. */
function empties(root: string, name: string, count: number): string {
  const folder = join(root, name);
  mkdirSync(folder);
  for (let i = 0; i < count; i++) writeFileSync(join(folder, `e${i}`), '');
  return folder;
}

const QUOTA = 1_000_000;

describe('the drop box and empty files by the ten thousand', () => {
  it(`10,000 empty files, then 150 and 150 more, in a ${QUOTA} B quota: at most ${Math.floor(QUOTA / 4096)} entries in DIR`, async () => {
    const { root, dir, bot: b } = startDropBox('empty', QUOTA, cleanup);
    const port = await b.port();
    const stranger = await FileSender.connect(port, cleanup);
    const answers = offerAnswered;
    const answer = async (folder: string, round: number) => {
      await stranger.offer([folder]);
      return (await b.waitForLogs(answers, round, 30_000)).at(-1);
    };

    // 10,000 empty files: 0 bytes, 10,001 entries (with their folder). Refused at once.
    const flood = await answer(empties(root, 'flood', 10_000), 1);
    expect(flood).toMatchObject({
      event: 'file_refused',
      reason: 'quota',
      detail: `quota: ${10_001 * 4096} bytes offered (10000 files, each at least 4096), ${QUOTA} left of ${QUOTA}`,
    });
    // 150 files and their folder fit (151 x 4096 = 618,496 B), and arrive.
    expect(await answer(empties(root, 'some', 150), 2)).toMatchObject({ event: 'file_accepted' });
    await b.waitForLogs((l) => l.event === 'file_done', 1, 60_000);
    // 150 more do not.
    expect(await answer(empties(root, 'more', 150), 3)).toMatchObject({
      event: 'file_refused',
      reason: 'quota',
    });
    const count = entries(dir);
    console.log(`DIR has ${count} entries after offers of 10,300 empty files`);
    expect(count).toBeLessThanOrEqual(Math.floor(QUOTA / 4096));
    expect(b.child.exitCode).toBe(null);
  }, 120_000);
});
