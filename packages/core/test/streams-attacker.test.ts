/**
 * The attacker's test for streams: a peer that holds a valid channel and an open session (a raw
 * peer on the virtual network, writing stream messages byte by byte) sends the worst it can:
 * bytes far beyond the credit, credits that shrink, acknowledgements of packets never sent,
 * streams beyond the limit and on the wrong side, resets for streams that never were, a flood of
 * opens and ten thousand random stream messages. Nothing throws, every breach is counted, what
 * the endpoint holds stays bounded, and the chat goes on.
 */
import { describe, expect, it } from 'vitest';
import { type Datagram, decodeDatagram, encodeDatagram, type Endpoint } from '../src/index.js';
import { rawSession } from './support/raw-peer.js';
import { seededRandom } from './support/random.js';
import { eventsOf } from './support/virtual-network.js';

const WINDOW = 64 * 1024;
const LIMIT = 8;

/** b takes streams (8 at most, 64 KiB windows); the raw peer said it takes them too, and picked the session id. */
function hostile() {
  const setup = rawSession({ streams: true, maxIncomingStreams: LIMIT, streamWindow: WINDOW }, [
    { type: 'features', session: 77, features: 1, flags: 0, streamWindow: WINDOW, maxStreams: 4 },
  ]);
  const { net, raw, session } = setup;
  let packet = 0;
  const send = (message: Datagram) => {
    if ('packet' in message) (message as { packet: number }).packet = packet++;
    raw.send(message);
    net.runFor(6); // the virtual network's one-way delay is 5 ms
  };
  const data = (stream: number, offset: number, bytes: number, fin = 0): Datagram => ({
    type: 'stream_data',
    session,
    packet: 0,
    stream,
    offset,
    fin,
    payload: new Uint8Array(bytes).fill(0x61),
  });
  return { ...setup, send, data };
}

/** What b holds for the session's streams (bytes of buffers) and how many streams. */
function held(endpoint: Endpoint, session: number): { bytes: number; streams: number } {
  const record = (
    endpoint as unknown as { get(id: number): { session: { streams?: { heldBytes: number; size: number } } } }
  ).get(session);
  return { bytes: record.session.streams?.heldBytes ?? 0, streams: record.session.streams?.size ?? 0 };
}

function stillChats(setup: ReturnType<typeof hostile>, text: string): void {
  const { net, b, raw, sb, fragment } = setup;
  const before = eventsOf(b, 'message').length;
  raw.send(fragment(0, 0, 1, text));
  net.runFor(50);
  expect(
    eventsOf(b, 'message')
      .slice(before)
      .map((e) => e.text),
  ).toEqual([text]);
  expect(b.endpoint.session(sb)?.state).toBe('open');
}

describe('a hostile peer with a session', () => {
  it('cannot make us take bytes beyond the credit, at any offset', () => {
    const setup = hostile();
    const { b, send, data } = setup;
    const errors = b.endpoint.stats.protocolErrors;
    send(data(0, WINDOW, 1)); // one byte past the window
    send(data(0, 2 ** 40, 1000));
    send(data(0, 2 ** 53 - 2000, 1000));
    expect(b.endpoint.stats.protocolErrors - errors).toBe(3);
    // Within 2^53, but the offset and payload run past it: the message itself is malformed.
    const malformed = b.endpoint.stats.malformed;
    send(data(0, 2 ** 53 - 10, 100));
    expect(b.endpoint.stats.malformed - malformed).toBe(1);
    expect(held(b.endpoint, setup.sb).bytes).toBeLessThanOrEqual(WINDOW);
    stillChats(setup, 'still here');
  });

  it('cannot open streams beyond the limit, nor send on ours, nor contradict a fin', () => {
    const setup = hostile();
    const { b, send, data, sb } = setup;
    // A flood of opens: the raw peer picked the session id, so its streams are even.
    for (let i = 0; i < 1_000; i++) send(data(2 * i, 0, 10));
    expect(eventsOf(b, 'stream_opened')).toHaveLength(LIMIT);
    expect(held(b.endpoint, sb).streams).toBe(LIMIT);
    const errors = b.endpoint.stats.protocolErrors;
    send(data(1, 0, 10)); // an odd id is b's to open
    send(data(0, 10, 5, 1)); // a fin at 15
    send(data(0, 20, 5)); // bytes beyond that fin
    send(data(0, 5, 5, 1)); // a second fin, shorter
    expect(b.endpoint.stats.protocolErrors - errors).toBe(3);
    expect(held(b.endpoint, sb).bytes).toBeLessThanOrEqual(LIMIT * WINDOW);
    stillChats(setup, 'after the flood');
  });

  it('cannot reset streams that never were, nor ones that are not its own', () => {
    const setup = hostile();
    const { b, send, session } = setup;
    const errors = b.endpoint.stats.protocolErrors;
    const reset = (stream: number, finalSize = 0): Datagram => ({
      type: 'stream_reset',
      session,
      packet: 0,
      stream,
      finalSize,
      code: 1,
    });
    send(reset(2 * LIMIT)); // beyond the limit
    send(reset(3)); // b's own side
    send(reset(1_000_000)); // far beyond
    send({ type: 'stream_stop', session, packet: 0, stream: 0, code: 1 }); // stop of a stream of its own
    send({ type: 'stream_credit', session, packet: 0, stream: 9, maxOffset: 1 }); // credit for one b never opened
    expect(b.endpoint.stats.protocolErrors - errors).toBe(5);
    // A reset for a stream it may open (but never wrote) opens and cancels it: nothing held.
    send(reset(0, 0));
    expect(eventsOf(b, 'stream_cancelled')).toMatchObject([{ stream: 0, by: 'peer' }]);
    expect(held(b.endpoint, setup.sb)).toEqual({ bytes: 0, streams: 0 });
    stillChats(setup, 'after the resets');
  });

  it('cannot shrink a credit it gave, nor acknowledge packets never sent', () => {
    const setup = hostile();
    const { net, b, raw, send, sb, session } = setup;
    const stream = b.endpoint.openStream(sb, net.now);
    expect(stream).toBe(1);
    expect(b.endpoint.writeStream(sb, stream, new Uint8Array(WINDOW * 4), net.now)).toBe(WINDOW);
    send({ type: 'stream_credit', session, packet: 0, stream, maxOffset: 4 * WINDOW });
    const room = b.endpoint.streamInfo(sb, stream)?.available as number;
    expect(room).toBe(3 * WINDOW);
    send({ type: 'stream_credit', session, packet: 0, stream, maxOffset: 10 });
    expect(b.endpoint.streamInfo(sb, stream)?.available).toBe(room);
    const errors = b.endpoint.stats.protocolErrors;
    const sentByB = raw.received
      .map((p) => decodeDatagram(p))
      .filter((d) => d.ok && d.datagram.type === 'stream_data');
    expect(sentByB.length).toBeGreaterThan(0);
    const ack = (largest: number, firstRange = 0): Datagram => ({
      type: 'stream_ack',
      session,
      largest,
      ackDelay: 0,
      firstRange,
      ranges: new Uint8Array(0),
    });
    raw.send(ack(1_000_000));
    raw.send(ack(2 ** 50, 5));
    net.runFor(6);
    expect(b.endpoint.stats.protocolErrors - errors).toBe(2);
    // A range below packet 0 is not even a message.
    const malformed = b.endpoint.stats.malformed;
    raw.send(ack(3, 10));
    net.runFor(6);
    expect(b.endpoint.stats.malformed - malformed).toBe(1);
    stillChats(setup, 'after the acks');
  });

  it('survives ten thousand random stream messages: nothing throws, memory stays bounded', () => {
    const setup = hostile();
    const { net, b, raw, sb, session } = setup;
    const random = seededRandom(19);
    const int = (max: number) => Math.floor(random() * max);
    const pick = () => {
      const r = random();
      return r < 0.25 ? int(20) : r < 0.5 ? int(WINDOW * 2) : r < 0.75 ? int(2 ** 32) : int(2 ** 53 - 2000);
    };
    const bytesBefore = b.endpoint.stats.datagramsOut;
    let sent = 0;
    for (let i = 0; i < 10_000; i++) {
      const kind = int(7);
      const stream = int(3) === 0 ? pick() : int(40);
      const message: Datagram =
        kind === 0
          ? {
              type: 'stream_data',
              session,
              packet: pick(),
              stream,
              offset: pick(),
              fin: int(2),
              payload: new Uint8Array(int(1100)),
            }
          : kind === 1
            ? { type: 'stream_credit', session, packet: pick(), stream, maxOffset: pick() }
            : kind === 2
              ? { type: 'stream_reset', session, packet: pick(), stream, finalSize: pick(), code: int(65536) }
              : kind === 3
                ? { type: 'stream_stop', session, packet: pick(), stream, code: int(65536) }
                : kind === 4
                  ? { type: 'stream_limit', session, packet: pick(), maxStreams: pick() % 2 ** 32 }
                  : kind === 5
                    ? {
                        type: 'stream_ack',
                        session,
                        largest: pick(),
                        ackDelay: int(65536),
                        firstRange: int(100),
                        ranges: new Uint8Array(8 * int(4)),
                      }
                    : {
                        type: 'features',
                        session,
                        features: int(2 ** 32),
                        flags: int(256),
                        streamWindow: pick() % 2 ** 32,
                        maxStreams: pick() % 2 ** 32,
                      };
      let bytes: Uint8Array;
      try {
        bytes = encodeDatagram(message);
      } catch {
        continue; // a message too long for one datagram: not something a peer can send
      }
      raw.sendRaw(bytes);
      sent++;
      if (i % 100 === 0) {
        net.runFor(2);
        expect(held(b.endpoint, sb).bytes).toBeLessThanOrEqual(LIMIT * WINDOW + 64 * 1024);
      }
    }
    net.runFor(100);
    expect(sent).toBeGreaterThan(9_000);
    expect(held(b.endpoint, sb).streams).toBeLessThanOrEqual(LIMIT + 4);
    // It answers at most about one datagram per message (acknowledgements, a few control messages).
    expect(b.endpoint.stats.datagramsOut - bytesBefore).toBeLessThan(sent * 1.1);
    stillChats(setup, 'after the fuzz');
  });
});
