/**
 * A real crash: a process receiving a file is killed (SIGKILL) mid-transfer; a new store finds
 * its partial, goes on from what the state recorded (only bytes fsynced before, and no more than
 * about two sync periods behind what arrived), and the file verifies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PartialStore } from '../src/index.js';
import { feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';

const KiB = 1024;
let child: ChildProcess | undefined;
let made: ReturnType<typeof temporaryFolder> | undefined;
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  made?.remove();
});

function firstLine(process: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    process.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    process.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    process.on('exit', (code) => reject(new Error(`the writer exited (${code}): ${err}`)));
  });
}

describe('PartialStore after a crash', () => {
  it('a receiver killed mid-transfer resumes from what its state recorded, and the file verifies', async () => {
    made = temporaryFolder('crash');
    const size = 3 * 1024 * KiB + 11;
    const stopAt = 2 * 1024 * KiB + 5;
    const writer = fileURLToPath(new URL('./support/partial-writer.ts', import.meta.url));
    child = spawn(process.execPath, ['--import', 'tsx', writer, made.folder, String(size), String(stopAt)], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [, received, durable] = (await firstLine(child)).split(' ').map(Number);
    expect(received).toBe(stopAt);
    const killed = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGKILL');
    await killed;

    const data = randomData(size);
    const store = new PartialStore(made.folder, { bufferBytes: 64 * KiB, syncEveryBytes: 256 * KiB });
    const held = await store.held(keyOf(data));
    // Not less than the writer had made durable when it spoke, not more than it had received,
    // and no more than about two sync periods (and the buffers) behind.
    expect(held).toBeGreaterThanOrEqual(durable ?? Number.NaN);
    expect(held).toBeLessThanOrEqual(stopAt);
    expect(stopAt - held).toBeLessThanOrEqual(2 * 256 * KiB + 3 * 64 * KiB);
    const file = await store.open(keyOf(data), 'crashed.bin');
    expect(file.offset).toBe(held);
    await feed(file, data);
    const done = await file.finish();
    expect(readFileSync(done.path).equals(data)).toBe(true);
    expect(made.entries()).toEqual(['crashed.bin']);
  });
});
