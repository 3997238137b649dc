/**
 * The session-message decoder of a peer built before capabilities and streams (issue 19): the
 * same codec without their messages, so it drops them as unknown codes, as such a peer does. The
 * tests play an old peer with it (EndpointDependencies.legacyPeer); nothing else uses it.
 */
import { makeCodec } from './codec.js';
import { MAX_MESSAGE_DATAGRAM_BYTES, MESSAGE_VERSION } from './header.js';
import { type Datagram, MESSAGE_DEFINITIONS } from './messages.js';
import { STREAM_MESSAGE_DEFINITIONS } from './stream-messages.js';

const newer = new Set<unknown>(STREAM_MESSAGE_DEFINITIONS);

export const legacyDecode = makeCodec<Datagram>(
  MESSAGE_VERSION,
  MESSAGE_DEFINITIONS.filter((definition) => !newer.has(definition)),
  MAX_MESSAGE_DATAGRAM_BYTES,
).decode;
