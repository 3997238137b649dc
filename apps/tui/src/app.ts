/**
 * Wires a NetchatPeer (and its FileLink) to the TUI model and view: peer and file events in, key
 * presses out, one redraw per change (transfer figures: a few a second at most).
 */
import { homedir } from 'node:os';
import { type ChatHistory, portOf, type Target } from '@netchat/client';
import {
  type Address,
  type FileLink,
  fingerprint,
  formatAddress,
  type KnownPeers,
  type NetchatPeer,
} from '@netchat/core';
import { reachableAddresses } from '@netchat/options';
import { listDirectory } from './directory-lister.js';
import { type PeerPort, TuiModel } from './model/tui-model.js';
import { TuiView, type ViewOptions } from './view/tui-view.js';

export interface AppOptions extends ViewOptions {
  knownPeers: KnownPeers;
  acceptAll: boolean;
  verbose: boolean;
  bell: boolean;
  /** Chat history in the netchat home (undefined: none this run). */
  history?: ChatHistory;
  /** File transfers: the peer's FileLink, where accepted files go, the largest file taken. */
  files?: { link: FileLink; downloadFolder: string; maxFileSize?: number };
  /** --connect, as resolveTarget read it. */
  connect?: Target;
  /**
   * With a rendezvous: finds a peer by fingerprint (waiting until we are registered), and
   * /connect reaches a peer known by key through it first.
   */
  find?: (fingerprint: string) => Promise<Address>;
  /**
   * Called once every session is closed (or the wait ran out) and the terminal is restored, with
   * the line that says what the quit left unfinished (for the shell the person is back at).
   */
  onExit(left?: string): void;
}

/** How often "heard Ns ago" in the status bar is brought up to date. */
const STATUS_REFRESH_MS = 1000;

export class TuiApp {
  readonly model: TuiModel;
  readonly view: TuiView;
  private readonly ticker: NodeJS.Timeout;
  private quitting = false;

  constructor(
    private readonly peer: NetchatPeer,
    private readonly options: AppOptions,
  ) {
    const port: PeerPort = {
      ...portOf(peer),
      now: () => peer.now(),
      quit: () => void this.quit(),
      fingerprint: () => fingerprint(peer.publicKey),
      trust: (publicKey, nick) => options.knownPeers.check(publicKey, nick),
      remember: (publicKey, nick, print, seen) => options.knownPeers.remember(publicKey, nick, print, seen),
      contacts: () => options.knownPeers.list(),
      ...(options.find ? { find: options.find } : {}),
    };
    const local = peer.address;
    this.model = new TuiModel(port, {
      nick: peer.options.nick,
      localAddress: formatAddress(local),
      reachableAt: reachableAddresses(local.host).map((host) => `${host} ${local.port}`),
      acceptAll: options.acceptAll,
      verbose: options.verbose,
      rendezvous: options.find !== undefined,
      bell: options.bell,
      history: options.history,
      knownPeers: options.knownPeers,
      onChange: () => this.view.scheduleRender(),
      onProgress: () => this.view.scheduleProgressRender(),
      ...(options.files && {
        files: {
          port: options.files.link,
          downloadFolder: options.files.downloadFolder,
          ...(options.files.maxFileSize !== undefined && { maxFileSize: options.files.maxFileSize }),
        },
      }),
      paths: { list: listDirectory, home: homedir(), cwd: () => process.cwd() },
    });
    this.view = new TuiView(this.model, options);
    peer.on('event', (event) => {
      this.model.onEvent(event);
      // A burst of events (a busy chat) is drawn once.
      this.view.scheduleRender();
    });
    options.files?.link.on('event', (event) => {
      this.model.files?.transfers.handle(event);
      this.view.scheduleRender();
    });
    options.files?.link.on('warning', (line) => {
      this.model.currentTab.log.warn(line);
      this.view.scheduleRender();
    });
    this.ticker = setInterval(() => this.view.render(), STATUS_REFRESH_MS);
    this.ticker.unref();
  }

  start(): void {
    if (this.options.connect) this.model.connect(this.options.connect);
    this.view.render();
  }

  /**
   * A line of news for the person (the rendezvous registered, lost, refused; STUN's answer) on the
   * home tab: printed on stderr it was drawn over by the screen, or dropped once the screen was up.
   */
  notice(line: string): void {
    this.model.home.log.notice(line);
    this.view.scheduleRender();
  }

  /** Closes every session gracefully (bounded), restores the terminal, then calls onExit. */
  async quit(): Promise<void> {
    if (this.quitting) return;
    this.quitting = true;
    this.view.render();
    clearInterval(this.ticker);
    const unfinished = this.model.files?.unfinished();
    // Offers not answered are declined; what arrived is made durable and kept for a resume, and
    // our unfinished offers stay recorded to be made again.
    this.model.files?.quitting();
    await this.options.files?.link.close();
    // Long enough for messages in flight to linger (3 s) and the disconnects to be acknowledged.
    await this.peer.close(this.peer.options.closeLinger + 2_000);
    this.view.destroy();
    this.options.onExit(unfinished && `Quit with ${unfinished}: it goes on when offered again.`);
  }
}
