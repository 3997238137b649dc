import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileLink, NetchatPeer } from '../src/index.js';
import { randomData, temporaryFolder } from './support/partial-files.js';

describe('smoke link', () => {
  it('sends a file between two peers', async () => {
    const src = temporaryFolder('src');
    const dst = temporaryFolder('dst');
    const a = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
    const b = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
    const la = new FileLink(a, {});
    const lb = new FileLink(b, { downloadFolder: dst.folder });
    b.on('request', (e) => b.accept(e.session));
    lb.on('file_offer', (e) => void lb.accept(e.transfer));
    const data = randomData(5_000_000);
    writeFileSync(join(src.folder, 'big.bin'), data);
    const features = new Promise<number>((r) => a.on('features', (e) => r(e.session)));
    a.connectTo(b.address);
    const session = await features;
    const done = new Promise((r) => lb.on('file_done', r));
    const sent = new Promise((r) => la.on('file_done', r));
    const t0 = performance.now();
    await la.offer(session, [join(src.folder, 'big.bin')]);
    await Promise.all([done, sent]);
    console.log('ms', performance.now() - t0, la.stats, lb.stats);
    expect(Buffer.compare(readFileSync(join(dst.folder, 'big.bin')), data)).toBe(0);
    console.log(dst.entries());
    await la.close(); await lb.close();
    await a.close(); await b.close();
    src.remove(); dst.remove();
  });
});
