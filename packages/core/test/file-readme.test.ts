/**
 * packages/core/README.md's file-transfer example is support/file-readme-example.ts word for word
 * (so it typechecks with the tests), and it works: a folder sent by one peer arrives whole at the
 * other on loopback, with progress and the verdict.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatPeer } from '../src/index.js';
import { receiveFiles, sendFiles } from './support/file-readme-example.js';
import { randomData, temporaryFolder } from './support/partial-files.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Resolves when `check` holds, polled every 20 ms for at most `ms`. */
async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("packages/core/README.md's file example", () => {
  it('is support/file-readme-example.ts word for word', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('./support/file-readme-example.ts', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('//'))
      .join('\n')
      .replace("'../../src/index.js'", "'@netchat/core'")
      .trim();
    expect(readme).toContain(`\`\`\`ts\n${example}\n\`\`\``);
  });

  it('sends a folder from one peer to the other', async () => {
    const source = temporaryFolder('readme-src');
    const downloads = temporaryFolder('readme-dst');
    const home = temporaryFolder('readme-home');
    cleanups.push(() => {
      for (const f of [source, downloads, home]) f.remove();
    });
    mkdirSync(join(source.folder, 'photos', '2026'), { recursive: true });
    const a = randomData(300_000, 1);
    const b = randomData(1, 2);
    writeFileSync(join(source.folder, 'photos', 'a.jpg'), a);
    writeFileSync(join(source.folder, 'photos', '2026', 'b.jpg'), b);

    const alice = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
    const bob = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
    const said: string[] = [];
    const received = receiveFiles(bob, downloads.folder, (line) => said.push(`bob: ${line}`));
    const sent = sendFiles(alice, [join(source.folder, 'photos')], home.folder, (line) =>
      said.push(`alice: ${line}`),
    );
    cleanups.push(async () => {
      await Promise.all([sent.files.close(), received.close()]);
      await Promise.all([alice.close(100), bob.close(100)]);
    });
    bob.on('request', (e) => bob.accept(e.session));
    alice.connectTo(bob.address);
    await until(() => said.some((l) => l.startsWith('alice: transfer ')), 'the verdict');

    expect(said).toContain('alice: transfer 1: 2 of 2 files verified');
    expect(said.filter((l) => l.includes(', verified')).length).toBe(2);
    expect(said.some((l) => l.startsWith('alice: hashed 300001 of 300001'))).toBe(true);
    expect(readFileSync(join(downloads.folder, 'photos', 'a.jpg')).equals(a)).toBe(true);
    expect(readFileSync(join(downloads.folder, 'photos', '2026', 'b.jpg')).equals(b)).toBe(true);
    expect(sent.offered).toHaveLength(1);
  });
});
