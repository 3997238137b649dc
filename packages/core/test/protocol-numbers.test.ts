/**
 * PROTOCOL.md's "Numbers at a glance": every row is netchat's own value, read from the code, and
 * every value the code names here has its row. A change on either side fails this test.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HANDSHAKE_RETRY_MAX } from '../src/endpoint-parts.js';
import { EndpointOptions } from '../src/options.js';
import { ACK_EVERY, MAX_RANGES } from '../src/path/ack-tracker.js';
import { NEW_PATH_INTERVAL_MS } from '../src/path/path.js';
import { BLACK_HOLE_LOSSES, MAX_PROBES, RAISE_INTERVAL_MS, SEARCH_STEP } from '../src/path/pmtu.js';
import {
  HEARTBEAT_ANSWER_MS,
  PROBE_EVERY_MS,
  RECONNECT_INITIAL_MS,
  RECONNECT_MAX_MS,
  REGISTER_REFUSED_RETRY_MS,
} from '../src/rendezvous/client-registration.js';
import {
  FRESH_REGISTRATION_MS,
  INTRODUCE_TIMEOUT_MS,
  MAX_SCHEDULED_PUNCHES,
  REQUEST_RETRY_MS,
} from '../src/rendezvous/introductions.js';
import { MAX_WAITING_REFINDS, REFIND_EVERY_MS } from '../src/rendezvous/refinds.js';
import { RELAY_OVERHEAD_BYTES } from '../src/rendezvous/relay.js';
import { CLAIM_EVERY_MS, CLAIM_FOR_MS } from '../src/rendezvous/relay-claims.js';
import { MAX_FALLBACKS, RELAY_FALLBACK_MS } from '../src/rendezvous/relay-fallback.js';
import { DIRECT_PROBE_EVERY_MS, DIRECT_PROBE_FOR_MS, RELAY_AFTER_MS } from '../src/rendezvous/relay-paths.js';
import { DEFAULT_RENDEZVOUS_SERVER_OPTIONS } from '../src/rendezvous/server.js';
import { EPOCH_PACKETS, REKEY_AFTER_MS } from '../src/secure/channel.js';
import { LIVENESS_CHECK_SENDS } from '../src/secure/liveness-check.js';
import {
  MAX_PATH_CANDIDATES,
  PATH_CHALLENGE_INTERVAL,
  PATH_CHALLENGE_TTL,
} from '../src/secure/path-validation.js';
import { REPLAY_WINDOW } from '../src/secure/replay-window.js';
import { DEFAULT_SECURE_OPTIONS } from '../src/secure/secure-options.js';
import { LINGER_STALL_TIMEOUTS } from '../src/session/connect-close.js';
import { FEATURE_ASKS } from '../src/session/features.js';
import { MIN_PROBE_GAP_MS } from '../src/session/liveness.js';
import { PRESENCE_BURST } from '../src/session/presence.js';
import { MAX_ACK_DELAY_MS } from '../src/session/rtt-estimator.js';
import { MAX_HELD_FEATURES } from '../src/streams/endpoint-streams.js';
import { MAX_RECEIVE_RANGES } from '../src/streams/receive-stream.js';
import { STREAM_LINGER_MS } from '../src/streams/stream-set.js';
import {
  MAX_DATAGRAM_BYTES,
  MAX_LARGE_DATAGRAM_BYTES,
  MAX_LARGE_MESSAGE_BYTES,
  MAX_MESSAGE_DATAGRAM_BYTES,
} from '../src/wire/header.js';
import {
  MAX_FRAGMENT_BYTES,
  MIN_HEARTBEAT_MS,
  PRESENCE_TYPING_EXPIRY_MS,
  PRESENCE_TYPING_REFRESH_MS,
} from '../src/wire/messages.js';
import { MAX_LARGE_STREAM_PAYLOAD_BYTES, MAX_STREAM_PAYLOAD_BYTES } from '../src/wire/stream-messages.js';

const options = EndpointOptions.parse({});
const secure = DEFAULT_SECURE_OPTIONS;
const rendezvous = DEFAULT_RENDEZVOUS_SERVER_OPTIONS;

/** Each row's name in PROTOCOL.md, and the value netchat's code has for it. */
const CODE: Record<string, number> = {
  // Fixed by the protocol.
  'largest datagram': MAX_DATAGRAM_BYTES,
  'largest large datagram': MAX_LARGE_DATAGRAM_BYTES,
  'largest relay packet': MAX_DATAGRAM_BYTES + RELAY_OVERHEAD_BYTES,
  'largest session message': MAX_MESSAGE_DATAGRAM_BYTES,
  'largest session message in a large packet': MAX_LARGE_MESSAGE_BYTES,
  'text bytes per fragment': MAX_FRAGMENT_BYTES,
  'stream bytes per packet': MAX_STREAM_PAYLOAD_BYTES,
  'stream bytes per large packet': MAX_LARGE_STREAM_PAYLOAD_BYTES,
  'replay window': REPLAY_WINDOW,
  'packets under one key': EPOCH_PACKETS,
  'longest use of one key': REKEY_AFTER_MS,
  'init resend, first': options.connectRetryInitial,
  'init resend, largest gap': Math.min(options.connectRetryMax, HANDSHAKE_RETRY_MAX),
  'half-done handshake lifetime': secure.pendingHandshakeTtl,
  'smallest heartbeatMs': MIN_HEARTBEAT_MS,
  max_ack_delay: MAX_ACK_DELAY_MS,
  'text window': options.window,
  'smallest RTO': options.minRto,
  'largest RTO': options.maxRto,
  'path candidates per channel': MAX_PATH_CANDIDATES,
  'path challenge answered within': PATH_CHALLENGE_TTL,
  'path challenges to one address, at most one in': PATH_CHALLENGE_INTERVAL,
  'path packets to one host': secure.pathPacketsPerSecondPerHost,
  'path packets in all': secure.pathPacketsPerSecond,
  'typing refresh': PRESENCE_TYPING_REFRESH_MS,
  'typing expiry': PRESENCE_TYPING_EXPIRY_MS,
  'stream packets in order before an acknowledgement': ACK_EVERY,
  'probes lost before a size fails': MAX_PROBES,
  'search stops within': SEARCH_STEP,
  'search again after': RAISE_INTERVAL_MS,
  'large packets lost for a black hole': BLACK_HOLE_LOSSES,
  // netchat's defaults and limits.
  'connect timeout': options.connectTimeout,
  'heartbeat interval': options.heartbeatInterval,
  'miss limit': options.missLimit,
  'closest probes': MIN_PROBE_GAP_MS,
  'text acknowledgement delay': options.ackDelay,
  'text fragments in order before an acknowledgement': options.ackEvery,
  'longest message': options.maxMessageBytes,
  'timeouts in a row that end a linger': LINGER_STALL_TIMEOUTS,
  'longest linger for streams alone': STREAM_LINGER_MS,
  'linger at shutdown': options.closeLinger,
  'disconnects sent': options.disconnectAttempts,
  sessions: options.maxSessions,
  'sessions with one peer address': options.maxSessionsPerPeer,
  'requests waiting from one host': options.maxRequestsPerHost,
  'half-done handshakes': secure.maxPendingHandshakes,
  'half-done handshakes that mean load': secure.loadPendingHandshakes,
  'inits a second that mean load': secure.loadInitsPerSecond,
  'inits read from one address under load': secure.initsPerSecondPerAddress,
  'cookie replies to one host': secure.cookieRepliesPerSecondPerHost,
  'handshakes started for one host under load': secure.handshakesPerSecondPerHost,
  'cookie secret replaced every': secure.cookieRotation,
  'unused channel closed after': secure.unusedChannelTtl,
  'challenges of a reused channel with no session to probe': LIVENESS_CHECK_SENDS,
  'features asks after the open': FEATURE_ASKS,
  'features kept for unknown sessions': MAX_HELD_FEATURES,
  'presence burst': PRESENCE_BURST,
  'initial stream window': options.streamWindow,
  'largest stream window': options.maxStreamWindow,
  'stream windows of a session together': options.streamReceiveBudget,
  'streams the peer may open': options.maxIncomingStreams,
  'pieces held out of order per stream': MAX_RECEIVE_RANGES,
  'ranges in a stream_ack': MAX_RANGES,
  'a new path at most every': NEW_PATH_INTERVAL_MS,
  registrations: rendezvous.maxRegistrations,
  'rendezvous requests from one host': rendezvous.requestsPerSecond,
  'relay budget R': rendezvous.relayBytesPerSecond,
  'relay pairs': rendezvous.maxRelayPairs,
  'relay pairs per client': rendezvous.maxRelayPairsPerClient,
  'relay pair kept after its last use': rendezvous.relayPairIdleMs,
  'relay pair grace': rendezvous.relayPairGraceMs,
  'relay pair tenure': rendezvous.relayPairTenureMs,
  'startIn margin': rendezvous.startMarginMs,
  "requester's extra startIn": rendezvous.requesterLagMs,
  'rendezvous request resend': REQUEST_RETRY_MS,
  'introduce gives up after': INTRODUCE_TIMEOUT_MS,
  'unavailable asked again within, after registering': FRESH_REGISTRATION_MS,
  'rendezvous reconnect, first': RECONNECT_INITIAL_MS,
  'rendezvous reconnect, largest gap': RECONNECT_MAX_MS,
  'register again after register_failed': REGISTER_REFUSED_RETRY_MS,
  'rendezvous session probed at most every': PROBE_EVERY_MS,
  'heartbeat answer awaited from the rendezvous': HEARTBEAT_ANSWER_MS,
  'introductions waiting for their moment': MAX_SCHEDULED_PUNCHES,
  'relay after': RELAY_AFTER_MS,
  'direct path challenge every': DIRECT_PROBE_EVERY_MS,
  'direct path challenges for': DIRECT_PROBE_FOR_MS,
  'refinds per peer, at most one in': REFIND_EVERY_MS,
  'refinds waiting': MAX_WAITING_REFINDS,
  'relay claims every': CLAIM_EVERY_MS,
  'relay claims for': CLAIM_FOR_MS,
  'relay fallback after': RELAY_FALLBACK_MS,
  'relay fallbacks planned': MAX_FALLBACKS,
};

const protocol = readFileSync(new URL('../../../PROTOCOL.md', import.meta.url), 'utf8');
const section = protocol.slice(
  protocol.indexOf('## Numbers at a glance'),
  protocol.indexOf('\n## ', protocol.indexOf('## Numbers at a glance') + 1),
);
/** `| name | value | unit | where |` rows, the header and the rule left out. */
const rows = [...section.matchAll(/^\| ([^|]+?) \| ([0-9,]+) \|/gm)].map(
  (m) => [m[1] ?? '', Number((m[2] ?? '').replaceAll(',', ''))] as const,
);

describe('PROTOCOL.md, Numbers at a glance', () => {
  it('has one row for each number the code names here, and no other', () => {
    expect(rows.map(([name]) => name).sort()).toEqual(Object.keys(CODE).sort());
  });

  it.each(rows)('%s: %d, as in the code', (name, value) => {
    expect(CODE[name]).toBe(value);
  });
});
