/**
 * FileLink's answers to a person: an offer accepted into a download folder that cannot be used
 * (a file has its name) is declined `no_room` with the reason, and the sender told at once, never
 * left waiting; an unfinished offer forgotten (too many kept) is named in its warning.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_OUTGOING_OFFERS_PER_PEER } from '../src/index.js';
import { type Cleanups, linkPair } from './support/link-pair.js';
import { temporaryFolder } from './support/partial-files.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('FileLink.accept into a folder that cannot be used', () => {
  it('declines no_room with the reason, and the sender hears file_declined by the peer', async () => {
    const src = temporaryFolder('accept-src');
    const dst = temporaryFolder('accept-dst');
    cleanups.push(
      () => src.remove(),
      () => dst.remove(),
    );
    const notAFolder = join(dst.folder, 'downloads');
    writeFileSync(notAFolder, 'a file where the download folder should be');
    writeFileSync(join(src.folder, 'small.txt'), 'hello');
    const { la, lb, chat } = await linkPair(cleanups, { downloadFolder: notAFolder });
    const outcome = new Promise((resolve) => lb.on('file_offer', (e) => resolve(lb.accept(e.transfer))));
    const declined = new Promise<{ reason: string; by: string }>((resolve) =>
      la.on('file_declined', resolve),
    );
    const session = await chat();
    await la.offer(session, [join(src.folder, 'small.txt')]);
    expect(await outcome).toEqual({
      accepted: false,
      reason: 'no_room',
      message: `the download folder ${notAFolder} is not a folder`,
    });
    expect(await declined).toMatchObject({ reason: 'no_room', by: 'peer' });
    expect(dst.entries()).toEqual(['downloads']);
  });
});

describe('FileLink: unfinished offers past the record', () => {
  it('names the forgotten offer in one warning line', async () => {
    const src = temporaryFolder('forgotten-src');
    cleanups.push(() => src.remove());
    // The receiver never answers: every offer stays unfinished (8 sent, the rest waiting), and
    // the sender keeps 64 per peer.
    const { la, chat } = await linkPair(cleanups);
    const warnings: string[] = [];
    la.on('warning', (line) => warnings.push(line));
    const session = await chat();
    for (let i = 0; i < MAX_OUTGOING_OFFERS_PER_PEER + 1; i++) {
      writeFileSync(join(src.folder, `f${i}.txt`), `file ${i}`);
      await la.offer(session, [join(src.folder, `f${i}.txt`)]);
    }
    expect(warnings).toEqual([
      'Unfinished offer of "f0.txt" forgotten: too many unfinished offers are kept; it will not be made again by itself.',
    ]);
  });
});
