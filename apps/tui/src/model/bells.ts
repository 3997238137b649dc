/**
 * When the TUI rings the terminal's bell: what asked for it since the view last rang (it rings
 * once per redraw at most), with requests and file offers each ringing at most once in
 * REQUEST_BELL_GAP_MS, and nothing while the person turned the bell off (`/bell off`).
 */

/** Requests ring the bell at most once in this long, and offers too: a bell draws the eye; fifty add nothing. */
export const REQUEST_BELL_GAP_MS = 5000;

export class Bells {
  /** Bells asked for since the view last rang. */
  private due = 0;
  /** When a request, and an offer, last rang (ms): each rings at most once in REQUEST_BELL_GAP_MS. */
  private readonly lastQuestionBell = { request: Number.NEGATIVE_INFINITY, offer: Number.NEGATIVE_INFINITY };

  constructor(
    /** Whether the bell rings at all (`/bell on|off`). */
    public on: boolean,
    private readonly clock: () => Date,
  ) {}

  /** Something deserves the bell (a request, a message in a tab not shown). */
  ringLater(): void {
    this.due++;
  }

  /**
   * A request or a file offer arrived: it rings, unless one of its kind rang less than
   * REQUEST_BELL_GAP_MS ago (strangers asking, or a peer offering, five a second rang five bells a
   * second; the tabs' !N still count each one).
   */
  ringForQuestion(kind: 'request' | 'offer'): void {
    const now = this.clock().getTime();
    if (now - this.lastQuestionBell[kind] < REQUEST_BELL_GAP_MS) return;
    this.lastQuestionBell[kind] = now;
    this.ringLater();
  }

  /** Whether to ring the bell now (once for all that asked since the last time). */
  take(): boolean {
    const due = this.due > 0 && this.on;
    this.due = 0;
    return due;
  }
}
