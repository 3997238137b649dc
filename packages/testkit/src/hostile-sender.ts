/**
 * A sender that offers what netchat never would: the names a stranger picks (`../../x`, `/etc/x`,
 * control characters), through core's engine on a real NetchatPeer, so the CLI under test gets
 * them over loopback exactly as from a hostile peer.
 */
import { FileLink, NetchatPeer, prepareOffer, type SessionId } from '@netchat/core';

export class HostileSender {
  private constructor(
    readonly peer: NetchatPeer,
    readonly link: FileLink,
  ) {}

  static async start(): Promise<HostileSender> {
    const peer = await NetchatPeer.listen({
      port: 0,
      host: '127.0.0.1',
      streams: true,
      files: true,
      nick: 'mallory',
    });
    // Names as given: netchat's own sender maps them first (the protocol's SHOULD), a stranger need not.
    return new HostileSender(peer, new FileLink(peer, { engine: { mapNames: false } }));
  }

  /** Connects to the program at `port`; resolves with the session once the peer said it takes files. */
  async connect(port: number): Promise<SessionId> {
    const features = new Promise<SessionId>((resolve) =>
      this.peer.on('features', (e) => {
        if (e.features.files) resolve(e.session);
      }),
    );
    this.peer.connectTo({ host: '127.0.0.1', port });
    return features;
  }

  /**
   * Accepts every request (a program that connects to it); resolves with the first session whose
   * peer said it takes files.
   */
  acceptAll(): Promise<SessionId> {
    this.peer.on('request', (e) => this.peer.accept(e.session));
    return new Promise<SessionId>((resolve) =>
      this.peer.on('features', (e) => {
        if (e.features.files) resolve(e.session);
      }),
    );
  }

  /** Offers the contents of `source` under each of `names` (one file each). */
  async offer(session: SessionId, source: string, names: readonly string[]): Promise<number> {
    const prepared = await prepareOffer([source]);
    const file = prepared.files[0];
    if (!file) throw new Error(`nothing to offer in ${source}`);
    const files = names.map((path) => ({ ...file, path }));
    const transfer = this.link.engine.offer(session, files, this.peer.now());
    this.link.storage.addSources(transfer, files);
    // FileLink hands the engine's requests to the disk in its pump; an engine call from outside needs one.
    (this.link as unknown as { pump(): void }).pump();
    return transfer;
  }

  async close(): Promise<void> {
    await this.link.close();
    await this.peer.close(100);
  }
}
