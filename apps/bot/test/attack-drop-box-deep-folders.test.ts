/**
 * The attacker's test for the drop box's folders: each file and folder counts at least 4096
 * bytes against --files-quota (drop-box.ts, MIN_CHARGE), so the quota bounds DIR's entries too.
 * An offer is weighed with the folders its paths name, but once its file arrived only the file
 * was counted as DIR's: the folders the file was placed in were counted again only when the bot
 * restarted. A stranger sending one one-byte file at a time, each at the bottom of 16 new
 * folders, made DIR hold 17 entries for each one counted. The bot, a real process on loopback;
 * the stranger, core's FileLink offering a folder.
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

const QUOTA = 200_000;
/** Folders each file is placed at the bottom of (the offered folder and 15 below it). */
const DEPTH = 16;
const ROUNDS = 8;

/** A folder `name` under `root` with DEPTH - 1 folders below it and a one-byte file at the bottom. */
function deep(root: string, name: string): string {
  const top = join(root, name);
  let bottom = top;
  for (let i = 1; i < DEPTH; i++) bottom = join(bottom, `d${i}`);
  mkdirSync(bottom, { recursive: true });
  writeFileSync(join(bottom, 'f'), 'x');
  return top;
}

describe('the drop box and files at the bottom of new folders', () => {
  it(`${ROUNDS} one-byte files, each under ${DEPTH} new folders, one after the other, in a ${QUOTA} B quota: at most ${Math.floor(QUOTA / 4096)} entries in DIR`, async () => {
    const { root, dir, bot: b } = startDropBox('deep', QUOTA, cleanup);
    const port = await b.port();
    const stranger = await FileSender.connect(port, cleanup);
    const answers = offerAnswered;
    let accepted = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const transfer = await stranger.offer([deep(root, `deep${round}`)]);
      const answer = (await b.waitForLogs(answers, round, 30_000)).at(-1);
      if (answer?.event !== 'file_accepted') continue;
      accepted++;
      expect(await stranger.end(transfer)).toMatchObject({ type: 'file_done', verified: 1 });
    }
    const count = entries(dir);
    console.log(
      `${accepted} of ${ROUNDS} offers taken; DIR has ${count} entries (the quota counts ${Math.floor(QUOTA / 4096)})`,
    );
    expect(count).toBeLessThanOrEqual(Math.floor(QUOTA / 4096));
    expect(accepted).toBeGreaterThan(0);
    expect(b.child.exitCode).toBe(null);
  }, 120_000);
});
