/**
 * How a path writes its own packets (stream data, PMTU probes) before the endpoint seals them.
 * Off `describePackets`, every packet is written into one scratch buffer and sealed from there
 * (PathHost.send seals it, or copies it if it must wait, before the next one is written), with
 * no object per packet: on loopback that was +45 % of stream throughput on a busy machine (less
 * garbage to collect). With it, each packet gets an array of its own and the message that names
 * it (tests, diagnostics).
 */
import type { ByteRing } from '../streams/byte-ring.js';
import { allocate } from '../slab.js';
import { MAX_LARGE_MESSAGE_BYTES, type PmtuProbe, type StreamData } from '../wire/messages.js';
import {
  PMTU_PROBE_OVERHEAD_BYTES,
  STREAM_DATA_OVERHEAD_BYTES,
  writePmtuProbe,
  writeStreamDataHeader,
} from '../wire/stream-messages.js';

/** Every path's packets are written here, and sealed at once (the engine is single-threaded). */
const SCRATCH = new Uint8Array(MAX_LARGE_MESSAGE_BYTES);
/** The scratch view last handed out: bulk data is packet after packet of one size, and the view is made once. */
let scratchView = SCRATCH.subarray(0, 0);

/**
 * The first `size` bytes of the scratch. The same array comes back for the next packet of the
 * same size, so whoever keeps a packet past its send must copy it (the outbox does).
 */
export function scratch(size: number): Uint8Array {
  if (scratchView.length !== size) scratchView = SCRATCH.subarray(0, size);
  return scratchView;
}

/** A stream_data's plaintext: `length` bytes of `source` (the stream's buffer) at `offset`. */
export function writeStreamData(
  described: boolean,
  session: number,
  pn: number,
  stream: number,
  offset: number,
  length: number,
  fin: boolean,
  source: ByteRing,
): Uint8Array {
  const size = STREAM_DATA_OVERHEAD_BYTES + length;
  const plaintext = described ? allocate(size) : scratch(size);
  writeStreamDataHeader(plaintext, session, pn, stream, offset, fin);
  source.copy(offset, length, plaintext, STREAM_DATA_OVERHEAD_BYTES);
  return plaintext;
}

/** The message a described stream_data packet carries (its payload a view of `plaintext`). */
export function describeStreamData(
  plaintext: Uint8Array,
  session: number,
  pn: number,
  stream: number,
  offset: number,
  fin: boolean,
): StreamData {
  return {
    type: 'stream_data',
    session,
    packet: pn,
    stream,
    offset,
    fin: fin ? 1 : 0,
    payload: plaintext.subarray(STREAM_DATA_OVERHEAD_BYTES),
  };
}

/** A PMTU probe's plaintext of `length` bytes (the datagram less the packet's overhead). */
export function writeProbe(described: boolean, session: number, pn: number, length: number): Uint8Array {
  const plaintext = described ? allocate(length) : scratch(length);
  writePmtuProbe(plaintext, session, pn, length);
  return plaintext;
}

/** The message a described probe carries. */
export function describeProbe(plaintext: Uint8Array, session: number, pn: number): PmtuProbe {
  return {
    type: 'pmtu_probe',
    session,
    packet: pn,
    padding: plaintext.subarray(PMTU_PROBE_OVERHEAD_BYTES),
  };
}
