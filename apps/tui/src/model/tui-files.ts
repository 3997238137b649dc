/**
 * File transfers as the TUI shows them, on the client's `Transfers` (shared with the CLI, never a
 * copy): `/send`, `/accept`, `/decline`, `/cancel`, `/transfers`; an offer is shown like a
 * request (a line in its chat, a bell, `!` on the chat's tab, and the dialog, which takes only
 * Alt+Y, Alt+N and Esc once it could be seen); the running transfers of a tab as progress rows
 * under its log (their figures change at most four times a second: the client's pace); and the
 * end of each file as one line in its chat (path, size, time, average rate; a failure with its
 * reason). A relayed transfer says so, and why it is slower.
 */
import {
  allVerified,
  type Conversation,
  type FilePort,
  fileEndNotice,
  type Transfer,
  Transfers,
  type TransferUpdate,
  texts,
} from '@netchat/client';
import type { ProgressSnapshot, TransferId } from '@netchat/core';
import type { Tab } from './tab.js';
import type { TuiModel } from './tui-model.js';

export interface FilesSettings {
  /** Core's FileLink in the app (FilePort); a fake in tests. */
  readonly port: FilePort;
  /** Where accepted files go (`--download-dir`, settings.json, XDG, ~/Downloads). */
  readonly downloadFolder?: string;
  /** Offers with a larger file are declined (`--max-file-size`). */
  readonly maxFileSize?: number;
}

/** One row under a tab's log: a running transfer (or files being checked before an offer). */
export interface ProgressRow {
  readonly text: string;
  /** How much is done (0 to 1): the part of the row drawn as a bar. */
  readonly fraction: number;
}

/** Figures older than this are taken again when drawn (a second: the status bar's redraw). */
const FIGURES_STALE_MS = 1000;

/** Rows at most under the log: the chat stays the main thing on screen. */
export const PROGRESS_ROWS = 2;

export class TuiFiles {
  readonly transfers: Transfers;
  /** Offers whose dialog was put aside with Esc (answered later with /accept N). */
  private readonly dismissed = new Set<TransferId>();
  /** Offers answered whose answer the link has not confirmed yet: not asked about again. */
  private readonly answered = new Set<TransferId>();
  /** The last figures the client gave for each moving transfer (what its progress row shows), and when. */
  private readonly figures = new Map<TransferId, { progress: ProgressSnapshot; at: number }>();
  /** Files being checked (hashed) before an offer goes, per conversation. */
  private readonly hashing = new Map<Conversation, { bytes: number; total: number }>();

  constructor(
    private readonly model: TuiModel,
    private readonly settings: FilesSettings,
  ) {
    this.transfers = new Transfers(settings.port, () => model.client.conversations, {
      clock: () => model.clock().getTime(),
      ...(settings.downloadFolder !== undefined && { downloadFolder: settings.downloadFolder }),
      ...(settings.maxFileSize !== undefined && { maxFileSize: settings.maxFileSize }),
    });
    this.transfers.subscribe((u) => this.onUpdate(u));
  }

  /** The download folder offers are accepted into (shown in the dialog). */
  get downloadFolder(): string | undefined {
    return this.settings.downloadFolder;
  }

  /** The offer the dialog asks about: the oldest one waiting that was not put aside. */
  get dialogOffer(): Transfer | undefined {
    return this.waiting().find((t) => !this.dismissed.has(t.id));
  }

  /** Offers in `conversation` waiting for an answer, oldest first. */
  waitingIn(conversation: Conversation | undefined): Transfer[] {
    return conversation ? this.waiting().filter((t) => t.conversation === conversation) : [];
  }

  /** Offers waiting for the person's answer (not those answered a moment ago). */
  private waiting(): Transfer[] {
    return this.transfers.waiting().filter((t) => !this.answered.has(t.id));
  }

  /** Esc on the dialog: the offer waits for /accept N or /decline N. */
  dismiss(): Transfer | undefined {
    const t = this.dialogOffer;
    if (t) {
      this.dismissed.add(t.id);
      this.tabFor(t).log.notice(
        `File offer ${t.id} is waiting: /accept ${t.id} or /decline ${t.id} (see /transfers).`,
      );
    }
    return t;
  }

  /** Alt+Y / Alt+N, or /accept and /decline: answers an offer. */
  answer(t: Transfer, accept: boolean): void {
    this.dismissed.delete(t.id);
    this.answered.add(t.id);
    if (!accept) {
      this.transfers.decline(t);
      return;
    }
    void this.transfers.accept(t).then((r) => {
      if (!r.ok) {
        // Declined for us (no room, too large): the ended line said why.
        if (!r.told) this.tabFor(t).log.warn(r.message);
        this.answered.delete(t.id);
      }
      this.model.settings.onChange?.();
    });
  }

  /**
   * The offer `/accept [N]` or `/decline [N]` typed in `tab` means: with N, waiting offer N; without,
   * the latest offer waiting in this chat. Undefined when there is none (the command is then a
   * request's).
   */
  offerFor(tab: Tab, index: number | undefined): Transfer | undefined {
    if (index !== undefined) {
      return this.waiting().find((t) => t.id === index);
    }
    return this.waitingIn(tab.conversation).at(-1);
  }

  /** `/send PATH...` in `tab` (paths already expanded): hashed, then offered; a refusal is one line. */
  send(tab: Tab, paths: readonly string[]): void {
    const conversation = tab.conversation;
    if (conversation === undefined || tab.state !== 'open') {
      tab.log.warn(
        tab.state === 'home'
          ? 'Not offered: this is the home tab; /send offers files in a chat.'
          : `Not offered: this session is ${tab.state}.`,
      );
      return;
    }
    this.hashing.set(conversation, { bytes: 0, total: 0 });
    void this.transfers.offer(conversation, paths).then((r) => {
      this.hashing.delete(conversation);
      if (!r.ok) (this.model.tabOf(conversation) ?? tab).log.warn(r.message);
      this.model.settings.onChange?.();
    });
  }

  /** `/cancel N`. */
  cancel(tab: Tab, id: number): void {
    const t = this.transfers.get(id);
    if (!t) tab.log.warn(`No transfer ${id}: /transfers lists them.`);
    else if (!this.transfers.cancel(t)) tab.log.warn(`Transfer ${id} has ended (${t.phase}).`);
  }

  /** `/transfers`: every transfer of this run, with its state. */
  list(tab: Tab): void {
    const all = this.transfers.list();
    if (all.length === 0) tab.log.notice('No file transfers yet. /send PATH... offers files.');
    for (const t of all) tab.log.notice(texts.transferLine(t, this.figuresOf(t)));
  }

  /**
   * What quitting now would leave unfinished, as the CLI's interrupt counts it (`transfer 2
   * ("big.bin", 23%) unfinished, …`): our offers not ended, and offers to us accepted and moving
   * (an offer to us not yet answered was never asked for); undefined: nothing.
   */
  unfinished(): string | undefined {
    const left = this.transfers.running().filter((t) => t.direction === 'send' || t.phase === 'moving');
    return left.length === 0 ? undefined : left.map(texts.transferLeftText).join(', ');
  }

  /** What the quit question says quitting declines (its box hides their dialog); undefined: nothing. */
  declinedByQuit(): string | undefined {
    return texts.quitDeclinesText(this.transfers.waiting());
  }

  /** Offers still waiting are declined (the program is quitting). */
  quitting(): void {
    this.transfers.declineOnClose();
  }

  /** The person closes `tab`'s chat (`/close`, `exit`): its offers still waiting are declined first. */
  closing(tab: Tab): void {
    if (tab.conversation) this.transfers.declineOnClose(tab.conversation);
  }

  /**
   * The progress rows of `tab` at `width` cells, at most `most`: each moving transfer of its chat
   * (the client's progress line: percent, sizes, rate, time left, name; `relayed` when it is),
   * files being checked before an offer; when there are more than fit, the last row counts them.
   */
  progressRows(tab: Tab, width: number, most = PROGRESS_ROWS): ProgressRow[] {
    const c = tab.conversation;
    if (!c || most <= 0) return [];
    const rows: ProgressRow[] = [];
    const checking = this.hashing.get(c);
    if (checking && checking.total > 0) {
      const fraction = checking.bytes / checking.total;
      rows.push({
        text: `Checking the files before offering: ${Math.floor(fraction * 100)}% of ${texts.sizeText(checking.total)}`,
        fraction,
      });
    }
    for (const t of this.transfers.of(c)) {
      if (t.phase !== 'moving') continue;
      const p = this.figuresOf(t);
      if (p) rows.push({ text: texts.progressLine(t, p, width), fraction: p.fraction });
    }
    if (rows.length <= most) return rows;
    const shown = rows.slice(0, most - 1);
    const more = rows.length - shown.length;
    return [...shown, { text: `… and ${more} more running: /transfers`, fraction: 0 }];
  }

  /**
   * The figures `t`'s row shows: the client's last, at its pace; once none came for FIGURES_STALE_MS
   * (a peer killed or cut off, found lost only after its heartbeats), figures taken now, so the
   * rate falls and the time left grows on the view's redraws instead of the last ones standing.
   */
  private figuresOf(t: Transfer): ProgressSnapshot | undefined {
    const now = this.model.clock().getTime();
    const last = this.figures.get(t.id);
    if (last && now - last.at < FIGURES_STALE_MS) return last.progress;
    const progress = this.transfers.progress(t, now);
    if (progress && t.phase === 'moving') this.figures.set(t.id, { progress, at: now });
    return progress;
  }

  /** Whether a transfer of `tab`'s chat is moving or files are being checked (progress rows due). */
  busy(tab: Tab): boolean {
    const c = tab.conversation;
    return c !== undefined && (this.hashing.has(c) || this.transfers.of(c).some((t) => t.phase === 'moving'));
  }

  // ---- the client's updates -------------------------------------------------------------------

  private onUpdate(u: TransferUpdate): void {
    if (u.type === 'progress') {
      this.figures.set(u.transfer.id, { progress: u.progress, at: this.model.clock().getTime() });
      // Figures come at most four a second per transfer: the view draws them on its own pace.
      this.model.settings.onProgress?.();
      return;
    }
    if (u.type === 'hashing') {
      if (this.hashing.has(u.conversation))
        this.hashing.set(u.conversation, { bytes: u.bytes, total: u.total });
      this.model.settings.onProgress?.();
      return;
    }
    const t = u.transfer;
    const log = this.tabFor(t).log;
    switch (u.type) {
      case 'offer':
        this.onOffer(t);
        break;
      case 'resuming':
        log.notice(texts.resumingText(t));
        break;
      case 'offered':
        log.notice(texts.offeredText(t));
        if (t.relayed) log.notice(texts.RELAYED_TRANSFER_TEXT);
        break;
      case 'waiting':
        log.notice(texts.waitingText(t));
        break;
      case 'accepted':
        // The link may say so before the accept's answer names the folder: it is ours then.
        log.notice(texts.acceptedText(t.folder ? t : { ...t, folder: this.settings.downloadFolder }));
        if (t.relayed && t.direction === 'receive') log.notice(texts.RELAYED_TRANSFER_TEXT);
        break;
      // A folder of many files: the first few each have a line, then one says the rest are not listed.
      case 'file_received':
      case 'file_sent': {
        const line = fileEndNotice(
          t,
          u.type === 'file_received' ? texts.receivedText(u.outcome) : texts.sentText(t, u.outcome),
        );
        if (line) log.notice(line);
        break;
      }
      case 'file_failed':
        log.warn(texts.fileFailedText(t, u.failure));
        break;
      case 'ended':
        this.onEnded(t);
        break;
    }
    this.model.settings.onChange?.();
  }

  private onOffer(t: Transfer): void {
    const log = this.tabFor(t).log;
    log.notice(
      `${texts.offerQuestion(t).replace(/ \(y\/n\)$/, '')} Alt+Y / Alt+N in the dialog, or /accept ${t.id}, /decline ${t.id} (transfer ${t.id}).`,
    );
    if (t.files.length > 1) for (const line of texts.offerFileLines(t)) log.notice(line);
    if (t.relayed) log.notice(texts.RELAYED_TRANSFER_TEXT);
    // As a request: a bell (offers at most one in 5 s), and `!` on the chat's tab until it is answered.
    this.model.bells.ringForQuestion('offer');
  }

  private onEnded(t: Transfer): void {
    this.dismissed.delete(t.id);
    this.answered.delete(t.id);
    this.figures.delete(t.id);
    // One file received or sent whole: its line (path, size, time, rate) says it all.
    if (t.phase === 'done' && allVerified(t) && t.files.length === 1) return;
    const log = this.tabFor(t).log;
    if (t.phase === 'done' && allVerified(t)) log.notice(texts.endedText(t));
    // What the person did here (declined, cancelled) is a notice; what befell the transfer, a warning.
    else if (t.phase === 'declined' && t.declined?.by === 'local' && t.declined.reason === 'declined')
      log.notice(texts.endedText(t));
    else if (t.phase === 'cancelled' && t.cancelledBy === 'local') log.notice(texts.endedText(t));
    else log.warn(texts.endedText(t));
  }

  /** The tab of a transfer's chat; the home tab once that tab is closed. */
  private tabFor(t: Transfer): Tab {
    return this.model.tabOf(t.conversation) ?? this.model.home;
  }
}
