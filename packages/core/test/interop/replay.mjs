// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// A replay window of 2048 counters (PROTOCOL.md *Data packets*, RFC 6479): the highest counter
// seen and the 2047 below it are the window; a counter seen before, or 2048 or more below the
// highest, is a replay. `check` before authenticating, `mark` only after.

export const REPLAY_WINDOW = 2048;

export class ReplayWindow {
  constructor() {
    this.highest = -1;
    this.slots = new Float64Array(REPLAY_WINDOW).fill(-1);
  }

  /** True if `counter` (a number) may be new. */
  check(counter) {
    if (counter > this.highest) return true;
    if (this.highest - counter >= REPLAY_WINDOW) return false;
    return this.slots[counter % REPLAY_WINDOW] !== counter;
  }

  mark(counter) {
    this.slots[counter % REPLAY_WINDOW] = counter;
    if (counter > this.highest) this.highest = counter;
  }
}
