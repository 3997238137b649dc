/**
 * One Session on its own, with a context that records what it sends and tells: for unit tests
 * that feed it datagrams by hand and step its timers on virtual time.
 */
import {
  type Datagram,
  type EndpointOptionsInput,
  type NetchatEvent,
  resolveOptions,
} from '../../src/index.js';
import { presencePace, type Route, Session, type SessionContext } from '../../src/session/session.js';
import { ackDelayToWire } from '../../src/wire/messages.js';

export interface Harness {
  readonly ctx: SessionContext;
  readonly route: Route;
  /** Every session message sent, with when. */
  readonly sent: (Datagram & { at: number })[];
  readonly events: (NetchatEvent & { at: number })[];
  readonly protocolErrors: string[];
  now: number;
}

export function harness(options: EndpointOptionsInput = {}, route: Partial<Route> = {}): Harness {
  const h: Harness = {
    sent: [],
    events: [],
    protocolErrors: [],
    now: 0,
    route: {
      id: 1,
      address: { host: '127.0.0.2', port: 2222 },
      remoteStatic: undefined,
      handshakeRtt: undefined,
      ...route,
    },
    ctx: {
      options: resolveOptions(options),
      transmit: (_route, datagram) => h.sent.push({ ...datagram, at: h.now }),
      emit: (event) => h.events.push({ ...event, at: h.now }),
      protocolError: (reason) => h.protocolErrors.push(reason),
      presencePace: presencePace(),
      // A session on its own, as before capabilities: no features, no streams (no path to use).
      sendsFeatures: false,
      pathFor: () => {
        throw new Error('the session harness has no paths');
      },
    },
  };
  return h;
}

export const WIRE_ID = 0x1234abcd;

/** An incoming request, accepted at `h.now`: an open session as the responder. */
export function openResponder(h: Harness, heartbeatMs = 25_000): Session {
  const session = Session.incoming(
    h.ctx,
    1,
    { type: 'connect_request', session: WIRE_ID, heartbeatMs, nick: 'peer' },
    h.route,
    h.now,
  );
  session.accept(h.now);
  return session;
}

/** Runs the session's timers up to `until` (inclusive), in deadline order. Bounded. */
export function advance(h: Harness, session: Session, until: number): void {
  for (let step = 0; step < 100_000; step++) {
    const at = session.nextDeadline();
    if (at === undefined || at > until) {
      h.now = until;
      return;
    }
    h.now = Math.max(h.now, at);
    session.handleTimeout(h.now);
  }
  throw new Error('session timers did not settle');
}

/** Feeds the session a datagram from the peer at `h.now`. */
export function receive(h: Harness, session: Session, datagram: Datagram): void {
  session.handle(datagram, h.now);
}

/** The peer's acknowledgement up to (not including) `ack`, held back `ackDelayMs`. */
export const ackOf = (ack: number, ackDelayMs = 0): Datagram => ({
  type: 'ack',
  session: WIRE_ID,
  ack,
  sack: 0,
  ackDelay: ackDelayToWire(ackDelayMs),
});

export const typesOf = (h: Harness, from = 0) => h.sent.filter((d) => d.at >= from).map((d) => d.type);
export const eventTypes = (h: Harness) => h.events.map((e) => e.type);
