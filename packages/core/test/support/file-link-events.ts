/** Waiting for a FileLink's events in tests on real sockets: bounded in time, never a fixed sleep. */
import type { FileLink, LinkEvent } from '../../src/index.js';

/** The first event of `type` the link emits from now that `match` takes, at most `ms` away. */
export function nextEvent<T extends LinkEvent['type']>(
  link: FileLink,
  type: T,
  match: (e: Extract<LinkEvent, { type: T }>) => boolean = () => true,
  ms = 20_000,
): Promise<Extract<LinkEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      link.off('event', on);
      reject(new Error(`no ${type} within ${ms} ms`));
    }, ms);
    const on = (e: LinkEvent) => {
      if (e.type !== type || !match(e as Extract<LinkEvent, { type: T }>)) return;
      clearTimeout(timer);
      link.off('event', on);
      resolve(e as Extract<LinkEvent, { type: T }>);
    };
    link.on('event', on);
  });
}
