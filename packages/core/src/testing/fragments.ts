/**
 * A `text` fragment as a peer would send it, for tests that play the peer: what a reliable
 * receiver, a session or an endpoint is fed by hand (fragments out of order, duplicated, cut
 * into pieces, or not a message at all). Acknowledges nothing (`ack` 0, no selective acks).
 */
import type { Text } from '../wire/messages.js';

export function textFragment(
  session: number,
  seq: number,
  body: string | Uint8Array,
  index = 0,
  count = 1,
): Text {
  return {
    type: 'text',
    session,
    seq,
    ack: 0,
    sack: 0,
    ackDelay: 0,
    fragmentIndex: index,
    fragmentCount: count,
    payload: typeof body === 'string' ? new TextEncoder().encode(body) : body,
  };
}
