import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new, empty netchat home, so a test's program gets its own key and known peers. */
export function freshHome(): string {
  return mkdtempSync(join(tmpdir(), 'netchat-home-'));
}
