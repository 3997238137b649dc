/**
 * Waits until `check` holds, polling: for what no event announces (a disk's thread reaching a
 * held sync, packets a peer has sent). Bounded: `polls` polls `every` ms apart; true if it held.
 */
export async function until(check: () => boolean, polls = 2_000, every = 5): Promise<boolean> {
  for (let i = 0; i < polls && !check(); i++) await new Promise((r) => setTimeout(r, every));
  return check();
}
