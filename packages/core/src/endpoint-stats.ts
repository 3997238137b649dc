/**
 * What an endpoint counts: datagrams in and out, and every datagram it dropped or answered
 * instead of acting on, by why. Misbehaving peers never raise errors (errors.ts is for the
 * caller's mistakes): what they send is dropped and counted here. One record; each counter has
 * one part of the endpoint that counts it, named beside it.
 */
export interface EndpointStats {
  /** Datagrams handed to the endpoint (endpoint.ts). */
  datagramsIn: number;
  /** Datagrams queued to send (endpoint-outbox.ts). */
  datagramsOut: number;
  /** Session messages (inside authentic packets) that failed to decode or validate: dropped. */
  malformed: number;
  /** Valid session messages that broke the session rules (bad fragments, invalid UTF-8 text): dropped. */
  protocolErrors: number;
  /** Valid session messages for a session this endpoint does not have (endpoint-unknown-session.ts). */
  unknownSession: number;
  /** Connect requests declined because maxSessions or maxSessionsPerPeer was reached (endpoint-admission.ts). */
  refusedOverLimit: number;
  /** Sessions ended because their peer restarted (the same key handshook again from the same address). */
  superseded: number;
  /** Sessions probed because their peer's key appeared from another address (or a role asked). */
  probed: number;
  /** Why the most recent malformed or protocol-breaking message was dropped. */
  lastDropReason: string;
}

export function emptyStats(): EndpointStats {
  return {
    datagramsIn: 0,
    datagramsOut: 0,
    malformed: 0,
    protocolErrors: 0,
    unknownSession: 0,
    refusedOverLimit: 0,
    superseded: 0,
    probed: 0,
    lastDropReason: '',
  };
}

/** A message dropped as malformed or as breaking the session rules: counted, with why. */
export function countDrop(
  stats: EndpointStats,
  counter: 'malformed' | 'protocolErrors',
  reason: string,
): void {
  stats[counter]++;
  stats.lastDropReason = reason;
}
