/** What a test measures of a running program from outside: its memory (/proc) and a bystander's inbox. */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

/** The resident memory of process `pid` (KiB), from /proc/PID/status; 0 once it is gone. */
export function rssKiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return Number(line?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The CPU time (user + system, ms) process `pid` has used, from /proc/PID/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks: 100 a second on Linux
}

/** The highest RSS of `pid` seen, sampled every 20 ms until `stop` is called. */
export function watchPeakRss(pid: number): { stop: () => number } {
  let peak = rssKiB(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssKiB(pid));
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rssKiB(pid));
    },
  };
}

/** A socket that never sends: it counts what arrives (a third party's address named by forgeries). */
export async function bystander(
  host: string,
): Promise<{ port: number; bytes: () => number; datagrams: () => number; close: () => void }> {
  const socket = createSocket('udp4');
  let bytes = 0;
  let datagrams = 0;
  socket.on('message', (data) => {
    bytes += data.length;
    datagrams++;
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return {
    port: socket.address().port,
    bytes: () => bytes,
    datagrams: () => datagrams,
    close: () => socket.close(),
  };
}
