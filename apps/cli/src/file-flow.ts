/**
 * File transfers in the CLI's chat: `/send PATH...`, `/transfers`, `/cancel N`; an offer asks
 * `Accept file "report.pdf" (2.4 MB) from bob? (y/n)` and the next line answers it; at a terminal
 * the progress is one status line redrawn in place, and each file ends with one line (path, size,
 * time, average rate). `--send-file` offers its files once the chat opens, and the run counts as
 * done (exit 0) only when every one of them was received and verified by the peer. The client's
 * `Transfers` keeps the transfers; this says them on the flow's console.
 */
import {
  allVerified,
  type Conversation,
  fileEndNotice,
  hasEnded,
  type Transfer,
  Transfers,
  type TransferUpdate,
  texts,
} from '@netchat/client';
import { readChatLine } from './chat-commands.js';
import type { FlowConsole, FlowOptions } from './flow-console.js';
import { progressStatus } from './progress-status.js';
import { readAnswer } from './prompt-lines.js';

export interface FileFlowOptions {
  /** A person types at a terminal: progress is drawn in place. */
  readonly interactive: boolean;
  /** A script (--connect, piped input): its lines are messages, so offers are declined unless accepted by itself. */
  readonly script: boolean;
  /** --send-file: offered once the chat opens. */
  readonly sendFiles: readonly string[];
  /** The terminal's width (progress lines are cut to it). */
  readonly columns: () => number;
}

/** How long the end of input waits for offers left unfinished to be made again as a chat opens (ms). */
const REOFFER_START_MS = 5_000;

/** How often a shown progress line is redrawn when no progress arrives (ms). */
const REDRAW_EVERY_MS = 1000;

export class FileFlow {
  /** Offers waiting for the person's answer, the first one asked. */
  private readonly questions: Transfer[] = [];
  /** --send-file: the offer's outcome (undefined while it is being made). */
  private scriptOffer: { transfer?: Transfer; failed?: boolean } | undefined;
  private offering = 0;
  /** Transfers offered by this run's `/send` and --send-file: the others we send are offers made again. */
  private readonly madeHere = new Set<Transfer>();
  /** While offers left unfinished to the chat's peer are expected to be made again (at most REOFFER_START_MS). */
  private reofferWait: NodeJS.Timeout | undefined;
  /** Whether the status line shows progress: redrawn now and then so a stalled peer shows as a falling rate. */
  private shown = false;
  private redrawTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: FlowConsole,
    readonly transfers: Transfers,
    private readonly options: FileFlowOptions,
    /** Something ended: the flow may be done. `prompt`: the chat prompt is due again. */
    private readonly changed: (prompt: boolean) => void,
  ) {
    transfers.subscribe((u) => this.onUpdate(u));
  }

  /** The file flow of a chat flow with these options, if the peer takes files (`options.files`). */
  static forChat(
    out: FlowConsole,
    options: FlowOptions,
    script: boolean,
    conversations: () => readonly Conversation[],
    changed: (prompt: boolean) => void,
  ): FileFlow | undefined {
    const files = options.files;
    if (!files) return undefined;
    return new FileFlow(
      out,
      new Transfers(files.port, conversations, files.settings),
      {
        interactive: options.interactive,
        script,
        sendFiles: files.sendFiles ?? [],
        columns: files.columns ?? (() => 80),
      },
      changed,
    );
  }

  /** An offer waits for a y/n: the next line in the chat answers it. */
  get asking(): Transfer | undefined {
    return this.questions[0];
  }

  /** Asks the first waiting offer's question (again). */
  ask(): void {
    const t = this.asking;
    if (t) this.out.prompt(`${texts.offerQuestion(t)}: `, 'question');
  }

  answer(text: string): void {
    const t = this.questions[0];
    if (!t) return;
    const answer = readAnswer(text.trim());
    if (answer === undefined) {
      // The question stands in for the chat's prompt: a message typed at it would seem sent, and
      // a command (`exit`, `/transfers`) seem run; it was neither, and is typed again after.
      const line = readChatLine(text);
      const command = line.name === 'message' || line.name === 'unknown' ? undefined : text.trim();
      this.out.warn(line.name === 'nothing' ? 'Please answer y or n.' : texts.notAnAnswerText(t, command));
      this.ask();
      return;
    }
    this.questions.shift();
    if (answer === 'yes')
      void this.transfers.accept(t).then((r) => {
        if (!r.ok && !r.told) this.out.warn(r.message);
      });
    else this.transfers.decline(t);
    this.changed(true);
  }

  /** The chat opened: --send-file's files are offered in it (once). */
  opened(conversation: Conversation): void {
    this.awaitReoffers(conversation);
    if (this.options.sendFiles.length === 0 || this.scriptOffer) return;
    this.scriptOffer = {};
    const made = this.scriptOffer;
    this.offer(conversation, this.options.sendFiles, (transfer) => {
      if (transfer) made.transfer = transfer;
      else made.failed = true;
    });
  }

  /** `/send PATH...`, `/transfers` or `/cancel N`, typed in `conversation`. */
  run(
    command:
      | { readonly name: 'send'; readonly paths: readonly string[] }
      | { readonly name: 'transfers' }
      | { readonly name: 'cancel'; readonly id: number },
    conversation: Conversation,
  ): void {
    if (command.name === 'send') this.offer(conversation, command.paths, () => undefined);
    else if (command.name === 'transfers') this.list();
    else this.cancel(command.id);
  }

  /** `/transfers`: every transfer of this run, with its state. */
  list(): void {
    const all = this.transfers.list();
    if (all.length === 0) {
      this.out.say('No file transfers yet. /send PATH... offers files.');
      return;
    }
    for (const t of all) this.out.say(texts.transferLine(t, this.transfers.progress(t)));
  }

  /** `/cancel N`. */
  cancel(id: number): void {
    const t = this.transfers.get(id);
    if (!t) this.out.warn(`No transfer ${id}: /transfers lists them.`);
    else if (!this.transfers.cancel(t)) this.out.warn(`Transfer ${id} has ended (${t.phase}).`);
  }

  /**
   * Nothing left that the end of input should wait for: no offer being made, no --send-file
   * transfer running, and (down a pipe) no transfer moving either way.
   */
  settled(): boolean {
    if (this.offering > 0) return false;
    // Down a pipe, offers an earlier run left unfinished to this peer are made again as the chat
    // opens (a resume): the run waits for them to start (a moment), then to end.
    if (!this.options.interactive) {
      if (this.reofferWait) return false;
      // Moving, not merely offered: a peer that does not answer an offer made again (it is away, or
      // lost its partial) never holds a script.
      if (this.transfers.running().some((t) => this.isReoffer(t) && t.phase === 'moving')) return false;
    }
    return this.transfers
      .running()
      .every((t) => !this.isScripts(t) && (this.options.interactive || t.phase !== 'moving'));
  }

  /** Offers still being checked (hashed) before they go. */
  get offersBeingMade(): number {
    return this.offering;
  }

  /**
   * 4 if --send-file was given and a file of it was not received and verified, or an offer made
   * again (one an earlier run left unfinished) ended without every file verified; else 0.
   */
  exitCode(): number {
    // An offer made again (a resume an earlier run left) that ended without every file verified.
    if (this.transfers.list().some((t) => this.isReoffer(t) && hasEnded(t) && !allVerified(t))) return 4;
    if (this.options.sendFiles.length === 0) return 0;
    const t = this.scriptOffer?.transfer;
    return t && allVerified(t) ? 0 : 4;
  }

  /** Offers waiting for an answer are declined (the program is quitting). */
  quitting(): void {
    for (const t of this.questions.splice(0)) this.transfers.decline(t);
    clearTimeout(this.reofferWait);
    this.reofferWait = undefined;
  }

  // ---- internals ------------------------------------------------------------------------------

  /**
   * Offers an earlier run left unfinished to this chat's peer are made again once it says it takes
   * files, and its netchat takes them up by itself (a resume): the end of input waits for one to
   * be accepted (it then holds it as a transfer moving), but never longer than REOFFER_START_MS,
   * so a peer that takes no files or does not answer, or an offer that cannot be made again,
   * never keeps a script from ending (the offer stays recorded for a later chat).
   */
  private awaitReoffers(conversation: Conversation): void {
    if (this.options.interactive || this.transfers.unfinishedOffersTo(conversation) === 0) return;
    clearTimeout(this.reofferWait);
    this.reofferWait = setTimeout(() => this.reofferMade(), REOFFER_START_MS);
  }

  /** An offer left unfinished was taken up again (or it is too late for it): the end of input goes by transfers now. */
  private reofferMade(): void {
    if (!this.reofferWait) return;
    clearTimeout(this.reofferWait);
    this.reofferWait = undefined;
    this.changed(false);
  }

  /** An offer of ours made again by the link (one an earlier run left unfinished), not by this run. */
  private isReoffer(t: Transfer): boolean {
    return t.direction === 'send' && !this.madeHere.has(t);
  }

  private isScripts(t: Transfer): boolean {
    return this.scriptOffer?.transfer === t;
  }

  private offer(conversation: Conversation, paths: readonly string[], done: (t?: Transfer) => void): void {
    this.offering++;
    void this.transfers.offer(conversation, paths).then((r) => {
      this.offering--;
      this.status(undefined);
      if (r.ok) {
        this.madeHere.add(r.transfer);
        done(r.transfer);
      } else {
        this.out.warn(r.message);
        this.out.event({
          type: 'file_not_offered',
          paths,
          detail: r.message,
          ...(conversation.session !== undefined && { session: conversation.session }),
          ...(conversation.peer !== undefined && { peer: conversation.peer }),
        });
        done();
      }
      this.changed(false);
    });
  }

  private onUpdate(u: TransferUpdate): void {
    switch (u.type) {
      case 'offer':
        this.onOffer(u.transfer, u.auto);
        return;
      case 'resuming':
        this.out.say(texts.resumingText(u.transfer));
        return;
      case 'offered':
        this.out.say(texts.offeredText(u.transfer));
        if (u.transfer.relayed) this.out.say(texts.RELAYED_TRANSFER_TEXT);
        return;
      case 'hashing':
        if (u.total > 0)
          this.status(
            `Checking the files: ${Math.floor((100 * u.bytes) / u.total)}% of ${texts.sizeText(u.total)}`,
          );
        return;
      case 'waiting':
        this.out.say(texts.waitingText(u.transfer));
        return;
      case 'accepted':
        if (this.isReoffer(u.transfer)) this.reofferMade();
        this.out.say(texts.acceptedText(u.transfer));
        return;
      case 'progress':
        this.shown = true;
        this.status(this.progressNow());
        return;
      // Each ends with a line; the progress of transfers still moving stays on the status line.
      case 'file_received':
        this.fileEnded(fileEndNotice(u.transfer, texts.receivedText(u.outcome)));
        return;
      case 'file_sent':
        this.fileEnded(fileEndNotice(u.transfer, texts.sentText(u.transfer, u.outcome)));
        return;
      case 'file_failed':
        this.status(undefined);
        this.out.warn(texts.fileFailedText(u.transfer, u.failure));
        this.redrawShown();
        return;
      case 'ended':
        this.onEnded(u.transfer);
        return;
    }
  }

  private onOffer(t: Transfer, auto: boolean): void {
    const more = t.files.length > 1 ? texts.offerFileLines(t) : [];
    if (t.relayed) more.push(texts.RELAYED_TRANSFER_TEXT);
    if (auto) {
      this.out.say(
        `${texts
          .offerQuestion(t)
          .replace(/^Accept /, 'Accepting ')
          .replace(/\? \(y\/n\)$/, '.')}`,
      );
      for (const line of more) this.out.say(line);
      return;
    }
    if (this.options.script) {
      // A script's lines are messages, never answers: it takes files only with --accept-files.
      this.out.warn(
        `${texts.offerQuestion(t).replace(/\? \(y\/n\)$/, '')}: declined (a script takes files only with --accept-files).`,
      );
      this.transfers.decline(t);
      return;
    }
    this.questions.push(t);
    // One question at a time: a later offer is said as it comes (else it seemed lost until asked).
    if (this.questions.length > 1) this.out.say(texts.queuedOfferText(t, this.questions.length - 1));
    for (const line of more) this.out.say(line);
    if (this.questions.length === 1) this.ask();
  }

  private onEnded(t: Transfer): void {
    const waiting = this.questions.indexOf(t);
    if (waiting >= 0) {
      // The peer withdrew it (or the chat ended) before it was answered.
      this.questions.splice(waiting, 1);
      this.changed(true);
    }
    if (this.transfers.running().every((r) => r.phase !== 'moving')) this.status(undefined);
    const single = t.files.length === 1 && t.phase === 'done' && allVerified(t);
    if (!single)
      (t.phase === 'done' && allVerified(t) ? this.out.say : this.out.warn).call(
        this.out,
        texts.endedText(t),
      );
    this.changed(false);
  }

  private status(line: string | undefined): void {
    if (!this.options.interactive) return;
    this.out.status?.(line);
    if (line === undefined) {
      this.shown = false;
      clearInterval(this.redrawTimer);
      this.redrawTimer = undefined;
    } else if (this.shown && !this.redrawTimer) {
      // Progress comes with bytes: when none come (a peer stalled or gone), the line would keep
      // its last rate and ETA. Redrawn from the figures now, the rate falls and the ETA goes.
      this.redrawTimer = setInterval(() => this.redrawShown(), REDRAW_EVERY_MS);
      this.redrawTimer.unref();
    }
  }

  /** A file ended well: its line (if it has one: fileEndNotice), the progress line kept below it. */
  private fileEnded(line: string | undefined): void {
    if (line === undefined) return;
    this.status(undefined);
    this.out.say(line);
    this.redrawShown();
  }

  /** The progress of every transfer moving now, on one line (progress-status.ts). */
  private progressNow(): string | undefined {
    const moving = this.transfers.running().flatMap((transfer) => {
      const progress = transfer.phase === 'moving' ? this.transfers.progress(transfer) : undefined;
      return progress ? [{ transfer, progress }] : [];
    });
    return progressStatus(moving, this.options.columns() - 1);
  }

  private redrawShown(): void {
    const line = this.progressNow();
    if (line === undefined) {
      this.status(undefined);
      return;
    }
    this.shown = true;
    if (this.redrawTimer) this.out.status?.(line);
    else this.status(line);
  }
}
