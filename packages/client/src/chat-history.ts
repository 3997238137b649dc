/**
 * Chat history: every conversation logged per peer key in the netchat home, so reopening a chat
 * with a known peer can show its last lines.
 *
 * Layout: `<home>/history/<peer public key hex>.jsonl` (directory 0700, files 0600, like the
 * identity key beside them), one JSON object per line, appended as messages go and come. Each
 * file is bounded: past `maxBytesPerPeer` (256 KiB) it is rewritten with only its newest lines,
 * up to three quarters of the bound (so it is not rewritten on every message). So is the folder:
 * past `maxTotalBytes` (64 MiB, each file counted at least a block of 4 KiB) the files written
 * least recently are removed, down to three quarters of it: strangers that a `--yes` netchat let
 * in, each with a fresh key, a line or 256 KiB each, would otherwise fill the disk a file each
 * (one a stranger, without bound; test/attack-history-churn.test.ts). Lines are checked
 * with `HistoryEntry` when read: a line that is not one (a torn write, an edit by hand) is skipped
 * and counted, never thrown. Writing never throws either: a chat must not end because a disk is
 * full; failures are counted, with the last one's reason, and told to `onWriteFailure` listeners.
 *
 * On or off is a setting in `<home>/settings.json` (`"history": true|false`), on when absent: see
 * README for why.
 */
import {
  appendFileSync,
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  errors,
  fileProblem,
  makeFolder,
  type SaveFailure,
  trySave,
  writeFileAtomically,
} from '@netchat/core';
import { z } from 'zod';
import type { Conversation } from './conversation.js';

/** One logged message. `nick` is the peer's nick when it was said, whoever said it. */
export const HistoryEntry = z.strictObject({
  /** When (ISO 8601). */
  at: z.string().min(1),
  /** `in`: the peer said it; `out`: we did. */
  direction: z.enum(['in', 'out']),
  nick: z.string().max(200),
  text: z.string(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** The settings file the client keeps in the netchat home; unknown keys are kept as they are. */
const SettingsFile = z.looseObject({ history: z.boolean().optional() });

/** 256 KiB per peer: thousands of chat lines, and nothing a full disk would notice. */
export const DEFAULT_MAX_BYTES_PER_PEER = 256 * 1024;
/** 64 MiB in all: 256 peers' full files, or 16,384 short ones (each counts a block at least). */
export const DEFAULT_MAX_TOTAL_BYTES = 64 * 1024 * 1024;
/** What a file costs at least: a block (and the inode an empty one takes), as a file system counts it. */
const BLOCK_BYTES = 4096;
/** Logging is on unless the person turned it off (README: why). */
export const HISTORY_ON_BY_DEFAULT = true;

const publicKeyHex = /^[0-9a-f]{64}$/;

export interface ChatHistoryOptions {
  maxBytesPerPeer?: number;
  /** All peers' files together (each counted at least 4 KiB); the least recently written go first. */
  maxTotalBytes?: number;
  /** For the `at` of each entry. */
  clock?: () => Date;
}

/**
 * Where a page of history began: `page` with it as `before` reads the lines just older (the
 * TUI's scroll-up). Opaque to callers.
 */
export interface HistoryCursor {
  /** The byte offset of the page's first line in the file as it was. */
  readonly offset: number;
  /** The file then (its inode): a trim rewrites the file, and its offsets no longer hold. */
  readonly file: number;
  /** When the page's first line was said: where older lines begin in a rewritten file. */
  readonly at: string;
}

export interface HistoryPage {
  /** Oldest first. */
  readonly entries: HistoryEntry[];
  /** For the lines before these; undefined once the start of the log is reached. */
  readonly before: HistoryCursor | undefined;
}

export interface HistoryStats {
  /** Lines skipped when reading, because they were not a valid entry. */
  corruptLines: number;
  /** Appends or trims that failed (the message was not logged). */
  writeErrors: number;
  lastError: string;
}

export class ChatHistory {
  readonly stats: HistoryStats = { corruptLines: 0, writeErrors: 0, lastError: '' };
  readonly directory: string;
  private readonly settingsPath: string;
  private readonly maxBytes: number;
  private readonly maxTotalBytes: number;
  /** What the folder holds (each file at least a block), as we know it: read once, then kept up. */
  private total: number | undefined;
  private readonly clock: () => Date;
  /** Each file's size as we know it (after our own writes), so an append needs no stat. */
  private readonly sizes = new Map<string, number>();
  private on: boolean;
  private readonly failureListeners: ((failure: SaveFailure) => void)[] = [];

  /** Reads the on/off setting from `home`. Throws, with one line, only if settings.json is corrupt. */
  constructor(
    readonly home: string,
    options: ChatHistoryOptions = {},
  ) {
    this.directory = join(home, 'history');
    this.settingsPath = join(home, 'settings.json');
    this.maxBytes = options.maxBytesPerPeer ?? DEFAULT_MAX_BYTES_PER_PEER;
    this.maxTotalBytes = options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
    this.clock = options.clock ?? (() => new Date());
    this.on = this.readSettings().history ?? HISTORY_ON_BY_DEFAULT;
  }

  get enabled(): boolean {
    return this.on;
  }

  /**
   * Calls `listener` when a write failed (an unwritable home, a full disk): the message was not
   * logged, or the setting not saved. Nothing is thrown into the chat.
   */
  onWriteFailure(listener: (failure: SaveFailure) => void): void {
    this.failureListeners.push(listener);
  }

  /**
   * Turns logging on or off, from now on and for later runs (settings.json). Logged lines stay.
   * Never throws: if settings.json cannot be written the change holds for this run only (the
   * write-failure listeners hear why), and false is returned.
   */
  setEnabled(on: boolean): boolean {
    this.on = on;
    const failure = trySave(this.settingsPath, () => {
      const settings = { ...this.readSettings(), history: on };
      writeFileAtomically(this.settingsPath, `${JSON.stringify(settings, null, 2)}\n`);
    });
    if (failure) this.failed(failure);
    return failure === undefined;
  }

  /** Logs a message of this conversation (nothing while off, or before the peer's key is known). Never throws. */
  append(conversation: Conversation, direction: HistoryEntry['direction'], text: string): void {
    if (!this.on || conversation.publicKey === undefined) return;
    this.record(conversation.publicKey, {
      at: this.clock().toISOString(),
      direction,
      nick: conversation.nick,
      text,
    });
  }

  /** Appends one entry to the peer's file, trimming the file past its bound. Never throws. */
  record(publicKey: string, entry: HistoryEntry): void {
    let path = this.directory;
    try {
      path = this.pathOf(publicKey);
      let size = this.sizes.get(path);
      let line = `${JSON.stringify(entry)}\n`;
      if (size === undefined) {
        makeFolder(this.directory, 0o700);
        size = sizeOf(path);
        // A torn last line (a crash mid-write) must not swallow this one.
        if (size > 0 && !endsWithNewline(path, size)) line = `\n${line}`;
      }
      this.total ??= this.filesOnDisk().reduce((sum, f) => sum + f.cost, 0);
      appendFileSync(path, line, { mode: 0o600 });
      const before = blockCost(size);
      size += Buffer.byteLength(line);
      this.sizes.set(path, size);
      this.total += blockCost(size) - before;
      if (size > this.maxBytes) this.trim(path);
      if (this.total > this.maxTotalBytes) this.prune(path);
    } catch (error) {
      this.stats.writeErrors++;
      this.stats.lastError = (error as Error).message;
      this.failed({ path, reason: fileProblem(error) });
    }
  }

  private failed(failure: SaveFailure): void {
    for (const listener of this.failureListeners) listener(failure);
  }

  /** The peer's last `n` valid entries, oldest first; [] if none. Corrupt lines are skipped and counted. */
  recent(publicKey: string, n: number): HistoryEntry[] {
    return this.page(publicKey, n).entries;
  }

  /**
   * Up to `count` entries just older than `before` (from the newest when it is absent), oldest
   * first, and the cursor for the page before them. Appends since the last page do not move it;
   * a trim in between is followed by time. Corrupt lines are skipped and counted.
   */
  page(publicKey: string, count: number, before?: HistoryCursor): HistoryPage {
    const path = this.pathOf(publicKey);
    let bytes: Buffer;
    let file: number;
    try {
      file = statSync(path).ino;
      bytes = readFileSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], before: undefined };
      throw error;
    }
    let end = bytes.length;
    if (before && before.file === file) end = Math.min(before.offset, end);
    else if (before) end = this.offsetOfFirstAtOrAfter(bytes, before.at);
    const found: { entry: HistoryEntry; offset: number }[] = [];
    let lineEnd = end;
    while (lineEnd > 0 && found.length < count) {
      // The line ending at lineEnd (exclusive of its newline) starts after the newline before it.
      const searchFrom = lineEnd - 1 - (bytes[lineEnd - 1] === 0x0a ? 1 : 0);
      const start = searchFrom < 0 ? 0 : bytes.lastIndexOf(0x0a, searchFrom) + 1;
      const line = bytes.toString('utf8', start, lineEnd).replace(/\n$/, '');
      if (line !== '') {
        const entry = parseLine(line);
        if (entry) found.push({ entry, offset: start });
        else this.stats.corruptLines++;
      }
      lineEnd = start;
    }
    found.reverse();
    const first = found[0];
    const more = first !== undefined && lineEnd > 0;
    return {
      entries: found.map((f) => f.entry),
      before: more && first ? { offset: first.offset, file, at: first.entry.at } : undefined,
    };
  }

  /** Every entry logged with this peer, oldest first (the whole file: at most its bound). */
  all(publicKey: string): HistoryEntry[] {
    return this.page(publicKey, Number.POSITIVE_INFINITY).entries;
  }

  /** The public keys (hex) there is history with, in no order. */
  peers(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names.filter((n) => /^[0-9a-f]{64}\.jsonl$/.test(n)).map((n) => n.slice(0, 64));
  }

  /** Forgets everything logged with this peer. */
  clear(publicKey: string): void {
    const path = this.pathOf(publicKey);
    rmSync(path, { force: true });
    const size = this.sizes.get(path);
    this.sizes.delete(path);
    // Not known here (never written by this run): the total is counted afresh at the next write.
    if (size === undefined) this.total = undefined;
    else if (this.total !== undefined) this.total -= blockCost(size);
  }

  /** The file a peer's history is in. Throws INVALID_ARGUMENT for anything but a key in hex (no path tricks). */
  pathOf(publicKey: string): string {
    if (!publicKeyHex.test(publicKey))
      throw errors.invalidArgument('publicKey', `not a public key: ${publicKey.slice(0, 80)}`);
    return join(this.directory, `${publicKey}.jsonl`);
  }

  /** The offset of the first line said at `at` or later (a rewritten file: where a page left off). */
  private offsetOfFirstAtOrAfter(bytes: Buffer, at: string): number {
    let start = 0;
    while (start < bytes.length) {
      const newline = bytes.indexOf(0x0a, start);
      const end = newline < 0 ? bytes.length : newline;
      const entry = parseLine(bytes.toString('utf8', start, end));
      if (entry && entry.at >= at) return start;
      start = end + 1;
    }
    return bytes.length;
  }

  /** Keeps the newest whole lines that fit in three quarters of the bound (at least the newest one). */
  private trim(path: string): void {
    const lines = readFileSync(path, 'utf8').split('\n');
    const budget = Math.floor((this.maxBytes * 3) / 4);
    const kept: string[] = [];
    let bytes = 0;
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i] as string;
      if (line === '') continue;
      const cost = Buffer.byteLength(line) + 1;
      if (kept.length > 0 && bytes + cost > budget) break;
      kept.push(line);
      bytes += cost;
    }
    writeFileAtomically(path, `${kept.reverse().join('\n')}\n`);
    const before = this.sizes.get(path) ?? 0;
    this.sizes.set(path, bytes);
    if (this.total !== undefined) this.total += blockCost(bytes) - blockCost(before);
  }

  /**
   * Removes the files written least recently (never `keep`, the one just written) until the folder
   * holds three quarters of its bound, counted afresh from the disk (another netchat on the same
   * home may have written too).
   */
  private prune(keep: string): void {
    const files = this.filesOnDisk().sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = files.reduce((sum, f) => sum + f.cost, 0);
    const budget = Math.floor((this.maxTotalBytes * 3) / 4);
    for (const file of files) {
      if (total <= budget) break;
      if (file.path === keep) continue;
      rmSync(file.path, { force: true });
      this.sizes.delete(file.path);
      total -= file.cost;
    }
    this.total = total;
  }

  /** The peers' files in the folder: path, what each costs (at least a block), when last written. */
  private filesOnDisk(): { path: string; cost: number; mtimeMs: number }[] {
    const found: { path: string; cost: number; mtimeMs: number }[] = [];
    for (const key of this.peers()) {
      const path = this.pathOf(key);
      try {
        const stat = statSync(path);
        found.push({ path, cost: blockCost(stat.size), mtimeMs: stat.mtimeMs });
      } catch {
        // Removed meanwhile (`netchat history` forgetting it, another netchat pruning): nothing to count.
      }
    }
    return found;
  }

  private readSettings(): z.infer<typeof SettingsFile> {
    let text: string;
    try {
      text = readFileSync(this.settingsPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw errors.unreadableFile(this.settingsPath, `cannot be read: ${fileProblem(error)}`);
    }
    try {
      return SettingsFile.parse(JSON.parse(text));
    } catch {
      throw errors.unreadableFile(this.settingsPath, 'is corrupt; fix it or move it away');
    }
  }
}

function parseLine(line: string): HistoryEntry | undefined {
  try {
    const parsed = HistoryEntry.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** What a file of `size` bytes takes on disk, at least: whole blocks (an empty one is never written). */
function blockCost(size: number): number {
  return Math.ceil(size / BLOCK_BYTES) * BLOCK_BYTES;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

function endsWithNewline(path: string, size: number): boolean {
  const fd = openSync(path, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}
