/**
 * Whether the peer of an open session is still there (PROTOCOL.md, Heartbeats and liveness).
 *
 * Heartbeats go on a fixed grid (I, 2I, 3I … after the session opened), whatever else is sent.
 * With interval I and margin M = I/2, the n-th interval counts as missed when nothing was heard
 * for n·I + M (so timer jitter on a healthy link is never a miss), and the peer is lost at
 * missLimit·I + M of silence. The first miss sends a probe at once, and more follow every I/8
 * (never closer than MIN_PROBE_GAP_MS) until something is heard, as TCP keepalive probes do: only
 * real silence ends a session. `probe()` asks a possibly dead channel at once instead (the
 * endpoint's restart rules, the rendezvous client's doubt): the peer then has PROBE_ANSWER_RTOS
 * timeouts to answer, and the heartbeat goes again every half RTO until it does.
 *
 * Answered intervals (PROTOCOL.md): with `skipAnsweredHeartbeats`, the responder (the side that did
 * not pick the session id) leaves out a grid heartbeat when the requester's heartbeat arrived
 * since the previous grid point: it answered that one, so the requester heard from it in the
 * interval, and an idle session costs two datagrams an interval instead of four. The requester
 * never leaves one out, so a peer that predates the rule sees only heartbeats that were lost.
 *
 * This owns the liveness state and its four timers (heartbeat, liveness, keepaliveProbe,
 * probeAnswer); it acts through the session (sending heartbeats, telling the application, ending
 * the session).
 */
import { lose } from './connect-close.js';
import { sendHeartbeat } from './outgoing.js';
import type { Session } from './session.js';

/**
 * Probes after a missed interval go every interval / 8, but never closer than this: at the
 * smallest interval (50 ms) that would be one every 6 ms, faster than an answer can come back
 * from a peer that delays acknowledgements up to 10 ms, and more than a hundred datagrams a
 * second for a peer that may simply be busy.
 */
export const MIN_PROBE_GAP_MS = 10;
/** A heartbeat interval counts as missed only after this fraction of an interval more. */
const LIVENESS_MARGIN = 0.5;
/** Fast probes after a miss: this many per interval. */
const PROBES_PER_INTERVAL = 8;
/** After `probe()`, the peer has this many retransmission timeouts to answer. */
const PROBE_ANSWER_RTOS = 2;
/**
 * Until answered, `probe()` sends its heartbeat again every RTO / this: with one heartbeat, its
 * loss or its answer's (36 % of probes at 20 % loss each way, as in the NAT lab) ended the
 * session, and a single lost datagram must never end one.
 */
const PROBE_RESENDS_PER_RTO = 2;
/**
 * A send unanswered after this much silence (ms) is told (`SessionContext.peerQuiet`): a peer
 * that moved behind a NAT that lets nothing of ours in is then asked for at the rendezvous in
 * about a second, not at the first missed heartbeat (37.5 s at the default 25 s interval).
 */
export const EARLY_SILENCE_MS = 1_000;

export class Liveness {
  /** Agreed at open: the smaller of the intervals the two peers asked for. */
  interval: number;
  /** When anything of the session was last heard from the peer. */
  lastHeard: number;
  /** Intervals missed so far in the current silence (each reported once). */
  missed = 0;
  /** When the session opened: silence counts from here or the last datagram, whichever is later. */
  private openedAt = 0;
  /** When `probe()` sent its first heartbeat: anything heard after it answers the probe. */
  private probeSentAt = Number.NEGATIVE_INFINITY;
  /** When the peer probed by `probe()` is lost if it has not been heard. */
  private probeDeadline = Number.NEGATIVE_INFINITY;
  /**
   * When the peer's latest heartbeat arrived, and the one before it (an answered interval needs
   * none of ours). Two, because a timer that fires late may find the latest already past its
   * grid point: then the one before may be the one that answered the interval.
   */
  private peerHeartbeatAt = Number.NEGATIVE_INFINITY;
  private previousPeerHeartbeatAt = Number.NEGATIVE_INFINITY;
  /** This silence was told as quiet (`onUnanswered`); hearing the peer ends it. */
  private quietTold = false;

  constructor(
    private readonly session: Session,
    now: number,
  ) {
    this.interval = session.ctx.options.heartbeatInterval;
    this.lastHeard = now;
  }

  /** The peer offered `offered` ms: both use the smaller of it and ours. */
  agree(offered: number): void {
    this.interval = Math.min(this.session.ctx.options.heartbeatInterval, offered);
  }

  /**
   * Something of the session came from the peer: it is alive. The liveness and probe timers read
   * `lastHeard` when they fire, so hearing moves no timer (this is on the hot path).
   */
  heard(now: number): void {
    this.lastHeard = now;
    this.missed = 0;
    this.quietTold = false;
  }

  /** A send of ours went unanswered through this silence, told (`onUnanswered`): silent, not merely idle. */
  get quiet(): boolean {
    return this.quietTold;
  }

  /**
   * A send of ours timed out unanswered (text's retransmission timeout, or the stream path's
   * probe timeout): after EARLY_SILENCE_MS of silence the peer may have moved where only the
   * rendezvous can find it, so that is told, once a silence (the rendezvous's refinds are
   * bounded besides). A missed heartbeat is still what counts toward losing the peer.
   */
  onUnanswered(now: number): void {
    if (this.quietTold || now - Math.max(this.lastHeard, this.openedAt) < EARLY_SILENCE_MS) return;
    this.quietTold = true;
    this.session.ctx.peerQuiet?.(this.session.id, now);
  }

  /** A heartbeat of the peer arrived (it is answered at once, in datagram-handlers.ts). */
  heardHeartbeat(now: number): void {
    this.previousPeerHeartbeatAt = this.peerHeartbeatAt;
    this.peerHeartbeatAt = now;
  }

  /** The session opened: the grid and the silence count start now. */
  start(now: number): void {
    this.openedAt = now;
    this.missed = 0;
    const timers = this.session.timers;
    timers.set('heartbeat', now + this.interval);
    timers.set('liveness', now + this.interval * (1 + LIVENESS_MARGIN));
  }

  /** On the grid: the next heartbeat is due one interval after this one was, never after `now`. */
  onHeartbeatDue(now: number, due: number): void {
    const interval = this.interval;
    if (!this.answered(due - interval, due)) sendHeartbeat(this.session, now);
    let next = due + interval;
    // Fired very late (a suspended laptop): skip to the first grid point after now.
    if (next <= now) next = due + interval * (Math.floor((now - due) / interval) + 1);
    this.session.timers.set('heartbeat', next);
  }

  /**
   * Whether our heartbeat due at `due` may be left out: we are the responder, we may skip, and
   * one of the requester's two latest heartbeats arrived after the previous grid point `since`
   * and no later than `due` (so we answered one in this interval). One that arrived after `due`,
   * before a late timer fired, counts for the next interval only, so one heartbeat never excuses
   * two of ours.
   */
  private answered(since: number, due: number): boolean {
    const session = this.session;
    if (!session.ctx.options.skipAnsweredHeartbeats || session.pickedWireId) return false;
    const inInterval = (at: number) => at > since && at <= due;
    return inInterval(this.peerHeartbeatAt) || inInterval(this.previousPeerHeartbeatAt);
  }

  /** Counts each interval of silence (beyond the margin) once; loses the peer at missLimit. */
  onCheck(now: number): void {
    const session = this.session;
    const interval = this.interval;
    const since = Math.max(this.lastHeard, this.openedAt);
    const margin = interval * LIVENESS_MARGIN;
    while (now >= since + (this.missed + 1) * interval + margin) {
      this.missed++;
      session.ctx.emit({
        type: 'heartbeat_missed',
        session: session.id,
        peer: session.peer,
        count: this.missed,
      });
      if (this.missed >= session.ctx.options.missLimit) {
        lose(session, now);
        return;
      }
    }
    // The first miss probes at once; the probe timer then keeps going until the peer is heard.
    if (this.missed > 0 && session.timers.get('keepaliveProbe') === undefined) this.onProbeDue(now);
    session.timers.set('liveness', since + (this.missed + 1) * interval + margin);
  }

  /** After a miss: one more heartbeat, and the next one interval/8 later, until the peer is heard. */
  onProbeDue(now: number): void {
    if (this.missed === 0) return;
    sendHeartbeat(this.session, now);
    this.session.timers.set(
      'keepaliveProbe',
      now + Math.max(MIN_PROBE_GAP_MS, this.interval / PROBES_PER_INTERVAL),
    );
  }

  /**
   * Asks at once whether the peer is still there: it must be heard within PROBE_ANSWER_RTOS
   * timeouts, and the heartbeat goes again every RTO / PROBE_RESENDS_PER_RTO until it is.
   */
  probe(now: number): void {
    const rto = this.session.rtt.rto;
    this.probeSentAt = now;
    this.probeDeadline = now + PROBE_ANSWER_RTOS * rto;
    sendHeartbeat(this.session, now);
    this.session.timers.set('probeAnswer', Math.min(this.probeDeadline, now + this.probeGap(rto)));
  }

  /** A probe's heartbeat went unanswered so far: send it again, or lose the peer at the deadline. */
  onProbeAnswerDue(now: number): void {
    if (this.lastHeard > this.probeSentAt) return;
    if (now >= this.probeDeadline) {
      lose(this.session, now);
      return;
    }
    sendHeartbeat(this.session, now);
    const next = now + this.probeGap(this.session.rtt.rto);
    this.session.timers.set('probeAnswer', Math.min(this.probeDeadline, next));
  }

  private probeGap(rto: number): number {
    return Math.max(MIN_PROBE_GAP_MS, rto / PROBE_RESENDS_PER_RTO);
  }
}
