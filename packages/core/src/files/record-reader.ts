/**
 * Reads length-prefixed records (records.ts) from a stream, no more bytes than the record needs:
 * a data stream's first record is followed by the file's bytes, which must stay in the stream for
 * the data path to read. Never throws: a length out of bounds or a record that does not decode is
 * an error result, and the stream is then of no more use.
 */
import { type FileRecord, decodeRecord, LENGTH_BYTES, MAX_RECORD_BYTES } from './records.js';
import { HEADER_BYTES } from '../wire/header.js';

/** A stream read: up to `max` bytes in order, empty when none wait. */
export type StreamRead = (max: number) => Uint8Array;

export type ReadResult = { readonly record: FileRecord } | { readonly error: string };

export class RecordReader {
  private readonly prefix = new Uint8Array(LENGTH_BYTES);
  private prefixHave = 0;
  private body: Uint8Array | undefined;
  private bodyHave = 0;
  /** Bytes taken from the stream so far. */
  consumed = 0;

  /** The next whole record, or undefined when the stream has no more bytes for now. */
  next(read: StreamRead): ReadResult | undefined {
    while (this.prefixHave < LENGTH_BYTES) {
      const bytes = read(LENGTH_BYTES - this.prefixHave);
      if (bytes.length === 0) return undefined;
      this.prefix.set(bytes, this.prefixHave);
      this.prefixHave += bytes.length;
      this.consumed += bytes.length;
    }
    if (!this.body) {
      const length = ((this.prefix[0] as number) << 8) | (this.prefix[1] as number);
      if (length < HEADER_BYTES || length > MAX_RECORD_BYTES)
        return { error: `a record length of ${length} bytes (${HEADER_BYTES} to ${MAX_RECORD_BYTES})` };
      this.body = new Uint8Array(length);
      this.bodyHave = 0;
    }
    while (this.bodyHave < this.body.length) {
      const bytes = read(this.body.length - this.bodyHave);
      if (bytes.length === 0) return undefined;
      this.body.set(bytes, this.bodyHave);
      this.bodyHave += bytes.length;
      this.consumed += bytes.length;
    }
    const decoded = decodeRecord(this.body);
    this.body = undefined;
    this.prefixHave = 0;
    return decoded.ok ? { record: decoded.record } : { error: decoded.reason };
  }
}
