/**
 * Streams through the node adapter (NetchatPeer) on real loopback sockets: what the adapter adds
 * to the engine's stream events. The engine's stream rules are tested on the virtual network
 * (streams.test.ts); here only what depends on Node's socket callbacks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type NetchatEvent, NetchatPeer, type SessionId } from '../src/index.js';
import { until } from './support/until.js';

const open: NetchatPeer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close(200)));
});

async function listen(): Promise<NetchatPeer> {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true });
  open.push(peer);
  return peer;
}

/** Resolves when `peer` emits an event `accept` takes, or rejects after 10 s. */
function waitFor(peer: NetchatPeer, accept: (e: NetchatEvent) => boolean): Promise<NetchatEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      peer.off('event', listener);
      reject(new Error('event not seen within 10 s'));
    }, 10_000);
    const listener = (e: NetchatEvent) => {
      if (!accept(e)) return;
      clearTimeout(timer);
      peer.off('event', listener);
      resolve(e);
    };
    peer.on('event', listener);
  });
}

/** a and b with an open session whose peer takes streams (a knows it). */
async function streamPair(): Promise<{ a: NetchatPeer; b: NetchatPeer; session: SessionId }> {
  const [a, b] = [await listen(), await listen()];
  b.on('request', (e) => b.accept(e.session));
  const features = waitFor(a, (e) => e.type === 'features' && e.features.streams);
  a.connectTo(b.address);
  const { session } = await features;
  return { a, b, session };
}

const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

describe('NetchatPeer streams', () => {
  it('tells a reader of the datagrams that arrive in one batch once, after the batch, in order with what follows', async () => {
    const { a, b, session } = await streamPair();
    // a's next datagrams are caught instead of sent, then handed to b's socket callback in one
    // run, as Node does with datagrams that are ready together.
    const caught: Buffer[] = [];
    const socket = a.udpSocket;
    const send = socket.send;
    socket.send = ((data: Uint8Array) => {
      caught.push(Buffer.from(data));
    }) as typeof socket.send;
    const bytes = pattern(8 * 1139);
    let stream: number;
    try {
      stream = a.openStream(session);
      expect(a.writeStream(session, stream, bytes)).toBe(bytes.length);
      // All 8 data packets (the pacer may hold some back for a while when the handshake's round
      // trip was long, as on a loaded machine), then the line.
      const sentAll = () => (a.endpoint.pathInfo(b.address)?.dataPackets ?? 0) >= 8;
      expect(await until(sentAll, 500, 10)).toBe(true);
      a.send(session, 'after the bytes');
    } finally {
      socket.send = send;
    }
    expect(caught.length).toBeGreaterThanOrEqual(9);

    const order: string[] = [];
    const reads: number[] = [];
    const received: Uint8Array[] = [];
    b.on('event', (e) => {
      order.push(e.type);
      if (e.type !== 'stream_readable') return;
      for (let chunk = b.readStream(e.session, e.stream, 1 << 20); chunk.length > 0; ) {
        reads.push(chunk.length);
        received.push(chunk);
        chunk = b.readStream(e.session, e.stream, 1 << 20);
      }
    });
    for (const data of caught)
      b.udpSocket.emit('message', data, {
        address: '127.0.0.1',
        family: 'IPv4',
        port: a.address.port,
        size: data.length,
      });
    expect(order).toEqual(['stream_opened']);
    await new Promise((r) => setImmediate(r));

    // One readable and one read for the whole batch (each read costs a call through the engine).
    expect(reads).toEqual([bytes.length]);
    expect(Buffer.concat(received).equals(Buffer.from(bytes))).toBe(true);
    // The chat line came after the bytes, and is told after them.
    expect(order).toEqual(['stream_opened', 'stream_readable', 'message']);
  });

  it.each(['readStream', 'readStreamInto'] as const)(
    'carries a stream of a few megabytes whole over loopback, read with %s',
    async (how) => {
      const { a, b, session } = await streamPair();
      const bytes = pattern(4 * 1024 * 1024 + 17);
      const stream = a.openStream(session);
      let written = 0;
      const write = () => {
        while (written < bytes.length) {
          const took = a.writeStream(session, stream, bytes.subarray(written, written + 256 * 1024));
          written += took;
          if (took === 0) return;
        }
        a.finishStream(session, stream);
      };
      a.on('stream_writable', write);
      const got = new Uint8Array(bytes.length + 1);
      let have = 0;
      // readStreamInto: straight into `got`, one copy a read (the +1: a read past the end sees none).
      const read = (e: { session: SessionId; stream: number }): number => {
        if (how === 'readStreamInto') return b.readStreamInto(e.session, e.stream, got, have, 1 << 20);
        const c = b.readStream(e.session, e.stream, 1 << 20);
        got.set(c, have);
        return c.length;
      };
      b.on('stream_readable', (e) => {
        for (let n = read(e); n > 0; n = read(e)) have += n;
      });
      const done = waitFor(b, (e) => e.type === 'stream_finished' && e.direction === 'receive');
      write();
      await done;
      expect(have).toBe(bytes.length);
      expect(Buffer.from(got.subarray(0, have)).equals(Buffer.from(bytes))).toBe(true);
    },
  );
});
