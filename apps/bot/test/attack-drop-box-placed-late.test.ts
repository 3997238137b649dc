/**
 * The attacker's test for files placed after their transfer ended. A file whose transfer ends
 * while it is being finished (its bytes all came, it is being verified and synced) is placed all
 * the same, and its state may stay at DIR's top saying where (core's PlacedFile). The transfer's
 * end releases what the drop box reserved for it, so the file must still count against
 * --files-quota once placed, or a stranger that sends every byte and cancels at once, offer after
 * offer, would fill DIR past the quota. Measured: it does count (core tells `file_received` after
 * `file_cancelled`), and the offers past the quota are declined `no_room`.
 *
 * In process, so the finish can be held: the bot's side is a NetchatPeer, core's FileLink and the
 * DropBox, with the partial files' fsync held at the finish until the stranger's cancel arrived
 * (a slow disk does the same). The stranger is a NetchatPeer with a FileLink on loopback.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLink, type LinkEvent, NetchatPeer } from '@netchat/core';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessPolicy } from '../src/access-policy.js';
import { DropBox } from '../src/drop-box.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const QUOTA = 3_000_000;
const FILE = 1_000_000;
const ROUNDS = 5;

/** Waits (at most 10 s, checking every 5 ms) until `done()` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let tries = 0; !done(); tries++) {
    if (tries > 2000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Bytes of the regular files under `dir` that are not core's partial files. */
function placedBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const s = statSync(join(dir, name));
    if (s.isDirectory()) total += placedBytes(join(dir, name));
    else if (!name.startsWith('.netchat-')) total += s.size;
  }
  return total;
}

describe('the drop box and files placed after their transfer ended', () => {
  it(`${ROUNDS} files of ${FILE} B, each cancelled while it is being finished, in a ${QUOTA} B quota: DIR stays within it`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'netchat-attack-placed-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const dir = join(root, 'drop');
    // The finish's fsync waits while `held` is set; `finishing` says one is waiting.
    let held: Promise<void> | undefined;
    let finishing = false;
    const sync = async (handle: FileHandle) => {
      if (held) {
        finishing = true;
        await held;
      }
      await handle.datasync();
    };
    const bot = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
    const botLink = new FileLink(bot, {
      downloadFolder: dir,
      autoResume: false,
      partialStore: { io: { sync } },
    });
    cleanup.push(async () => {
      await botLink.close();
      await bot.close(0);
    });
    bot.on('request', (e) => bot.accept(e.session));
    const botEvents: LinkEvent[] = [];
    const seen: string[] = [];
    botLink.on('event', (e) => {
      botEvents.push(e);
      if (e.direction === 'receive') seen.push(`${e.transfer}:${e.type}`);
    });
    const log = pino({ level: 'silent' });
    new DropBox(bot, botLink, await AccessPolicy.create('all', []), log, {
      folder: dir,
      maxFileSize: QUOTA,
      quota: QUOTA,
    });

    const stranger = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
    const link = new FileLink(stranger);
    cleanup.push(async () => {
      await link.close();
      await stranger.close(0);
    });
    const events: LinkEvent[] = [];
    link.on('event', (e) => events.push(e));
    const features = new Promise<number>((resolve) => stranger.once('features', (e) => resolve(e.session)));
    await stranger.connect('127.0.0.1', bot.address.port);
    const session = await features;

    const answers: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const src = join(root, `f${round}.bin`);
      writeFileSync(src, randomBytes(FILE));
      let release = () => {};
      held = new Promise<void>((r) => {
        release = r;
      });
      finishing = false;
      const transfer = await link.offer(session, [src]);
      const answered = (e: LinkEvent) =>
        e.transfer === transfer && (e.type === 'file_accepted' || e.type === 'file_declined');
      await until(() => events.some(answered), `an answer to offer ${round}`);
      const answer = events.find(answered);
      answers.push(answer?.type === 'file_declined' ? answer.reason : 'accepted');
      if (answer?.type === 'file_accepted') {
        await until(() => finishing, `the finish of file ${round}`);
        link.cancel(transfer);
        await until(
          () => botEvents.some((e) => e.type === 'file_cancelled' && e.direction === 'receive'),
          `the cancel of transfer ${round}`,
        );
        botEvents.length = 0;
      }
      held = undefined;
      release();
      // The finish goes on, and the file is placed: the next offer is weighed after that.
      if (answer?.type === 'file_accepted')
        await until(
          () =>
            seen.filter((e) => e.endsWith(':file_received')).length ===
            answers.filter((a) => a === 'accepted').length,
          `file ${round} placed`,
        );
    }
    const inDir = placedBytes(dir);
    console.log(
      `answers: ${answers.join(', ')}; the bot's link told: ${seen.join(' ')}; DIR holds ${inDir} B of files in a ${QUOTA} B quota`,
    );
    expect(inDir).toBeLessThanOrEqual(QUOTA);
    // Each was cancelled while it was being finished (so this is the race it means to be).
    expect(seen.filter((e) => e.endsWith(':file_cancelled')).length).toBe(
      answers.filter((a) => a === 'accepted').length,
    );
  }, 60_000);
});
