/**
 * What the commands' bundle holds: the engine, never @netchat/core/testing (the simulated
 * network, virtual timers and the rest of what tests drive the engine with). The apps import
 * only `@netchat/core`, whose index does not reach src/testing; this holds them to it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './installed.js';

/** Every file the build bundled for the tarball (dist/netchat/dist, packed as it is). */
function bundled(): { name: string; text: string }[] {
  const folder = join(repoRoot, 'packages', 'release', 'dist', 'netchat', 'dist');
  return readdirSync(folder)
    .filter((name) => name.endsWith('.mjs'))
    .map((name) => ({ name, text: readFileSync(join(folder, name), 'utf8') }));
}

/** A string literal each file has that minifying keeps: the file is in a bundle if its string is. */
const MARKERS = {
  testing: {
    file: 'packages/core/src/testing/simulated-network.ts',
    text: 'network still busy after',
  },
  engine: {
    file: 'packages/core/src/node/rendezvous-link.ts',
    text: 'is not a fingerprint',
  },
};

describe('the bundle of the three commands', () => {
  it('holds the engine and none of @netchat/core/testing', () => {
    for (const marker of Object.values(MARKERS))
      expect(readFileSync(join(repoRoot, marker.file), 'utf8')).toContain(marker.text);
    const files = bundled();
    expect(files.length).toBeGreaterThan(0);
    expect(files.some((f) => f.text.includes(MARKERS.engine.text))).toBe(true);
    expect(files.filter((f) => f.text.includes(MARKERS.testing.text)).map((f) => f.name)).toEqual([]);
  });
});
