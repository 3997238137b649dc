/**
 * "Delivered" means the peer's program has the message (PROTOCOL.md, Reliable, ordered text): a
 * message is delivered only when the cumulative `ack` passes its last fragment, never on a
 * selective ack alone. Played against a raw receiver that says exactly what the test wants.
 */
import { describe, expect, it } from 'vitest';
import { type Datagram, decodeDatagram } from '../src/index.js';
import { rawSession } from './support/raw-peer.js';
import { eventsOf } from './support/virtual-network.js';

/** The text fragments the raw peer has received so far (decoded), in arrival order. */
function textsReceived(received: readonly Uint8Array[]): Extract<Datagram, { type: 'text' }>[] {
  return received.flatMap((bytes) => {
    const decoded = decodeDatagram(bytes);
    return decoded.ok && decoded.datagram.type === 'text' ? [decoded.datagram] : [];
  });
}

describe('delivered', () => {
  it('is never reported for messages the receiver holds behind a gap that is never filled', () => {
    const { net, b, raw, session, sb } = rawSession();
    const ids = ['one', 'two', 'three', 'four'].map((text) => b.endpoint.send(sb, text, net.now));
    net.runFor(20);
    expect(textsReceived(raw.received).map((t) => t.seq)).toEqual([0, 1, 2, 3]);
    // The receiver lost seq 0 (so its program has nothing yet) and holds 1, 2 and 3: it says so,
    // again and again, for 20 s. Every message the sender reports delivered would be a lie.
    const holding: Datagram = { type: 'ack', session, ack: 0, sack: 0b111, ackDelay: 0 };
    for (let i = 0; i < 100; i++) {
      raw.send(holding);
      net.runFor(200);
    }
    expect(eventsOf(b, 'delivered')).toEqual([]);
    expect(b.endpoint.session(sb)?.pendingMessages).toBe(4);
    // Only seq 0 was ever sent again: a selective ack stops the resends of what it names.
    const resent = textsReceived(raw.received).slice(4);
    expect(resent.length).toBeGreaterThan(0);
    expect(new Set(resent.map((t) => t.seq))).toEqual(new Set([0]));
    // The gap fills: all four are handed over at once, and only now reported, in order.
    raw.send({ type: 'ack', session, ack: 4, sack: 0, ackDelay: 0 });
    net.runFor(20);
    expect(eventsOf(b, 'delivered').map((e) => e.messageId)).toEqual(ids);
  });

  it('fails, on close, the messages only selectively acknowledged', () => {
    const { net, b, raw, session, sb } = rawSession();
    const ids = ['lost', 'held', 'held too'].map((text) => b.endpoint.send(sb, text, net.now));
    net.runFor(20);
    raw.send({ type: 'ack', session, ack: 0, sack: 0b11, ackDelay: 0 });
    net.runFor(20);
    b.endpoint.close(sb, net.now, { linger: false });
    net.runFor(20);
    expect(eventsOf(b, 'delivered')).toEqual([]);
    expect(eventsOf(b, 'failed').map((e) => [e.messageId, e.reason])).toEqual(
      ids.map((id) => [id, 'closed']),
    );
  });
});
