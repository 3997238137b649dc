/**
 * The datagrams a stranger's size attack sends (the bot's and the CLI's attack-datagram-sizes
 * tests): 0 bytes, 1, a bare header, one past each datagram limit (1,200 and 1,452) and 65,507
 * (the largest UDP payload), each as random bytes and, from 4 bytes, behind a netchat header of
 * every packet code.
 */
import { randomBytes } from 'node:crypto';

/** The sizes, in bytes. */
export const DATAGRAM_SIZES: readonly number[] = [0, 1, 4, 1_201, 1_453, 65_507];
/** Magic "NC", the packet version (2), then each packet code there is and two that are not. */
const CODES = [0, 1, 2, 3, 4, 5, 6, 7, 255];

/** A fresh batch (new random bytes each call). */
export function datagramsOfEverySize(): Buffer[] {
  const all: Buffer[] = [];
  for (const size of DATAGRAM_SIZES) {
    all.push(randomBytes(size));
    if (size < 4) continue;
    for (const code of CODES) {
      const bytes = randomBytes(size);
      bytes.set([0x4e, 0x43, 2, code]);
      all.push(bytes);
    }
  }
  return all;
}
