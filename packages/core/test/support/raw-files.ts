/**
 * A peer that speaks the files protocol byte by byte, as the tests write it: a real endpoint
 * (its streams are well-formed, so whatever it says reaches the engine under test) with no file
 * engine, writing any records or bytes on its streams, and reading what the other side says. It
 * is how the tests play a hostile peer that holds a valid key and takes files.
 */
import {
  contentHash,
  type FileRecord,
  frameRecord,
  type NetchatEvent,
  type SessionId,
  type StreamId,
} from '../../src/index.js';
import { RecordReader } from '../../src/files/record-reader.js';
import { randomData } from './partial-files.js';
import { listen } from './stream-apps.js';
import type { Node, VirtualNetwork } from './virtual-network.js';

export class RawFiles {
  control: StreamId | undefined;
  /** Bytes each of our streams has not taken yet, written when it has room. */
  private readonly waiting = new Map<StreamId, { bytes: Uint8Array[]; finish: boolean }>();
  /** What the other side said on its streams, in order, and how its streams ended. */
  readonly heard: FileRecord[] = [];
  readonly cancelled: (NetchatEvent & { type: 'stream_cancelled' })[] = [];
  private readonly readers = new Map<StreamId, RecordReader>();
  /** The other side's data streams: their bytes, after the `data` record. */
  readonly data = new Map<StreamId, number>();
  bytesWritten = 0;

  constructor(
    private readonly net: VirtualNetwork,
    private readonly node: Node,
    private readonly session: SessionId,
  ) {
    listen(net, (from, event) => {
      if (from !== node || event.session !== session) return;
      if (event.type === 'stream_writable') this.pump(event.stream);
      if (event.type === 'stream_opened') this.readers.set(event.stream, new RecordReader());
      if (event.type === 'stream_readable') this.read(event.stream);
      if (event.type === 'stream_cancelled') this.cancelled.push(event);
    });
  }

  /** A record on our control stream (opened with the first one). */
  say(...records: FileRecord[]): void {
    for (const record of records) this.raw(frameRecord(record));
  }

  /** Any bytes on our control stream. */
  raw(bytes: Uint8Array): void {
    this.control ??= this.open();
    this.write(this.control, bytes);
  }

  /** A new stream carrying `bytes` (records or not), finished after them unless `finish` is false. */
  stream(bytes: Uint8Array, finish = true): StreamId {
    const stream = this.open();
    this.write(stream, bytes, finish);
    return stream;
  }

  /** More bytes on a stream of ours (a trickle), finished after them if `finish`. */
  more(stream: StreamId, bytes: Uint8Array, finish = false): void {
    this.write(stream, bytes, finish);
  }

  private open(): StreamId {
    return this.node.endpoint.openStream(this.session, this.net.now);
  }

  private write(stream: StreamId, bytes: Uint8Array, finish = false): void {
    const entry = this.waiting.get(stream) ?? { bytes: [], finish: false };
    entry.bytes.push(bytes);
    entry.finish ||= finish;
    this.waiting.set(stream, entry);
    this.pump(stream);
  }

  private pump(stream: StreamId): void {
    const entry = this.waiting.get(stream);
    if (!entry) return;
    const endpoint = this.node.endpoint;
    while (entry.bytes.length > 0) {
      const next = entry.bytes[0] as Uint8Array;
      let took: number;
      try {
        took = endpoint.writeStream(this.session, stream, next, this.net.now);
      } catch {
        this.waiting.delete(stream); // stopped by the other side
        return;
      }
      this.bytesWritten += took;
      if (took < next.length) {
        entry.bytes[0] = next.subarray(took);
        return;
      }
      entry.bytes.shift();
    }
    if (entry.finish) {
      endpoint.finishStream(this.session, stream, this.net.now);
      this.waiting.delete(stream);
    }
  }

  private read(stream: StreamId): void {
    const endpoint = this.node.endpoint;
    if (this.data.has(stream)) {
      for (let bytes = endpoint.readStream(this.session, stream, 1 << 20, this.net.now); bytes.length > 0; ) {
        this.data.set(stream, (this.data.get(stream) ?? 0) + bytes.length);
        bytes = endpoint.readStream(this.session, stream, 1 << 20, this.net.now);
      }
      return;
    }
    const reader = this.readers.get(stream);
    if (!reader) return;
    for (let i = 0; i < 100_000; i++) {
      const result = reader.next((max) => endpoint.readStream(this.session, stream, max, this.net.now));
      if (!result) return;
      if ('record' in result) this.heard.push(result.record);
      // A data stream's bytes after its record are not records: read and dropped.
      if ('record' in result && result.record.type === 'data') {
        this.readers.delete(stream);
        this.data.set(stream, 0);
        this.read(stream);
        return;
      }
    }
  }

  of<T extends FileRecord['type']>(type: T): Extract<FileRecord, { type: T }>[] {
    return this.heard.filter((r): r is Extract<FileRecord, { type: T }> => r.type === type);
  }
}

let nextId = 1;
/** A new offer id (8 bytes), each one once. */
export function offerId(): Uint8Array {
  const id = new Uint8Array(8);
  new DataView(id.buffer).setUint32(4, nextId++);
  return id;
}

/** An offer's records: its header and one record per file. */
export function offerOf(
  files: { path: string; size?: number; data?: Uint8Array }[],
  id = offerId(),
): FileRecord[] {
  const listed = files.map((f) => {
    const data = f.data ?? randomData(Math.min(f.size ?? 10, 100));
    return { path: f.path, size: f.size ?? data.length, hash: Buffer.from(contentHash(data), 'hex') };
  });
  const totalSize = listed.reduce((sum, f) => sum + f.size, 0);
  return [
    { type: 'offer', offer: id, files: listed.length, totalSize },
    ...listed.map((f, index) => ({ type: 'offer_file' as const, offer: id, index, ...f })),
  ];
}
