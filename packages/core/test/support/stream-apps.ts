/**
 * Applications that use streams, for tests on the virtual network: a writer that sends bytes
 * pull-driven (as much as a stream takes, the rest when `stream_writable` says there is room), and
 * a reader that reads whatever arrives (or, paused, nothing: a slow reader). They react to events
 * as they are collected (VirtualNetwork.onEvent), as an application's event handlers would.
 */
import type { Endpoint, EndpointOptionsInput, NetchatEvent, SessionId, StreamId } from '../../src/index.js';
import { type Node, type NodeEndpoint, openPair, VirtualNetwork } from './virtual-network.js';

type Handler = (node: Node<NodeEndpoint>, event: NetchatEvent) => void;

/** Lets several applications listen to the network's events. */
export function listen(net: VirtualNetwork, handler: Handler): void {
  const previous = net.onEvent;
  net.onEvent = (node, event) => {
    previous?.(node, event);
    handler(node, event);
  };
}

/** Two endpoints that take streams, with an open session (a asked, b accepted), and their features known. */
export function streamPair(options: EndpointOptionsInput = {}, seed = 1) {
  const net = new VirtualNetwork(seed);
  const pair = openPair(net, { streams: true, ...options });
  net.run(() => pair.a.endpoint.session(pair.sa)?.peerFeatures !== undefined, net.now + 5_000);
  net.run(() => pair.b.endpoint.session(pair.sb)?.peerFeatures !== undefined, net.now + 5_000);
  return { net, ...pair };
}

/** Reads every stream the peer opens on `node` as soon as bytes arrive (unless paused). */
export class StreamReader {
  readonly chunks = new Map<StreamId, Uint8Array[]>();
  readonly opened: StreamId[] = [];
  readonly finished = new Set<StreamId>();
  readonly cancelled = new Map<StreamId, NetchatEvent & { type: 'stream_cancelled' }>();
  /** Read at most this much per call. */
  maxRead = 64 * 1024;
  paused = false;
  bytesRead = 0;

  constructor(
    private readonly net: VirtualNetwork,
    private readonly node: Node,
    private readonly session: SessionId,
  ) {
    listen(net, (from, event) => {
      if (from !== node || event.session !== session) return;
      if (event.type === 'stream_opened') this.opened.push(event.stream);
      if (event.type === 'stream_readable' && !this.paused) this.drain(event.stream);
      if (event.type === 'stream_finished' && event.direction === 'receive') this.finished.add(event.stream);
      if (event.type === 'stream_cancelled' && event.direction === 'receive')
        this.cancelled.set(event.stream, event);
    });
  }

  private get endpoint(): Endpoint {
    return this.node.endpoint;
  }

  /** Reads everything readable now (`limit`: at most that much in all). */
  drain(stream: StreamId, limit = Number.POSITIVE_INFINITY): number {
    let total = 0;
    for (let i = 0; i < 100_000 && total < limit; i++) {
      if (this.finished.has(stream) || this.cancelled.has(stream)) break;
      if (!this.endpoint.streamInfo(this.session, stream)) break;
      const bytes = this.endpoint.readStream(
        this.session,
        stream,
        Math.min(this.maxRead, limit - total),
        this.net.now,
      );
      if (bytes.length === 0) break;
      total += bytes.length;
      this.bytesRead += bytes.length;
      const list = this.chunks.get(stream) ?? [];
      list.push(bytes);
      this.chunks.set(stream, list);
    }
    return total;
  }

  bytes(stream: StreamId): Uint8Array {
    return Buffer.concat(this.chunks.get(stream) ?? []);
  }
}

/** Writes `data` into a stream pull-driven, and finishes it (unless `finish` is false). */
export class StreamWriter {
  written = 0;
  finished = false;
  cancelled: (NetchatEvent & { type: 'stream_cancelled' }) | undefined;
  done = false;

  constructor(
    private readonly net: VirtualNetwork,
    private readonly node: Node,
    private readonly session: SessionId,
    readonly stream: StreamId,
    private readonly data: Uint8Array,
    private readonly finish = true,
  ) {
    listen(net, (from, event) => {
      if (from !== node || event.session !== session || !('stream' in event) || event.stream !== stream)
        return;
      if (event.type === 'stream_writable') this.pump();
      if (event.type === 'stream_finished' && event.direction === 'send') this.done = true;
      if (event.type === 'stream_cancelled') this.cancelled = event;
    });
    this.pump();
  }

  pump(): void {
    if (this.cancelled || this.finished) return;
    const endpoint = this.node.endpoint;
    if (this.written < this.data.length)
      this.written += endpoint.writeStream(
        this.session,
        this.stream,
        this.data.subarray(this.written),
        this.net.now,
      );
    if (this.written === this.data.length && this.finish && !this.finished) {
      this.finished = true;
      endpoint.finishStream(this.session, this.stream, this.net.now);
    }
  }
}

/** `length` bytes of a repeatable pattern (`seed` makes different streams differ). */
export function pattern(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}
