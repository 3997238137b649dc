/**
 * What a peer's traffic may make the bot write to its log. A stranger that sends text as fast as
 * it can grew the log by 1.15 bytes for each byte it sent (the text in `message_in`, again in the
 * echoes `reply_out` that --rate let through): 23 MB for 20 MB sent in 1.7 s, without bound. Here a text
 * is logged cut to `--log-text` characters with its full length, and the lines a peer's messages
 * bring are counted against `--log-rate` a second for each peer (bursts of as many), and ten
 * times that for all peers together; the lines left out are counted and said once every few
 * seconds (`log_suppressed`), so the log still says who was busy and how much.
 */
import { TokenBuckets, terminalSafe } from '@netchat/core';

/** All peers together may log this many times one peer's rate. */
const ALL_PEERS_FACTOR = 10;
/** The key of the bucket all peers share (no IP:PORT looks like it). */
const EVERYONE = '*';

export interface LogBudgetSettings {
  /** Characters of a text logged, at most; 0 logs no text (only its length). */
  textChars: number;
  /** Lines a second about one peer's messages, in bursts of as many. */
  linesPerSecond: number;
}

/** What a `log_suppressed` line says: the lines left out since the last one. */
export interface SuppressedReport {
  lines: number;
  peers: number;
  /** The peer with the most lines left out, and how many. */
  most: { peer: string; lines: number };
}

export class LogBudget {
  private readonly perPeer: TokenBuckets;
  private readonly everyone: TokenBuckets;
  /** Lines left out since the last report, by peer (IP:PORT). */
  private readonly suppressed = new Map<string, number>();

  constructor(private readonly settings: LogBudgetSettings) {
    const rate = settings.linesPerSecond;
    // A burst of at least one line: a rate below 1 (0.5: a line every 2 s) still logs.
    this.perPeer = new TokenBuckets(rate, Math.max(1, rate));
    this.everyone = new TokenBuckets(rate * ALL_PEERS_FACTOR, rate * ALL_PEERS_FACTOR);
  }

  /** Whether a line about `peer`'s messages may be logged at `now` (ms); a line refused is counted. */
  allows(peer: string, now: number): boolean {
    // The peer's own bucket first: a peer over its rate never takes a token from everyone's.
    if (this.perPeer.tryTake(peer, now) && this.everyone.tryTake(EVERYONE, now)) return true;
    this.suppressed.set(peer, (this.suppressed.get(peer) ?? 0) + 1);
    return false;
  }

  /**
   * A text as logged: cut to the budget's characters, `length` (characters) when it was cut, and
   * safe to read on a terminal (`journalctl -o cat`, `tail`): JSON escapes C0 controls, not C1
   * ones (U+009B is a CSI to some terminals) or bidi overrides, which become U+FFFD here.
   */
  text(text: string): { text?: string; length?: number } {
    const cut = this.cut(text);
    return cut.text === undefined ? cut : { ...cut, text: terminalSafe(cut.text) };
  }

  private cut(text: string): { text?: string; length?: number } {
    const max = this.settings.textChars;
    if (text.length <= max) return { text };
    // Characters counted by code point, so a cut never splits a surrogate pair.
    let chars = 0;
    let end = 0;
    for (const char of text) {
      if (chars < max) end += char.length;
      chars++;
    }
    if (chars <= max) return { text };
    return max === 0 ? { length: chars } : { text: text.slice(0, end), length: chars };
  }

  /** The lines left out since the last call (undefined if none), and starts counting afresh. */
  takeReport(): SuppressedReport | undefined {
    if (this.suppressed.size === 0) return undefined;
    let lines = 0;
    let most = { peer: '', lines: 0 };
    for (const [peer, count] of this.suppressed) {
      lines += count;
      if (count > most.lines) most = { peer, lines: count };
    }
    const report = { lines, peers: this.suppressed.size, most };
    this.suppressed.clear();
    return report;
  }
}
