/**
 * A UDP forwarder on loopback between one peer and the bot that counts the bytes each way and
 * can be cut: after a cut nothing passes either way, as when a sender's program is killed or its
 * cable pulled mid-transfer (no close ever reaches the bot; it loses the session on heartbeats).
 */
import { createSocket, type RemoteInfo } from 'node:dgram';

export class CutCable {
  /** Bytes passed toward the bot, and back toward the peer. */
  toBot = 0;
  toPeer = 0;
  private cut = false;
  /** Cut by itself once this many bytes passed toward the bot (checked per datagram, so exact). */
  cutAfter = Number.POSITIVE_INFINITY;
  private peer: RemoteInfo | undefined;

  private constructor(
    private readonly socket: ReturnType<typeof createSocket>,
    private readonly botPort: number,
  ) {
    socket.on('message', (data, from) => this.forward(data, from));
  }

  static async open(botPort: number): Promise<CutCable> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new CutCable(socket, botPort);
  }

  /** The port the peer connects to (the bot is behind it). */
  get port(): number {
    return this.socket.address().port;
  }

  /** From now on nothing passes. */
  cutNow(): void {
    this.cut = true;
  }

  get isCut(): boolean {
    return this.cut;
  }

  close(): void {
    this.socket.close();
  }

  private forward(data: Buffer, from: RemoteInfo): void {
    if (this.cut) return;
    if (from.port === this.botPort) {
      if (!this.peer) return;
      this.toPeer += data.length;
      this.socket.send(data, this.peer.port, this.peer.address);
    } else {
      this.peer = from;
      this.toBot += data.length;
      this.socket.send(data, this.botPort, '127.0.0.1');
      if (this.toBot >= this.cutAfter) this.cut = true;
    }
  }
}
