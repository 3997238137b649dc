/**
 * Whether a process of this machine still runs, for what a dead program left behind in a folder
 * more than one program writes: a lock in the netchat home (home-files.ts), a temporary state
 * file beside a partial (partial-state.ts).
 */

/** Signal 0 asks the kernel only whether `pid` exists. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
