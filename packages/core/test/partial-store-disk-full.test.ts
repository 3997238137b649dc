/**
 * A disk that fills during a transfer, on a real 1 MiB tmpfs (mounting needs root: skipped with
 * the reason otherwise): the room check refuses an offer too big for it; a transfer that fills it
 * stops with disk_full, keeps what was made durable, and goes on from there once there is room.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileTransferError, PartialStore } from '../src/index.js';
import { feed, keyOf, randomData } from './support/partial-files.js';

const KiB = 1024;

function run(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 20_000 });
  if (result.error) return result.error.message;
  return result.status === 0 ? undefined : result.stderr.trim() || `exit code ${result.status}`;
}

describe('PartialStore on a full disk', () => {
  it('refuses an offer without room, stops with disk_full keeping what is durable, and resumes once there is room', async (ctx) => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0)
      ctx.skip('mounting a tmpfs needs root on Linux');
    const mountPoint = mkdtempSync(join(tmpdir(), `netchat-full-${process.pid}-`));
    const mounted = run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', mountPoint]);
    if (mounted !== undefined) {
      rmSync(mountPoint, { recursive: true, force: true });
      ctx.skip(`cannot mount a tmpfs here: ${mounted}`);
    }
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
      expect(run('mount', ['-o', 'remount,size=4m', mountPoint])).toBeUndefined();
      const resumed = await new PartialStore(mountPoint, {
        bufferBytes: 64 * KiB,
        syncEveryBytes: 128 * KiB,
      }).open(key, 'big.bin');
      expect(resumed.offset).toBe(kept);
      await feed(resumed, data);
      const received = await resumed.finish();
      expect(readFileSync(received.path).equals(data)).toBe(true);
    } finally {
      // Lazily, so a handle left open by a failed assertion cannot keep the mount.
      run('umount', ['-l', mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });
});
