/** A stranger that sends text as fast as a program takes it: what an attack test floods with. */
import type { NetchatPeer, SessionId } from '@netchat/core';

export interface TextFlood {
  /** Messages the queue took. */
  sent: number;
  /** Messages the program acknowledged so far (it has them). */
  delivered: () => number;
  /** How long the sending took (s). */
  seconds: number;
}

/**
 * Sends `text` on `session` for `ms` or `max` messages, whichever comes first: as many as the
 * send queue takes, then a breath for acknowledgements. Bounded in time and count.
 */
export async function floodText(
  peer: NetchatPeer,
  session: SessionId,
  text: string,
  bounds: { ms: number; max: number },
): Promise<TextFlood> {
  let delivered = 0;
  peer.on('delivered', (e) => {
    if (e.session === session) delivered++;
  });
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < bounds.ms && sent < bounds.max) {
    try {
      peer.send(session, text);
      sent++;
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
    if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  return { sent, delivered: () => delivered, seconds: (performance.now() - started) / 1000 };
}
