/**
 * The bot: a NetchatPeer that answers requests by its access policy, greets, replies by its
 * rules within a per-peer rate, logs every event as JSON, and shuts down gracefully.
 */
import {
  type DeclineReason,
  type EventOf,
  formatAddress,
  isLoopbackHost,
  type NetchatEvent,
  type NetchatPeer,
  peerName,
  requestHost,
  type SessionId,
  type TokenBuckets,
  terminalSafe,
} from '@netchat/core';
import type { Logger } from 'pino';
import type { AccessPolicy } from './access-policy.js';
import type { LogBudget } from './log-budget.js';
import { type RulesEngine, truncateUtf8 } from './rules.js';

export interface BotSettings {
  maxSessions: number;
  /**
   * Sessions one host (core's `requestHost`: an IPv4 address, an IPv6 /64, a relayed peer as
   * itself) may hold at once. The bot answers every request at once, so core's limit on the
   * requests a host has waiting never applies: one stranger with a port for each session held
   * every one of --max-sessions, and everyone else was declined.
   */
  maxSessionsPerHost: number;
  /** Whether maxSessionsPerHost holds for loopback peers too (on the bot's own machine): only when the operator set it. */
  limitsLoopback: boolean;
  maxMessageBytes: number;
  /** What a peer's messages may make the bot log: texts cut, lines a second. */
  logBudget: LogBudget;
  /** More for the `summary` line (with --rendezvous: the rendezvous's counters). */
  summaryExtra?: () => Record<string, unknown>;
}

export interface BotSummary {
  sessionsServed: number;
  messagesIn: number;
  messagesOut: number;
  /** Replies not sent because their peer was over --rate. */
  repliesRateLimited: number;
}

export class Bot {
  private readonly open = new Set<SessionId>();
  /** Each open session's host as it opened (`requestHost`), and how many each host holds. */
  private readonly hostOf = new Map<SessionId, string>();
  private readonly perHost = new Map<string, number>();
  /** Sessions `--connect` asked for and not yet answered: their accept is logged as `connected`. */
  private readonly dialled = new Set<SessionId>();
  /** Each open session's peer nick, as last logged: a presence that changes it is logged. */
  private readonly nicks = new Map<SessionId, string>();
  /**
   * Replies dropped by the rate limit since the last report, by peer (IP:PORT): a fast script
   * would otherwise log a line per message it sent (1,971 in one run).
   */
  private readonly rateLimited = new Map<string, number>();
  private accepting = true;
  readonly summary: BotSummary = { sessionsServed: 0, messagesIn: 0, messagesOut: 0, repliesRateLimited: 0 };

  constructor(
    private readonly peer: NetchatPeer,
    private readonly rules: RulesEngine,
    private readonly policy: AccessPolicy,
    /** Replies each peer may still get: --rate a second, in bursts of --rate. */
    private readonly limiter: TokenBuckets,
    private readonly log: Logger,
    private readonly settings: BotSettings,
  ) {
    peer.on('event', (e) => this.onEvent(e));
  }

  /** Every peer event, by type: the compiler flags an event type this does not handle. */
  private onEvent(e: NetchatEvent): void {
    switch (e.type) {
      case 'request':
        this.onRequest(e);
        return;
      case 'accepted':
        // The bot's own accept of a request is logged as `accept`; a peer taking its request, here.
        if (this.dialled.delete(e.session))
          this.log.info(
            { event: 'connected', peer: at(e), nick: terminalSafe(e.nick), fingerprint: e.fingerprint },
            'connected',
          );
        this.onOpen(e.session, e.nick);
        return;
      case 'declined':
        this.dialled.delete(e.session);
        this.log.info(
          { event: 'declined', peer: at(e), reason: e.reason, detail: terminalSafe(e.detail) },
          'declined',
        );
        return;
      case 'no_answer':
        this.dialled.delete(e.session);
        this.log.warn({ event: 'no_answer', peer: at(e) }, 'no answer');
        return;
      case 'message':
        this.onMessage(e);
        return;
      case 'delivered':
        if (this.mayLog(at(e)))
          this.log.info({ event: 'delivered', peer: at(e), messageId: e.messageId }, 'delivered');
        return;
      case 'failed':
        if (this.mayLog(at(e)))
          this.log.warn({ event: 'failed', peer: at(e), messageId: e.messageId, reason: e.reason }, 'failed');
        return;
      case 'heartbeat_sent':
        return;
      case 'presence':
        // Typing comes and goes every few seconds: only a nick change is worth a line.
        if (e.nick !== this.nicks.get(e.session)) {
          if (this.mayLog(at(e)))
            this.log.info({ event: 'nick', peer: at(e), nick: terminalSafe(e.nick) }, 'peer changed nick');
          this.nicks.set(e.session, e.nick);
        }
        return;
      case 'heartbeat_missed':
        this.log.debug({ event: 'heartbeat_missed', peer: at(e), count: e.count }, 'heartbeat missed');
        return;
      case 'lost':
        this.onEnded(e, 'lost');
        return;
      case 'request_expired':
        this.log.info({ event: 'request_expired', peer: at(e) }, 'request expired');
        return;
      case 'closed':
        this.onEnded(e, 'closed');
        return;
      // Streams carry file transfers: a FileLink on the same peer takes these events (and
      // without files, the option `streams` is off and none comes).
      case 'features':
      case 'stream_opened':
      case 'stream_readable':
      case 'stream_writable':
      case 'stream_finished':
      case 'stream_cancelled':
      case 'streams_available':
        return;
      default: {
        const unhandled: never = e;
        void unhandled;
      }
    }
  }

  /** Asks a peer to chat (`--connect`). */
  async connect(host: string, port: number): Promise<void> {
    try {
      const session = await this.peer.connect(host, port);
      this.dialled.add(session);
      this.log.info(
        { event: 'connect', peer: formatAddress(await this.peer.resolve(host, port)), session },
        'connecting',
      );
    } catch (error) {
      this.log.error(
        { event: 'connect_failed', peer: `${host}:${port}`, error: (error as Error).message },
        'cannot connect',
      );
    }
  }

  /** Stops accepting, closes every session (waiting at most `timeoutMs`), and logs a summary. */
  async shutdown(timeoutMs: number): Promise<BotSummary> {
    this.accepting = false;
    this.log.info({ event: 'shutdown', sessions: this.open.size }, 'shutting down');
    await this.peer.close(timeoutMs);
    this.reportRateLimited();
    this.reportSuppressed();
    const extra = this.settings.summaryExtra?.() ?? {};
    this.log.info(
      { event: 'summary', ...this.summary, security: this.securityCounters(), ...extra },
      'stopped',
    );
    return this.summary;
  }

  /** What was dropped and why: forged, replayed, malformed, rate-limited, and paths moved. */
  securityCounters(): Record<string, number> {
    const { malformed, protocolErrors, unknownSession, refusedOverLimit } = this.peer.stats;
    const { unusableSources, unusableDestinations, sendErrors } = this.peer.stats;
    return {
      ...this.peer.secureStats,
      malformed,
      protocolErrors,
      unknownSession,
      refusedOverLimit,
      unusableSources,
      unusableDestinations,
      sendErrors,
    };
  }

  /** Logs the counters so far (every minute, and at SIGUSR1). */
  logStats(): void {
    this.log.info(
      { event: 'stats', sessions: this.open.size, ...this.summary, security: this.securityCounters() },
      'stats',
    );
  }

  /**
   * One `rate_limited` line for each peer that had replies dropped since the last report, with
   * how many (called every few seconds, and at shutdown), then starts counting afresh.
   */
  reportRateLimited(): void {
    for (const [peer, dropped] of this.rateLimited)
      this.log.warn({ event: 'rate_limited', peer, dropped }, 'replies dropped: peer over its rate');
    this.rateLimited.clear();
  }

  /**
   * One `log_suppressed` line if lines about peers' messages were left out since the last one
   * (called every few seconds, and at shutdown).
   */
  reportSuppressed(): void {
    const report = this.settings.logBudget.takeReport();
    if (report)
      this.log.warn({ event: 'log_suppressed', ...report }, 'log lines left out: peers over --log-rate');
  }

  /** Whether a line about `peer`'s messages fits in the log budget now. */
  private mayLog(peer: string): boolean {
    return this.settings.logBudget.allows(peer, this.peer.now());
  }

  private onRequest(e: EventOf<'request'>): void {
    const peer = at(e);
    this.log.info(
      { event: 'request', peer, nick: terminalSafe(e.nick), fingerprint: e.fingerprint, session: e.session },
      'request',
    );
    const refusal = this.accepting ? this.policy.refusal(e.peer) : 'shutting down';
    if (refusal) {
      this.decline(e.session, peer, this.accepting ? 'not_allowed' : 'busy', refusal);
      return;
    }
    if (this.open.size >= this.settings.maxSessions) {
      this.decline(e.session, peer, 'too_many_sessions', 'too many chats');
      return;
    }
    if (
      (this.settings.limitsLoopback || !isLoopbackHost(e.peer.host)) &&
      (this.perHost.get(requestHost(e.peer)) ?? 0) >= this.settings.maxSessionsPerHost
    ) {
      this.decline(e.session, peer, 'too_many_sessions', 'too many chats from your network');
      return;
    }
    this.peer.accept(e.session);
    this.log.info({ event: 'accept', peer, session: e.session }, 'accepted');
    this.onOpen(e.session, e.nick);
  }

  private decline(session: SessionId, peer: string, reason: DeclineReason, detail: string): void {
    this.peer.decline(session, reason, detail);
    this.log.info({ event: 'decline', peer, session, reason, detail }, 'declined');
  }

  private onOpen(session: SessionId, nick: string): void {
    this.open.add(session);
    this.nicks.set(session, nick);
    this.summary.sessionsServed++;
    const info = this.peer.session(session);
    if (!info) return;
    const host = requestHost(info.peer);
    this.hostOf.set(session, host);
    this.perHost.set(host, (this.perHost.get(host) ?? 0) + 1);
    const greeting = this.rules.greeting({
      nick: peerName(nick, info.fingerprint),
      peer: formatAddress(info.peer),
    });
    if (greeting) this.reply(session, formatAddress(info.peer), greeting, 'greeting');
  }

  private onMessage(e: EventOf<'message'>): void {
    const peer = at(e);
    this.summary.messagesIn++;
    if (this.mayLog(peer)) {
      const shown = this.settings.logBudget.text(e.text);
      this.log.info({ event: 'message_in', peer, session: e.session, ...shown }, 'message in');
    }
    const info = this.peer.session(e.session);
    if (!info) return;
    const nick = peerName(info.peerNick, info.fingerprint);
    const reply = this.rules.reply({ text: e.text, nick, peer });
    if (reply !== undefined) this.reply(e.session, peer, reply, 'reply');
  }

  private reply(session: SessionId, peer: string, text: string, kind: 'reply' | 'greeting'): void {
    if (text === '') return;
    if (!this.limiter.tryTake(peer, this.peer.now())) {
      this.summary.repliesRateLimited++;
      this.rateLimited.set(peer, (this.rateLimited.get(peer) ?? 0) + 1);
      return;
    }
    const cut = truncateUtf8(text, this.settings.maxMessageBytes);
    try {
      const messageId = this.peer.send(session, cut);
      this.summary.messagesOut++;
      if (this.mayLog(peer)) {
        const shown = this.settings.logBudget.text(cut);
        this.log.info(
          { event: 'reply_out', kind, peer, session, messageId, ...shown, cut: cut !== text },
          kind,
        );
      }
    } catch (error) {
      if (this.mayLog(peer))
        this.log.warn(
          { event: 'reply_failed', peer, session, error: (error as Error).message },
          'reply not sent',
        );
    }
  }

  private onEnded(e: EventOf<'lost'> | EventOf<'closed'>, event: 'lost' | 'closed'): void {
    this.open.delete(e.session);
    this.dialled.delete(e.session);
    this.nicks.delete(e.session);
    const host = this.hostOf.get(e.session);
    if (host !== undefined) {
      this.hostOf.delete(e.session);
      const left = (this.perHost.get(host) ?? 1) - 1;
      if (left > 0) this.perHost.set(host, left);
      else this.perHost.delete(host);
    }
    const reason = e.type === 'closed' ? { reason: e.reason } : {};
    this.log.info({ event, peer: at(e), session: e.session, ...reason }, event);
  }
}

function at(e: { peer: { host: string; port: number } }): string {
  return formatAddress(e.peer);
}
