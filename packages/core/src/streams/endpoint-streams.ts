/**
 * The endpoint's streams and paths, behind the few calls endpoint.ts makes: the application's
 * stream calls (checked here: the session is open, both peers take streams), the paths of the
 * channels (one per channel, kept in the channel's record, made at the first stream), their
 * deadlines (loss timers, held-back acknowledgements, the pacer's next release: one heap), the
 * acknowledgements that arrive for a path, and the rate caps a relay's budget sets.
 */
import { type Address, formatAddress } from '../address.js';
import { DeadlineQueue } from '../deadline-queue.js';
import { errors } from '../errors.js';
import type { SessionId, StreamId } from '../events.js';
import type { EndpointOptions } from '../options.js';
import { Path } from '../path/path.js';
import type { PathHost } from '../path/path-ports.js';
import type { Route, Session } from '../session/session.js';
import { streamsOf } from '../session/stream-handlers.js';
import type { ChannelRecord } from '../session-table.js';
import type { Features, StreamAck } from '../wire/messages.js';
import type { OpenStreamOptions, StreamInfo, StreamSet } from './stream-set.js';

/** What the stream calls need from the endpoint. */
export interface StreamsHost extends PathHost {
  readonly options: EndpointOptions;
  /** Name every stream_data in its Transmit (tests). */
  readonly describePackets: boolean;
  readonly randomU32: () => number;
  /** The session with this id (throws NO_SUCH_SESSION). */
  session(id: SessionId): Session;
  /** The record of the channel with this id, while sessions use it. */
  channelRecord(channelId: number): ChannelRecord | undefined;
}

/** What one path is doing, for tests, benchmarks and status lines. */
export interface PathInfo {
  readonly address: Address;
  /** The congestion window and the bytes in flight (stream packets only). */
  readonly window: number;
  readonly bytesInFlight: number;
  /** Smoothed round trip of the stream packets (ms), once measured. */
  readonly rtt: number | undefined;
  /** The pacing rate (bytes/s), once known; a rate cap included. */
  readonly pacingRate: number | undefined;
  readonly rateLimit: number | undefined;
  readonly dataPackets: number;
  readonly lostPackets: number;
  readonly acksSent: number;
  /** The largest datagram the path is proven to carry (1200 until a probe of more is acknowledged). */
  readonly datagramSize: number;
  /** Times the sender stopped with data waiting: the window full, the pacer empty. */
  readonly windowStops: number;
  readonly pacerStops: number;
}

/** `features` held for requests that have not arrived yet (each is just behind its features). */
export const MAX_HELD_FEATURES = 64;

export class EndpointStreams {
  private readonly deadlines = new DeadlineQueue<Path>((path) => path.scheduledAt);
  /** Every live path (a channel with sessions that used streams), to apply rate caps by address. */
  private readonly paths = new Set<Path>();
  private readonly rateLimits = new Map<string, number>();
  /** By `channel id/session id`, oldest first. */
  private readonly heldFeatures = new Map<string, Features>();

  constructor(private readonly host: StreamsHost) {}

  // ---- the application's calls ----------------------------------------------------------------

  open(id: SessionId, options: OpenStreamOptions): StreamId {
    return this.usable(id, true).open(options);
  }

  write(id: SessionId, stream: StreamId, bytes: Uint8Array, now: number): number {
    const streams = this.usable(id, false);
    const accepted = streams.write(stream, bytes, now);
    this.settle(streams.path);
    return accepted;
  }

  finish(id: SessionId, stream: StreamId, now: number): void {
    const streams = this.usable(id, false);
    streams.finish(stream, now);
    this.settle(streams.path);
  }

  read(id: SessionId, stream: StreamId, max: number, now: number): Uint8Array {
    const streams = this.usable(id, false);
    const bytes = streams.read(stream, max, now);
    this.settle(streams.path);
    return bytes;
  }

  readInto(id: SessionId, stream: StreamId, into: Uint8Array, at: number, max: number, now: number): number {
    const streams = this.usable(id, false);
    const copied = streams.readInto(stream, into, at, max, now);
    this.settle(streams.path);
    return copied;
  }

  cancel(id: SessionId, stream: StreamId, code: number, now: number): void {
    if (!Number.isInteger(code) || code < 0 || code > 0xffff)
      throw errors.invalidArgument('cancel code', `${code} is not an integer from 0 to 65535`);
    const streams = this.usable(id, false);
    streams.cancel(stream, code, now);
    this.settle(streams.path);
  }

  info(id: SessionId, stream: StreamId): StreamInfo | undefined {
    return this.host.session(id).streams?.info(stream);
  }

  /**
   * Caps what goes to `address` at `bytesPerSecond` (every datagram of its channel: text, acks,
   * stream data); undefined lifts the cap. A relay's per-pair budget is such a cap.
   */
  setRateLimit(address: Address, bytesPerSecond: number | undefined): void {
    if (bytesPerSecond !== undefined && !(Number.isFinite(bytesPerSecond) && bytesPerSecond > 0))
      throw errors.invalidArgument(
        'rate limit',
        `${bytesPerSecond} is not a positive number of bytes per second`,
      );
    const key = formatAddress(address);
    if (bytesPerSecond === undefined) this.rateLimits.delete(key);
    else this.rateLimits.set(key, bytesPerSecond);
    for (const path of this.paths) if (formatAddress(path.route.address) === key) this.applyCap(path);
  }

  /** What the path to `address` is doing, if there is one. */
  pathInfo(address: Address): PathInfo | undefined {
    const key = formatAddress(address);
    for (const path of this.paths) {
      if (formatAddress(path.route.address) !== key) continue;
      const window = path.controller.window();
      return {
        address: path.route.address,
        window,
        bytesInFlight: path.loss.bytesInFlight,
        rtt: path.rtt.srtt,
        pacingRate: path.pacer.rate(window, path.rtt.srtt, path.controller.pacingRate()),
        rateLimit: this.rateLimits.get(key),
        dataPackets: path.stats.dataPackets,
        lostPackets: path.stats.lostPackets,
        acksSent: path.stats.acksSent,
        datagramSize: path.pmtu.size,
        windowStops: path.stats.windowStops,
        pacerStops: path.stats.pacerStops,
      };
    }
    return undefined;
  }

  // ---- the endpoint's calls -----------------------------------------------------------------

  /** The path of `route`'s channel, made at the first need (sessions reach it through their context). */
  pathFor(route: Route): Path {
    const record = this.host.channelRecord(route.id);
    if (!record) throw new Error(`channel ${route.id} has no sessions: no path`);
    if (record.path) return record.path;
    const path = new Path(route, this.host, {
      describePackets: this.host.describePackets,
      controller: this.host.options.congestionController,
      randomU32: this.host.randomU32,
      ackDelay: this.host.options.ackDelay,
    });
    record.path = path;
    this.paths.add(path);
    path.addressSeen = route.address;
    this.applyCap(path);
    return path;
  }

  /**
   * A `features` for a session we do not have: the `connect_request` it goes before comes next.
   * Kept (the latest MAX_HELD_FEATURES) until then.
   */
  holdFeatures(channelId: number, features: Features): void {
    const key = `${channelId}/${features.session}`;
    this.heldFeatures.delete(key);
    this.heldFeatures.set(key, features);
    if (this.heldFeatures.size > MAX_HELD_FEATURES) {
      const oldest = this.heldFeatures.keys().next().value;
      if (oldest !== undefined) this.heldFeatures.delete(oldest);
    }
  }

  /** The `features` held for a request that just arrived, if any. */
  takeFeatures(channelId: number, session: number): Features | undefined {
    const key = `${channelId}/${session}`;
    const held = this.heldFeatures.get(key);
    if (held) this.heldFeatures.delete(key);
    return held;
  }

  /** A stream_ack on a channel: to the channel's path, whatever session it names. */
  onAck(channelId: number, ack: StreamAck, now: number): void {
    const path = this.host.channelRecord(channelId)?.path;
    if (!path) {
      this.host.protocolError('stream_ack on a channel that sent no stream packets');
      return;
    }
    path.onAck(ack, now);
    this.settle(path);
  }

  /** Whether any channel has a path (else text needs no look-up per datagram: onPrioritySent). */
  get hasPaths(): boolean {
    return this.paths.size > 0;
  }

  /** A session message went on a channel (text, heartbeat, …): it spends the path's pacer tokens too. */
  onPrioritySent(channelId: number, bytes: number): void {
    this.host.channelRecord(channelId)?.path?.onPrioritySent(bytes);
  }

  /** After anything touched a channel's sessions: the path's deadline may have moved. */
  settleChannel(record: ChannelRecord): void {
    if (record.path) this.settle(record.path);
  }

  /** The channel's record went away (no session left): its path goes with it. */
  retire(path: Path): void {
    path.retired = true;
    path.scheduledAt = undefined;
    this.paths.delete(path);
  }

  handleTimeout(now: number): void {
    const due = new Set(this.deadlines.takeDue(now));
    for (const path of due) path.scheduledAt = undefined;
    for (const path of due) {
      if (path.retired) continue;
      path.onTimeout(now);
      // A probe timeout: stream packets went unanswered, as text's retransmission timeout.
      if (path.loss.ptoCount > 0)
        for (const record of this.host.channelRecord(path.route.id)?.sessions.values() ?? [])
          if (record.session.state === 'open') record.session.liveness.onUnanswered(now);
      this.settle(path);
    }
  }

  nextTimeout(): number | undefined {
    return this.deadlines.peek();
  }

  // ---- internals ----------------------------------------------------------------------------

  /** The session's streams, if the application may use them now (else the error that says why). */
  private usable(id: SessionId, opening: boolean): StreamSet {
    if (!this.host.options.streams) throw errors.streamsDisabled();
    const session = this.host.session(id);
    if (session.state !== 'open') throw errors.sessionNotOpen(id, session.state);
    if (opening && !session.peerFeatures?.streams) throw errors.streamsUnsupported(id);
    const streams = streamsOf(session);
    if (!streams) throw errors.streamsDisabled();
    return streams;
  }

  /**
   * The secure layer moved the channel to a newly validated address (SecureSink.pathChanged): if
   * the peer is now at another host, its path starts over (Path.newPath, from `rtt`, the round
   * trip that proved the address) and sends at once what its new window allows.
   */
  channelMoved(channelId: number, now: number, rtt: number | undefined): void {
    const path = this.host.channelRecord(channelId)?.path;
    if (!path || path.retired) return;
    const seen = path.addressSeen;
    if (seen !== undefined && seen.host !== path.route.address.host) path.newPath(rtt, now);
    this.settle(path);
    path.pump(now);
    this.settle(path);
  }

  /** Files the path's deadline if it moved earlier (a later one is found when the earlier comes due). */
  private settle(path: Path): void {
    if (path.retired) return;
    if (path.route.address !== path.addressSeen) {
      // The channel moved (its peer roamed, or left the relay): the cap of the new address, and a
      // new size search.
      path.onAddressChanged();
      this.applyCap(path);
    }
    const at = path.deadline;
    const filed = path.scheduledAt;
    if (at === undefined || (filed !== undefined && filed <= at)) return;
    path.scheduledAt = at;
    this.deadlines.push(path, at);
  }

  private applyCap(path: Path): void {
    path.setRateLimit(this.rateLimits.get(formatAddress(path.route.address)));
  }
}
