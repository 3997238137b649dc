/**
 * The attacker's test for the drop box's quota: a stranger starts a transfer, sends most of a
 * file and vanishes (its cable cut mid-transfer: no close reaches the bot), then comes back with
 * a new key and another file, again and again. What each abandoned transfer wrote stays on disk
 * as a partial (kept for a resume), so the quota must count it: it used to count partials only
 * at start-up, and four rounds of 1.1 MB left 4.4 MB in a DIR whose quota was 2 MB (the disk
 * filled until core's free-space reserve). The bot, a real process on loopback; the stranger, core's
 * NetchatPeer with its FileLink behind a forwarder that cuts itself after a byte count.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CutCable } from './support/cut-cable.js';
import { offerAnswered, startDropBox } from './support/drop-box.js';
import { FileSender } from './support/file-sender.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** The bytes of every file in `dir` (the partials are hidden files at its top). */
function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const s = statSync(join(dir, name));
    total += s.isDirectory() ? dirBytes(join(dir, name)) : s.size;
  }
  return total;
}

const QUOTA = 2_000_000;
const FILE = 1_500_000;
const SENT_BEFORE_CUT = 1_100_000;
const ROUNDS = 4;

describe('the drop box and transfers abandoned again and again', () => {
  it(`${ROUNDS} rounds of ${FILE} B offered, ${SENT_BEFORE_CUT} B sent, then silence: DIR stays within the ${QUOTA} B quota`, async () => {
    // A stranger that vanishes is lost after a second or so, not 75 s.
    const {
      root,
      dir,
      bot: b,
    } = startDropBox('abandon', QUOTA, cleanup, ['--heartbeat-interval', '0.5', '--miss-limit', '2']);
    const port = await b.port();

    let attackerBytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const cable = await CutCable.open(port);
      cleanup.push(() => cable.close());
      cable.cutAfter = SENT_BEFORE_CUT;
      // A new key each round: each file is a partial of its own (sender key, hash, size).
      const stranger = await FileSender.connect(cable.port, cleanup);
      const src = join(root, `f${round}.bin`);
      writeFileSync(src, randomBytes(FILE));
      await stranger.offer([src]);
      // The bot answers (taken or refused); taken, the cable cuts itself mid-file; refused, the
      // stranger vanishes anyway. The bot loses the session on its heartbeats.
      const answers = offerAnswered;
      await b.waitForLogs(answers, round + 1, 20_000);
      if (b.logs().filter(answers).at(-1)?.event === 'file_refused') cable.cutNow();
      await b.waitForLogs((l) => l.event === 'lost', round + 1, 20_000);
      attackerBytes += cable.toBot;
      console.log(
        `round ${round}: ${cable.toBot} B to the bot (cut: ${cable.isCut}); DIR holds ${dirBytes(dir)} B`,
      );
      expect(dirBytes(dir)).toBeLessThanOrEqual(QUOTA);
    }
    const accepted = b.logs().filter((l) => l.event === 'file_accepted').length;
    const refused = b.logs().filter((l) => l.event === 'file_refused' && l.reason === 'quota').length;
    console.log(`${accepted} taken, ${refused} refused (quota); ${attackerBytes} B sent by the stranger`);
    // The first round is taken and cut short; from the second, what it left fills the quota.
    expect(accepted).toBe(1);
    expect(refused).toBe(ROUNDS - 1);
    expect(dirBytes(dir)).toBeGreaterThan(SENT_BEFORE_CUT / 2);

    // The bot still takes what fits, and counts the partials in its summary.
    const honest = await FileSender.connect(port, cleanup, '127.0.0.2');
    const small = join(root, 'small.bin');
    writeFileSync(small, randomBytes(100_000));
    await honest.offer([small]);
    await b.waitForLogs((l) => l.event === 'file_received', 1, 20_000);
    b.kill('SIGTERM');
    const [summary] = await b.waitForLogs((l) => l.event === 'files_summary');
    expect(summary?.used).toBeGreaterThanOrEqual(dirBytes(dir));
    expect(summary?.used).toBeLessThanOrEqual(QUOTA);
    expect(dirBytes(dir)).toBeLessThanOrEqual(QUOTA);
  }, 120_000);
});
