/**
 * What each of a session's named timers (timers.ts) does when it fires: session.ts's
 * `handleTimeout` takes the timers due, in TIMER_NAMES order, and runs each one's action here.
 */
import {
  giveUpLinger,
  lingerStalled,
  onConnectGiveUp,
  onConnectRetry,
  onDisconnectRetry,
  onRequestExpired,
} from './connect-close.js';
import { askFeaturesAgain } from './features.js';
import { resendLost, sendAck } from './outgoing.js';
import type { Session } from './session.js';
import type { TimerName } from './timers.js';

/** What each named timer does when it fires (`due` is the deadline it had). */
export const TIMEOUTS: Record<TimerName, (s: Session, now: number, due: number) => void> = {
  connectRetry: onConnectRetry,
  connectGiveUp: onConnectGiveUp,
  requestExpiry: onRequestExpired,
  heartbeat: (s, now, due) => s.liveness.onHeartbeatDue(now, due),
  liveness: (s, now) => s.liveness.onCheck(now),
  keepaliveProbe: (s, now) => s.liveness.onProbeDue(now),
  probeAnswer: (s, now) => s.liveness.onProbeAnswerDue(now),
  retransmit: (s, now) => {
    if (s.state === 'lingering' && lingerStalled(s, now)) return;
    if (s.state === 'open' || s.state === 'lingering') resendLost(s, now);
    if (s.state === 'open') s.liveness.onUnanswered(now);
  },
  ack: sendAck,
  linger: giveUpLinger,
  disconnectRetry: onDisconnectRetry,
  drain: (s, now) => s.fire('drained', now),
  featuresAsk: askFeaturesAgain,
};
