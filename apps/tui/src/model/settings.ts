/** What the TUI's model is given: the peer it talks through, and its settings. */
import type { ChatHistory, ClientTimers, PeerPort as ClientPort, StorageSources } from '@netchat/client';
import type { Address, KnownPeer, PeerTrust } from '@netchat/core';
import type { DirectoryLister } from './path-completion.js';
import type { FilesSettings } from './tui-files.js';

/**
 * What the model needs from the peer: what the shared client needs (NetchatPeer offers it), and
 * the TUI's own extras. NetchatPeer in the app, a fake in tests.
 */
export interface PeerPort extends ClientPort {
  /** The peer's clock (ms), the one SessionInfo.lastHeard is on. */
  now(): number;
  quit(): void;
  /** Our own key's fingerprint. */
  fingerprint(): string;
  /** Whether a peer's key is known (trust on first use). */
  trust(publicKey: string, nick: string): PeerTrust;
  /**
   * Trusts a peer's key from now on, seen now at `seen.address`. Never throws: a save that fails
   * is told to `ModelSettings.knownPeers`' listeners (KnownPeers does both).
   */
  remember(publicKey: string, nick: string, fingerprint: string, seen?: { address?: Address }): void;
  /** The known peers (contacts), most recently seen first. */
  contacts(): readonly KnownPeer[];
}

export interface ModelSettings {
  nick: string;
  /** Where we listen, as shown in the status bar. */
  localAddress: string;
  /** The addresses others can reach us at ("192.0.2.2 5555"), said at start and by /whoami. */
  reachableAt?: readonly string[];
  /** Accept every request (--yes). */
  acceptAll: boolean;
  verbose: boolean;
  /** Ring the terminal bell for requests and for messages in other tabs (--no-bell: off). */
  bell?: boolean;
  /**
   * Where conversations are logged, per peer key; shown (dimmed) when a chat with a known peer
   * opens, and older pages of it as the tab is scrolled up past its top.
   */
  history?: ChatHistory;
  /** Where the known peers tell of a save that failed (KnownPeers): one warning per file. */
  knownPeers?: StorageSources['knownPeers'];
  /** Whether a rendezvous is configured: /connect then finds a peer known by key through it first. */
  rendezvous?: boolean;
  /** Called when something changes without a peer event (a peer's typing expired): redraw. */
  onChange?: () => void;
  /** Transfer figures changed (a few times a second): redraw at the view's own pace. */
  onProgress?: () => void;
  /** File transfers (core's FileLink); without them /send and offers are not available. */
  files?: FilesSettings;
  /** Where Tab finds paths for /send: the folders' entries, the home folder (`~`), the working folder. */
  paths?: { readonly list: DirectoryLister; readonly home: string; readonly cwd: () => string };
  /** The timer that ends a peer's typing (real timers by default; virtual ones in tests). */
  timers?: ClientTimers;
  clock?: () => Date;
}
