import { temporaryDirectory } from './temporary.js';

/** A new, empty netchat home, so a test's program gets its own key and known peers (removed by `cleanUp`). */
export function freshHome(): string {
  return temporaryDirectory('netchat-home-');
}
