/**
 * What the chat flow is given: a console (a terminal, or a test's recording: lines to show,
 * prompts, whether something is half typed, backpressure on the input, and the events --json
 * prints; LineConsole is the real one), and its options.
 */
import type {
  ChatHistory,
  ClientTimers,
  Contact,
  FilePort,
  StorageSources,
  Target,
  TransfersSettings,
} from '@netchat/client';
import type { PeerSpec } from '@netchat/core';
import type { LocalEvent } from './json-events.js';

export interface FlowConsole {
  /** A line of conversation or status for the person. */
  say(line: string): void;
  /** A one-line complaint, or news that should stand out. */
  warn(line: string): void;
  /** Waits for the next line behind this prompt. A `question` sets a half-typed line aside. */
  prompt(text: string, kind?: 'line' | 'question'): void;
  /**
   * At a terminal, one status line (a transfer's progress) drawn above the prompt and redrawn in
   * place; undefined takes it away. Optional: consoles without a terminal have none.
   */
  status?(line: string | undefined): void;
  /** No prompt (while connecting, and when quitting). */
  hidePrompt(): void;
  /** Whether a line is half typed at this moment (at a terminal; never down a pipe). */
  hasDraft(): boolean;
  /** Backpressure: stop reading input until `resumeInput`. */
  pauseInput(): void;
  resumeInput(): void;
  /** What only this side knows of (printed with --json; the words above say it to a person). */
  event(event: LocalEvent): void;
}

export interface FlowOptions {
  yes: boolean;
  verbose: boolean;
  /** Connect to this peer at start instead of prompting (an address, or a resolved Target). */
  connect?: PeerSpec | Target;
  /** A person types at a terminal (else lines come down a pipe). */
  interactive: boolean;
  /** A rendezvous is configured: a fingerprint or a known nick names a peer too. */
  rendezvous?: boolean;
  /** Known peers: their nicks and fingerprints name them (see the client's resolveTarget). */
  contacts?: () => readonly Contact[];
  /** Our own fingerprint: typing it gets a clear message. */
  ownFingerprint?: string;
  /** Files of the netchat home whose failed saves are told as one warning each (the chat goes on). */
  storage?: StorageSources;
  /** Where chats are logged (/history, /log); none in tests that do not need it. */
  history?: ChatHistory;
  /**
   * --wait: after the input ends, keep the chat open until the peer has sent nothing for this
   * many ms (what it sends is shown), then close. Without it the chat closes at once.
   */
  waitMs?: number;
  /**
   * File transfers (the peer takes files): the link (core's FileLink), the client's settings for
   * them (download folder, --max-file-size, --accept-files), --send-file's paths, and the
   * terminal's width for progress lines.
   */
  files?: {
    port: FilePort;
    settings: TransfersSettings;
    sendFiles?: readonly string[];
    columns?: () => number;
  };
  /** The timer --wait runs on (tests: the virtual network's); setTimeout by default. */
  timers?: ClientTimers;
}
