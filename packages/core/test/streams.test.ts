import { describe, expect, it } from 'vitest';
import { eventsOf } from './support/virtual-network.js';
import { pattern, StreamReader, StreamWriter, streamPair } from './support/stream-apps.js';

describe('streams on the virtual network', () => {
  it('carry a megabyte in order, and finish on both sides', () => {
    const { net, a, b, sa, sb } = streamPair();
    const reader = new StreamReader(net, b, sb);
    const stream = a.endpoint.openStream(sa, net.now);
    const data = pattern(1_000_000);
    const writer = new StreamWriter(net, a, sa, stream, data);
    net.run(() => writer.done && reader.finished.has(stream), net.now + 60_000);
    expect(Buffer.from(reader.bytes(stream)).equals(Buffer.from(data))).toBe(true);
    expect(writer.done).toBe(true);
    expect(eventsOf(b, 'stream_opened').map((e) => e.stream)).toEqual([stream]);
  });
});
