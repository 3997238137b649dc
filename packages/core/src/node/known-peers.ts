/**
 * The peers whose keys the user has accepted, with the nick they used: trust on first use, as
 * SSH's known_hosts. A request is then from a known key (and as whom), a new key, or (loudly) a
 * new key using the nick of a known peer: possibly someone pretending to be them.
 *
 * The same list is the user's contacts: each entry also keeps where and when the peer was last
 * seen (`lastAddress`, `lastSeen`), so `/connect NICK` can find it again. Those two fields came
 * later and are optional: a file written before them still loads, and gains them as peers are seen.
 * So did `verified` (the user compared the fingerprint aloud: `netchat contacts verify`; a new key
 * using that nick is then refused, as SSH refuses a changed host key) and `named` (the user gave
 * the nick: `netchat contacts rename`; the peer's own nick no longer replaces it).
 */
import { join } from 'node:path';
import type { Address } from '../address.js';
import { TokenBuckets } from '../token-buckets.js';
import {
  type FileWriter,
  type SaveFailure,
  trySave,
  withFileLock,
  writeFileAtomically,
} from './home-files.js';
import { IdentityError } from './identity-store.js';
import {
  applyChange,
  type KnownPeerEntry as Entry,
  type KnownPeersChange,
  knownPeersText,
  knownPeersVersion,
  readKnownPeersFile,
} from './known-peers-file.js';

/** One known peer, as a contacts list shows it. */
export interface KnownPeer {
  readonly publicKey: string;
  readonly nick: string;
  readonly fingerprint: string;
  readonly firstSeen: string;
  readonly lastAddress: Address | undefined;
  readonly lastSeen: string | undefined;
  /** When the user verified the key (ISO 8601); absent if they did not. */
  readonly verified?: string;
  /** True when the nick is the user's own name for the peer (renamed); absent otherwise. */
  readonly named?: true;
  /** A renamed peer's own nick (the last it gave), if it had one. */
  readonly peerNick?: string;
}

/** When and where a peer was seen, for `remember`. */
export interface Sighting {
  readonly address?: Address;
  readonly at?: Date;
  /**
   * Only follow a peer that is known (a nick change in a chat): a key that is not in the list,
   * say because `netchat contacts forget` removed it meanwhile, is not added back.
   */
  readonly onlyIfKnown?: boolean;
}

export type PeerTrust =
  /** `verified`: the user verified this key. */
  | { status: 'known'; knownAs: string; verified?: true }
  | { status: 'new' }
  /**
   * The key is new, but a known peer used this nick: warn before the user answers. `verified`:
   * the user verified that peer's key, so this one is refused until that peer is forgotten.
   */
  | { status: 'nick_conflict'; knownFingerprint: string; verified?: true };

export interface KnownPeersOptions {
  /** How the file is written (tests inject one that fails); whole or not at all by default. */
  writeFile?: FileWriter;
  /** How often sightings alone are saved (SIGHTING_SAVES by default). */
  sightingSaves?: { readonly perSecond: number; readonly burst: number };
  /** How long a save waits for another program's lock on the file (ms; LOCK_WAIT_MS by default). */
  lockWaitMs?: number;
}

/**
 * Sightings (`remember`: a chat opened or ended, a key trusted on first use) are saved at once
 * while this budget allows (a token bucket: 16 in a row, then one a second); past it they wait,
 * and go with the next save (a person's own change saves at once and takes them along), on a
 * timer at the next token, or as the process exits. Each save writes the whole file: a program
 * that let in a stranger a millisecond rewrote it a thousand times a second.
 */
export const SIGHTING_SAVES = { perSecond: 1, burst: 16 } as const;

/**
 * And the bytes they may write: 8 KiB a second, in bursts of 512 KiB (a save costs the size of
 * the one before it). A list of a few dozen contacts saves its 16 in a row as before; a list at
 * its bound of strangers (about 360 KB) is saved once, then at most every 45 s: strangers
 * churning keys past the bound had it rewritten once a second, 360 KB/s (1.7 MB/s for the first
 * 16), for as long as they came.
 */
export const SIGHTING_SAVE_BYTES = { perSecond: 8 * 1024, burst: 512 * 1024 } as const;

/** Lists with sightings waiting to be saved: saved as the process exits (one listener for all). */
const waitingAtExit = new Set<KnownPeers>();
let exitListener: (() => void) | undefined;

/**
 * The list, shared with the other programs on the same netchat home (known-peers-file.ts says
 * how): it holds the file as last read with this program's unsaved changes on top, reads the
 * file again whenever it changed, and saves by applying its own changes to the file as it is.
 */
export class KnownPeers {
  private readonly saveListeners: ((failure: SaveFailure) => void)[] = [];
  private readonly writeFile: FileWriter;
  /** This program's changes that are not in the file yet (its saves failed): applied again at each save. */
  private unsaved: KnownPeersChange[] = [];
  /** The stamp of the file as last read or written here: another stamp means another program wrote it. */
  private fileVersion: string | undefined;
  /** The last save that failed, until one works again. */
  lastSaveFailure: SaveFailure | undefined;
  /** The sightings' save budget (SIGHTING_SAVES), and the time one token of it takes (ms). */
  private readonly saveBudget: TokenBuckets<'saves'>;
  private readonly tokenMs: number;
  /** Their byte budget (SIGHTING_SAVE_BYTES), and the bytes the last save wrote: the next one's cost. */
  private readonly byteBudget = new TokenBuckets<'bytes'>(
    SIGHTING_SAVE_BYTES.perSecond,
    SIGHTING_SAVE_BYTES.burst,
    1,
  );
  private lastSaveBytes = 0;
  /** The timer of the save that sightings past the budget wait for. */
  private saveTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly path: string | undefined,
    private entries: Entry[],
    private readonly options: KnownPeersOptions = {},
  ) {
    this.writeFile = options.writeFile ?? writeFileAtomically;
    const { perSecond, burst } = options.sightingSaves ?? SIGHTING_SAVES;
    this.saveBudget = new TokenBuckets(perSecond, burst, 1);
    this.tokenMs = 1000 / perSecond;
  }

  /** Reads `known_peers.json` in `home` (none yet is fine). Throws IdentityError if corrupt. */
  static load(home: string, options: KnownPeersOptions = {}): KnownPeers {
    const path = join(home, 'known_peers.json');
    const read = readKnownPeersFile(path);
    switch (read.kind) {
      case 'missing':
        return new KnownPeers(path, [], options);
      case 'unreadable':
        throw new IdentityError(`cannot read ${path}: ${(read.error as Error).message}`);
      case 'corrupt':
        throw new IdentityError(`${path} is corrupt; move it away to start a new list of known peers`);
      case 'read': {
        const peers = new KnownPeers(path, read.peers, options);
        peers.fileVersion = read.version;
        peers.lastSaveBytes = knownPeersText(read.peers).length;
        return peers;
      }
    }
  }

  /**
   * Calls `listener` when the list could not be saved (a read-only home, a full disk): the change
   * holds in memory for this run, and nothing is thrown into the chat that made it.
   */
  onSaveFailure(listener: (failure: SaveFailure) => void): void {
    this.saveListeners.push(listener);
  }

  /** A list kept in memory only (tests, and a bot that trusts no one in particular). */
  static inMemory(): KnownPeers {
    return new KnownPeers(undefined, []);
  }

  /** How far `publicKey` (calling itself `nick`) is trusted, as the file says now. */
  check(publicKey: string, nick: string): PeerTrust {
    this.refresh();
    const known = this.entries.find((e) => e.publicKey === publicKey);
    if (known)
      return { status: 'known', knownAs: known.nick, ...(known.verified && { verified: true as const }) };
    // A renamed peer still goes by its own nick: a new key using that is a conflict too.
    // Told apart as people read them, not by their bytes: "BOB", "Bob" and "ｂｏｂ" are bob.
    const wanted = nickForm(nick);
    const sameNick =
      wanted === ''
        ? []
        : this.entries.filter(
            (e) =>
              nickForm(e.nick) === wanted || (e.peerNick !== undefined && nickForm(e.peerNick) === wanted),
          );
    // A verified key with that nick weighs most: this one is then refused, not only warned about.
    const conflict = sameNick.find((e) => e.verified) ?? sameNick[0];
    if (!conflict) return { status: 'new' };
    return {
      status: 'nick_conflict',
      knownFingerprint: conflict.fingerprint,
      ...(conflict.verified && { verified: true as const }),
    };
  }

  /**
   * Trusts `publicKey` from now on, under `nick` (unless empty), seen now (and at `seen.address`).
   * With `seen.onlyIfKnown`, only a key in the list is updated.
   */
  remember(publicKey: string, nick: string, fingerprint: string, seen: Sighting = {}): void {
    this.change(
      {
        kind: 'remember',
        publicKey,
        nick,
        fingerprint,
        at: (seen.at ?? new Date()).toISOString(),
        address: seen.address,
        onlyIfKnown: seen.onlyIfKnown,
      },
      true,
    );
  }

  /** Saves the sightings that wait for their turn (SIGHTING_SAVES) now; false if that failed. */
  flush(): boolean {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    waitingAtExit.delete(this);
    if (!this.path || this.unsaved.length === 0) return true;
    return this.save(this.path);
  }

  /** Every known peer, the most recently seen first (never seen since the file gained `lastSeen`: last). */
  list(): KnownPeer[] {
    this.refresh();
    const peers = this.entries.map(
      (e): KnownPeer => ({
        publicKey: e.publicKey,
        nick: e.nick,
        fingerprint: e.fingerprint,
        firstSeen: e.firstSeen,
        lastAddress: e.lastAddress ? { ...e.lastAddress } : undefined,
        lastSeen: e.lastSeen,
        ...(e.verified && { verified: e.verified }),
        ...(e.named && { named: true as const }),
        ...(e.peerNick && { peerNick: e.peerNick }),
      }),
    );
    const seen = (p: KnownPeer) => p.lastSeen ?? '';
    return peers.sort((a, b) => seen(b).localeCompare(seen(a)) || a.nick.localeCompare(b.nick));
  }

  /**
   * Forgets the peer with this key (its key is new again next time, and a verified nick is free
   * for another key). Returns false if it was not known, or the list could not be saved (see
   * `lastSaveFailure`; the change holds for this run).
   */
  forget(publicKey: string): boolean {
    return this.changeKnown({ kind: 'forget', publicKey });
  }

  /** Names the peer `nick` from now on, whatever nick it gives itself. False if unknown or not saved. */
  rename(publicKey: string, nick: string): boolean {
    return this.changeKnown({ kind: 'rename', publicKey, nick });
  }

  /**
   * Marks the peer's key verified (the user compared its fingerprint with the peer, aloud): its
   * requests say so, and a new key using its nick is refused. False if unknown or not saved.
   */
  verify(publicKey: string, at: Date = new Date()): boolean {
    return this.changeKnown({ kind: 'verify', publicKey, at: at.toISOString() });
  }

  /** A change to a key that must be known (as the file says now): false if it is not, else whether it was saved. */
  private changeKnown(change: KnownPeersChange): boolean {
    this.refresh();
    if (!this.entries.some((e) => e.publicKey === change.publicKey)) return false;
    return this.change(change);
  }

  /** Makes a change here at once, and in the file (see save): a `sighting` past its budget (SIGHTING_SAVES) later. */
  private change(change: KnownPeersChange, sighting = false): boolean {
    this.refresh();
    applyChange(this.entries, change);
    if (!this.path) return true;
    this.unsaved.push(change);
    if (sighting && (this.saveTimer || !this.mayWriteSighting())) {
      this.saveLater();
      return true;
    }
    return this.save(this.path);
  }

  /** Whether both budgets allow a sighting's save now: a save's token, and the last save's bytes. */
  private mayWriteSighting(): boolean {
    const now = performance.now();
    return this.saveBudget.tryTake('saves', now) && this.byteBudget.tryTake('bytes', now, this.saveCost());
  }

  /** What the next save costs of the byte budget: the size of the last (at most a burst, so it can go). */
  private saveCost(): number {
    return Math.min(this.lastSaveBytes, SIGHTING_SAVE_BYTES.burst);
  }

  /** Saves what waits once both budgets have refilled for it (at most a token's or a save's bytes' time), or at exit. */
  private saveLater(): void {
    if (this.saveTimer) return;
    const bytesMs = (this.saveCost() / SIGHTING_SAVE_BYTES.perSecond) * 1000;
    this.saveTimer = setTimeout(
      () => {
        const now = performance.now();
        this.saveBudget.tryTake('saves', now); // the tokens this save waited for
        this.byteBudget.tryTake('bytes', now, this.saveCost());
        this.flush();
      },
      Math.max(this.tokenMs, bytesMs),
    );
    this.saveTimer.unref();
    waitingAtExit.add(this);
    exitListener ??= () => {
      for (const peers of [...waitingAtExit]) peers.flush();
    };
    if (!process.listeners('exit').includes(exitListener)) process.on('exit', exitListener);
  }

  /** Reads the file again if another program wrote it since (a file that cannot be read leaves what we hold). */
  private refresh(): void {
    if (!this.path || knownPeersVersion(this.path) === this.fileVersion) return;
    const read = readKnownPeersFile(this.path);
    if (read.kind === 'corrupt' || read.kind === 'unreadable') return;
    this.adopt(read.kind === 'read' ? read.peers : [], read.kind === 'read' ? read.version : undefined);
  }

  /** The file's peers with this program's unsaved changes on top, as what we hold. */
  private adopt(peers: Entry[], version: string | undefined): void {
    for (const change of this.unsaved) applyChange(peers, change);
    this.entries = peers;
    this.fileVersion = version;
  }

  /**
   * Applies this program's unsaved changes to the file as it is now, under its lock, and writes
   * it. A failure goes to the save listeners (never thrown); the changes are kept, to be applied
   * at the next save. Returns whether it was saved.
   */
  private save(path: string): boolean {
    const failure = trySave(path, () =>
      withFileLock(
        path,
        () => {
          const read = readKnownPeersFile(path);
          // Never write over a file we cannot read: it may be another program's, or a person's edit.
          if (read.kind === 'corrupt')
            throw Object.assign(new Error(`${path} is corrupt`), { code: 'ECORRUPT' });
          if (read.kind === 'unreadable') throw read.error;
          const peers = read.kind === 'read' ? read.peers : [];
          for (const change of this.unsaved) applyChange(peers, change);
          const text = knownPeersText(peers);
          this.writeFile(path, text);
          this.lastSaveBytes = text.length;
          this.unsaved = [];
          this.adopt(peers, knownPeersVersion(path));
        },
        this.options.lockWaitMs,
      ),
    );
    this.lastSaveFailure = failure;
    if (failure) for (const listener of this.saveListeners) listener(failure);
    return failure === undefined;
  }
}

/**
 * A nick as people compare them: compatibility forms folded (fullwidth letters, ligatures),
 * invisible characters dropped, case folded, white space at the ends dropped. Two nicks of one
 * form claim one name. (Letters of other scripts that look alike, a Cyrillic о in bob, are not
 * folded: that needs Unicode's confusables table.)
 */
function nickForm(nick: string): string {
  // Invisible characters (zero-width spaces and joiners, soft hyphens, other format characters)
  // draw nothing: "bob" with one inside is shown as bob, so it is bob here too.
  return nick.normalize('NFKC').replace(INVISIBLE, '').toLowerCase().trim();
}

const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/gu;
