/**
 * What the benchmarks' child processes (transport-peer.mjs, files-peer.mjs) share: the machine's
 * wall clock both processes read, and a sampler of the process's peak RSS.
 */

/** Milliseconds on the machine's wall clock, sub-millisecond: both processes read the same one. */
export const wallClock = () => performance.timeOrigin + performance.now();

/** The highest RSS seen, sampled every `everyMs`. */
export function rssSampler(everyMs = 100) {
  let max = process.memoryUsage.rss();
  const timer = setInterval(() => {
    max = Math.max(max, process.memoryUsage.rss());
  }, everyMs);
  return {
    reset() {
      max = process.memoryUsage.rss();
    },
    peak() {
      return Math.max(max, process.memoryUsage.rss());
    },
    stop() {
      clearInterval(timer);
    },
  };
}
