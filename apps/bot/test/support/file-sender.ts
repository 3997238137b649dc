/**
 * A peer that sends files to the bot with core's FileLink, as a person's netchat would: it
 * connects (to the bot, or to a forwarder in front of it), offers paths, and waits (bounded) for
 * a transfer's end. `cleanup` gets what closes it.
 */
import { FileLink, type LinkEvent, NetchatPeer, type TransferId } from '@netchat/core';

export class FileSender {
  readonly events: LinkEvent[] = [];

  private constructor(
    readonly peer: NetchatPeer,
    readonly link: FileLink,
    readonly session: number,
  ) {
    link.on('event', (e) => this.events.push(e));
  }

  /** A new key on `host`, with a session (streams and files) to 127.0.0.1:`port`. */
  static async connect(port: number, cleanup: (() => unknown)[], host = '127.0.0.1'): Promise<FileSender> {
    const peer = await NetchatPeer.listen({ port: 0, host, streams: true, files: true });
    const link = new FileLink(peer);
    cleanup.push(async () => {
      await link.close();
      await peer.close(0);
    });
    const session = new Promise<number>((resolve) => peer.once('features', (e) => resolve(e.session)));
    await peer.connect('127.0.0.1', port);
    const sender = new FileSender(peer, link, await session);
    return sender;
  }

  offer(paths: string[]): Promise<TransferId> {
    return this.link.offer(this.session, paths);
  }

  /** The transfer's end (done or declined), waited for at most `ms`; undefined if none came. */
  async end(transfer: TransferId, ms = 20_000): Promise<LinkEvent | undefined> {
    const ends = (e: LinkEvent) =>
      e.transfer === transfer && (e.type === 'file_done' || e.type === 'file_declined');
    for (const deadline = Date.now() + ms; !this.events.some(ends) && Date.now() < deadline; )
      await new Promise((r) => setTimeout(r, 20));
    return this.events.find(ends);
  }
}
