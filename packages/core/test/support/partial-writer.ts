/**
 * A child process for the crash test: receives the first `stopAt` bytes of a seeded file into
 * `folder` (64 KiB buffers, a sync every 256 KiB), says so on stdout with what it holds, and
 * waits to be killed.
 */
import { PartialStore } from '../../src/index.js';
import { feed, keyOf, randomData } from './partial-files.js';

const [folder, size, stopAt] = [process.argv[2] ?? '', Number(process.argv[3]), Number(process.argv[4])];
const data = randomData(size);
const store = new PartialStore(folder, { bufferBytes: 64 * 1024, syncEveryBytes: 256 * 1024 });
const file = await store.open(keyOf(data), 'crashed.bin');
await feed(file, data, 0, stopAt);
process.stdout.write(`fed ${file.received} ${file.durable}\n`);
// Held open until the parent kills this process: nothing more is written or synced.
setInterval(() => {}, 60_000);
