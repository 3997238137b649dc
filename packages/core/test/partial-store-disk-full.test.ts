import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FileTransferError, PartialStore } from '../src/index.js';
import { feed, keyOf, randomData } from './support/partial-files.js';
import { mountTinyDisk } from './support/tiny-disk.js';

const KiB = 1024;

describe('PartialStore on a full disk', () => {
  it('refuses an offer without room, stops with disk_full keeping what is durable, and resumes once there is room', async (ctx) => {
    const disk = mountTinyDisk('full', '1m', (reason) => ctx.skip(reason));
    const { mountPoint } = disk;
    try {
      const store = new PartialStore(mountPoint, {
        bufferBytes: 64 * KiB,
        syncEveryBytes: 128 * KiB,
        reserveBytes: 64 * KiB,
      });
      const data = randomData(2 * 1024 * KiB);
      const key = keyOf(data);

      const room = await store.checkRoom(data.length);
      expect(room.ok).toBe(false);
      if (!room.ok) expect(room.reason).toContain(mountPoint);
      expect((await store.checkRoom(100 * KiB)).ok).toBe(true);

      // Accepted anyway (as if something else filled the disk since): it fills.
      const file = await store.open(key, 'big.bin');
      const error = await feed(file, data).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FileTransferError);
      expect((error as FileTransferError).code).toBe('disk_full');
      expect((error as FileTransferError).message).toMatch(
        /^no space left on the disk writing big\.bin: (the first [\d.]+ (bytes|[kMGT]B) are kept, and it goes on from there|nothing of it could be kept; it starts over) when offered again$/,
      );
      const kept = await file.close();
      expect(kept).toBeGreaterThan(0);
      expect(await store.held(key)).toBe(kept);

      // Room again (the person freed some): the transfer goes on from what was kept.
      expect(disk.resize('4m')).toBeUndefined();
      const resumed = await new PartialStore(mountPoint, {
        bufferBytes: 64 * KiB,
        syncEveryBytes: 128 * KiB,
      }).open(key, 'big.bin');
      expect(resumed.offset).toBe(kept);
      await feed(resumed, data);
      const received = await resumed.finish();
      expect(readFileSync(received.path).equals(data)).toBe(true);
    } finally {
      disk.remove();
    }
  });
});
