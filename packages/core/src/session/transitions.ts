/**
 * Every way a session's state can change, as data (h11's `_state.py` is the model).
 *
 * Theory of operation. A session is a small state machine driven by events of three kinds: the
 * application's calls (`accept`, `decline`, `close`), what the peer said (`peer_accepted`,
 * `peer_disconnected`, …) and what time did (`connect_timed_out`, `peer_lost`, …). TRANSITIONS maps
 * (state, event) to the next state and nothing else: the side effects of an event (what to send,
 * what to tell the application) live in session.ts and its handlers, and those of entering a state
 * (which timers run) in state-changes.ts (ENTER).
 * An event with no entry for the current state is not allowed there: for the application's calls
 * that is the caller's mistake (Session throws or ignores, as documented on each call), for
 * anything else it means the event cannot happen in that state.
 *
 * Reading the table alone tells every way a state is reached:
 *
 *   connecting ──peer_accepted / adopted──▶ open ──close──▶ lingering ──all_delivered / linger_over──▶ closing
 *   requested ──accept──▶ open      requested ──decline / close──▶ draining
 *   any live state ──peer_disconnected / peer_restarted──▶ closed
 *   open, lingering, closing ──peer_lost──▶ closed
 *
 * Datagrams that do not change the state (text, heartbeats, acknowledgements, retransmitted
 * requests) are dispatched by the per-state table of datagram handlers (datagram-handlers.ts).
 */

export const SESSION_STATES = [
  /** We asked: the connect request is resent until the peer answers or the connect timeout passes. */
  'connecting',
  /** The peer asked: waiting for the application to accept or decline. */
  'requested',
  /** Both sides talk: text, heartbeats, acknowledgements. */
  'open',
  /** We are closing: our messages in flight go on until delivered, while the peer is alive and takes them. */
  'lingering',
  /** We sent `disconnect` and resend it until it is acknowledged or the attempts run out. */
  'closing',
  /** We declined: kept only to answer the requester's retransmissions with the same decline. */
  'draining',
  /** Final: the endpoint forgets the session. */
  'closed',
] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export type SessionEvent =
  // The application's calls.
  | 'accept'
  | 'decline'
  | 'close'
  // What the peer said.
  | 'peer_accepted'
  | 'peer_declined'
  | 'peer_disconnected'
  | 'disconnect_acknowledged'
  /** Simultaneous open: the peer's request won the tie-break and we took it. */
  | 'adopted'
  /** The peer completed a new handshake with the same key from the same address. */
  | 'peer_restarted'
  // What time did.
  | 'connect_timed_out'
  | 'request_expired'
  | 'peer_lost'
  | 'all_delivered'
  /** The linger gave up: the peer took nothing for too long, or the close's own limit passed. */
  | 'linger_over'
  | 'disconnect_given_up'
  | 'drained';

export const TRANSITIONS: {
  readonly [S in SessionState]: { readonly [E in SessionEvent]?: SessionState };
} = {
  connecting: {
    peer_accepted: 'open',
    adopted: 'open',
    peer_declined: 'closed',
    peer_disconnected: 'closed',
    connect_timed_out: 'closed',
    // Withdrawing an unanswered request: one disconnect, nothing to wait for.
    close: 'closed',
    peer_restarted: 'closed',
  },
  requested: {
    accept: 'open',
    decline: 'draining',
    // Closing a request is declining it.
    close: 'draining',
    peer_disconnected: 'closed',
    request_expired: 'closed',
    peer_restarted: 'closed',
  },
  open: {
    close: 'lingering',
    peer_disconnected: 'closed',
    peer_lost: 'closed',
    peer_restarted: 'closed',
  },
  lingering: {
    all_delivered: 'closing',
    linger_over: 'closing',
    peer_disconnected: 'closed',
    peer_lost: 'closed',
    peer_restarted: 'closed',
  },
  closing: {
    disconnect_acknowledged: 'closed',
    disconnect_given_up: 'closed',
    // Both closed at once: each acknowledges the other's disconnect.
    peer_disconnected: 'closed',
    peer_lost: 'closed',
    peer_restarted: 'closed',
  },
  draining: {
    // Only there to answer retries of a declined request: nothing to wait for at shutdown.
    close: 'closed',
    drained: 'closed',
    peer_restarted: 'closed',
  },
  closed: {},
};
