/**
 * A path: everything sent to one peer address, over one channel, by all its sessions and streams
 * (PROTOCOL.md, Congestion control and pacing; Streams). It owns the stream packet-number space of
 * the channel in both directions: sending (one loss detection, one congestion controller, one
 * pacer, the record of what each packet carried) and receiving (which packets arrived, and their
 * acknowledgements).
 *
 * Theory of operation. Sessions with streams to send are `active`; `pump` takes one packet from
 * each in turn (round robin: fair between sessions, and each session is fair between its
 * streams), as long as the congestion window has room and the pacer
 * allows, and stops with a wake-up time when the pacer says wait (`deadline`). Control messages
 * (credit, reset, stop, limit) and acknowledgements never wait: they go at once, like text, which
 * is not in this space at all (chat first: it never waits for the window or the pacer, and the
 * endpoint sends it before any stream data queued with it).
 *
 * No fixed reserve of the window is held back from bulk data for chat (toxcore's MIN_SLOTS_FREE):
 * measured, a window that bulk never fills shrank by the reserve every round of loss under BBR's
 * packet conservation (1 % loss: 100 → 5 Mbit/s), and kept BBR's loss bound from ever growing
 * back (two flows on 1 Gbit/s stuck at 555/375). Chat does not need it: it is outside the window. A
 * probe timeout sends two packets whatever the window. Acknowledgements and losses reach the
 * session that sent the packet (SentFrames), which moves its streams on.
 *
 * Datagram size (pmtu.ts): stream data fills datagrams of the size the path is proven to carry,
 * 1200 bytes until a probe of a larger size (up to 1452) is acknowledged, on a direct path to a
 * peer that takes large datagrams. Probes take their turn before data, within the window and at
 * the pacer's times like data; what a probe timeout sends is cut to 1200 bytes (pmtu.ts says why).
 */

import type { CongestionController } from '../congestion/controller.js';
import { type ControllerChoice, createController } from '../congestion/controllers.js';
import { LossDetection } from '../congestion/loss-detection.js';
import { Pacer } from '../congestion/pacer.js';
import { RELAY_HOST } from '../rendezvous/relay.js';
import { RttEstimator } from '../session/rtt-estimator.js';
import type { ByteRing } from '../streams/byte-ring.js';
import {
  ackDelayFromWire,
  type Datagram,
  encodeDatagram,
  PACKET_OVERHEAD_BYTES,
  type StreamAck,
} from '../wire/messages.js';
import {
  ackRangeCount,
  MAX_STREAM_PAYLOAD_BYTES,
  STREAM_DATA_OVERHEAD_BYTES,
} from '../wire/stream-messages.js';
import { AckTracker, MAX_RANGES } from './ack-tracker.js';
import { settleResolved } from './packet-fates.js';
import { describeProbe, describeStreamData, writeProbe, writeStreamData } from './packet-writer.js';
import type { PathHost, PathOptions, PathUser, Route } from './path-ports.js';
import { BASE_PLPMTU, PmtuSearch } from './pmtu.js';
import { CONTROL, DATA, type FrameOwner, PROBE, SentFrames } from './sent-frames.js';

/**
 * A path starts over (`newPath`) at most this often. Each start costs the transfer about half a
 * second of its rate (slow start, its overshoot); a peer flapping between two networks, or a
 * stranger who relays its packets from hosts of its own (RFC 9000 §9.3.3), could otherwise move
 * it every round trip and hold it there: 11% of the rate at a move every 100 ms.
 */
export const NEW_PATH_INTERVAL_MS = 10_000;

/** What a data packet of stream data adds to its payload (the message's header and the packet's). */
const DATA_PACKET_OVERHEAD = STREAM_DATA_OVERHEAD_BYTES + PACKET_OVERHEAD_BYTES;

export class Path {
  readonly rtt = new RttEstimator(1, 60_000);
  /** New when the peer moves to another host (`newPath`). */
  controller: CongestionController;
  readonly loss: LossDetection;
  readonly pacer = new Pacer();
  readonly acks: AckTracker;
  /** The largest datagram the path is proven to carry (RFC 8899's search). */
  readonly pmtu = new PmtuSearch();
  /** The endpoint's deadline queue files the path under this (it skips stale entries). */
  scheduledAt: number | undefined;
  /** The channel went away: the path is dropped with it. */
  retired = false;
  /** Counts for tests and benchmarks. */
  readonly stats = {
    dataPackets: 0,
    controlPackets: 0,
    acksSent: 0,
    probes: 0,
    lostPackets: 0,
    /** Times the sender stopped with data waiting: the window full, the pacer empty (diagnostics). */
    windowStops: 0,
    pacerStops: 0,
  };
  /** The address the path was last set up for (its rate cap, its datagram size): the channel may move. */
  addressSeen: Route['address'] | undefined;
  private readonly frames = new SentFrames();
  private readonly active: PathUser[] = [];
  private turn = 0;
  private pacerWake = Number.POSITIVE_INFINITY;
  private readonly ackRanges = new Float64Array(2 * MAX_RANGES);
  /** Inside an operation that pumps when it ends: an activation then only joins the round robin. */
  private busy = false;
  private readonly describePackets: boolean;
  private readonly controllerChoice: ControllerChoice;
  /** When `newPath` last started the path over (ms). */
  private startedOverAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly route: Route,
    private readonly host: PathHost,
    options: PathOptions,
  ) {
    if (route.handshakeRtt !== undefined) this.rtt.seed(route.handshakeRtt);
    this.controllerChoice = {
      ...(options.controller ? { kind: options.controller } : {}),
      ...(options.randomU32 ? { randomU32: options.randomU32 } : {}),
    };
    this.controller = createController(this.rtt, this.controllerChoice);
    this.loss = new LossDetection(this.rtt, this.controller);
    this.acks = new AckTracker(options.ackDelay);
    this.describePackets = options.describePackets ?? false;
  }

  /** When `onTimeout` has something to do: the loss timer, a held-back ack, the pacer's release. */
  get deadline(): number | undefined {
    const at = Math.min(this.loss.deadline ?? Number.POSITIVE_INFINITY, this.acks.deadline, this.pacerWake);
    return at === Number.POSITIVE_INFINITY ? undefined : at;
  }

  /** A session has stream data to send: it takes its turn in the round robin. */
  activate(user: PathUser, now: number): void {
    if (!this.active.includes(user)) {
      this.active.push(user);
      if (this.pmtu.state === 'disabled' && user.largeDatagrams && !this.relayed) this.pmtu.enable();
    }
    if (!this.busy) this.pump(now);
  }

  /**
   * The peer is now at another host (it moved; the chat went onto or off the relay): nothing
   * measured on the old path holds (RFC 9000 §9.4). Round trip (from `rtt`, the path challenge's)
   * and controller start over; what is in flight leaves the window (LossDetection.newPath). A
   * port change alone (a NAT that rebound) keeps everything: the path is the same, and so does
   * a move within NEW_PATH_INTERVAL_MS of the last start.
   */
  newPath(rtt: number | undefined, now: number): void {
    if (now - this.startedOverAt < NEW_PATH_INTERVAL_MS) return;
    this.startedOverAt = now;
    this.rtt.reset();
    if (rtt !== undefined) this.rtt.seed(rtt);
    this.controller = createController(this.rtt, this.controllerChoice);
    this.loss.newPath(this.controller);
  }

  /** The channel moved to another address: a new path as far as its size goes (RFC 8899 §4.3). */
  onAddressChanged(): void {
    this.addressSeen = this.route.address;
    this.pmtu.disable();
    // Off the relay onto a direct path mid-transfer: the search starts without waiting for a new activation.
    if (!this.relayed && this.active.some((user) => user.largeDatagrams)) this.pmtu.enable();
  }

  /** Through the rendezvous's relay, which carries packets of at most 1200 bytes. */
  private get relayed(): boolean {
    return this.route.address.host === RELAY_HOST;
  }

  /**
   * The largest datagram the path sends now: the proven size, but 1200 bytes through the relay.
   * The channel may have moved onto the relay (a late relayed packet from the peer) since the
   * path last settled its size (`onAddressChanged` runs after the operation): a packet built
   * larger would not fit in a relay packet.
   */
  private get datagramSize(): number {
    return this.relayed ? BASE_PLPMTU : this.pmtu.size;
  }

  /** The most stream bytes the next data packet may carry: the proven size, 1200 bytes for what a probe timeout sends. */
  get payloadLimit(): number {
    return this.loss.probesDue > 0 ? MAX_STREAM_PAYLOAD_BYTES : this.datagramSize - DATA_PACKET_OVERHEAD;
  }

  /** A session's streams ended: it leaves the round robin. */
  deactivate(user: PathUser): void {
    const i = this.active.indexOf(user);
    if (i < 0) return;
    this.active.splice(i, 1);
    if (this.turn > i) this.turn--;
  }

  /** Caps the rate (bytes/s) of everything this path sends (a relay's budget); undefined: no cap. */
  setRateLimit(bytesPerSecond: number | undefined): void {
    this.pacer.setMaxRate(bytesPerSecond);
  }

  // ---- sending ------------------------------------------------------------------------------

  /** Sends what the window, the reserve and the pacer allow, round robin over the active sessions. */
  pump(now: number): void {
    this.busy = true;
    try {
      this.fill(now);
    } finally {
      this.busy = false;
    }
  }

  private fill(now: number): void {
    const loss = this.loss;
    const pmtu = this.pmtu;
    while (this.active.length > 0) {
      if (loss.probesDue === 0) {
        const size = this.datagramSize;
        const window = this.controller.window();
        if (loss.bytesInFlight + size > window) {
          this.stats.windowStops++;
          return; // an ack wakes it
        }
        const at = this.pacer.nextSendTime(now, size, window, this.rtt.srtt, this.controller.pacingRate());
        if (at > now) {
          this.stats.pacerStops++;
          this.pacerWake = at;
          return;
        }
      }
      if (this.turn >= this.active.length) this.turn = 0;
      const user = this.active[this.turn] as PathUser;
      if (user.ended) {
        this.active.splice(this.turn, 1);
        continue;
      }
      // A probe goes in the data's place (it needs the window and the pacer as data does).
      const probe = loss.probesDue === 0 && !this.relayed ? pmtu.probeSize(now) : 0;
      if (probe > 0 && loss.bytesInFlight + probe <= this.controller.window()) {
        this.sendProbe(user, probe, now);
        continue;
      }
      if (!user.sendOne(now)) {
        this.active.splice(this.turn, 1);
        continue;
      }
      this.turn++;
    }
    this.pacerWake = Number.POSITIVE_INFINITY;
    // Out of data with room in the window: what goes from now on does not show what the path can carry.
    if (loss.bytesInFlight + pmtu.size <= this.controller.window()) loss.onApplicationLimited();
  }

  /** A PMTU probe of `size` bytes (the whole datagram), named as a message of `user`'s session. */
  private sendProbe(user: PathUser, size: number, now: number): void {
    const pn = this.loss.sent.next;
    const described = this.describePackets;
    const plaintext = writeProbe(described, user.wireId, pn, size - PACKET_OVERHEAD_BYTES);
    const message = described ? describeProbe(plaintext, user.wireId, pn) : undefined;
    this.record(pn, now, plaintext.length, PROBE, user, 0, 0, size, 0);
    this.pmtu.onProbeSent();
    this.host.send(this.route, message, plaintext, true);
  }

  /** One packet of stream bytes: `length` bytes of `source` (the stream's buffer) at `offset`. */
  sendData(
    owner: PathUser,
    session: number,
    stream: number,
    offset: number,
    length: number,
    fin: boolean,
    source: ByteRing,
    now: number,
  ): void {
    const pn = this.loss.sent.next;
    const described = this.describePackets;
    const plaintext = writeStreamData(described, session, pn, stream, offset, length, fin, source);
    const message = described ? describeStreamData(plaintext, session, pn, stream, offset, fin) : undefined;
    this.record(pn, now, plaintext.length, DATA, owner, stream, offset, length, fin ? 1 : 0);
    this.stats.dataPackets++;
    this.host.send(this.route, message, plaintext, true);
  }

  /** A control message (its `packet` is set here): ack-eliciting, never waits. */
  sendControl(
    owner: FrameOwner,
    message: Datagram & { packet: number; stream?: number },
    code: number,
    now: number,
  ): void {
    const pn = this.loss.sent.next;
    message.packet = pn;
    const plaintext = encodeDatagram(message);
    this.record(pn, now, plaintext.length, CONTROL, owner, message.stream ?? 0, 0, 0, code);
    this.stats.controlPackets++;
    this.host.send(this.route, message, plaintext, false);
  }

  private record(
    pn: number,
    now: number,
    plaintextBytes: number,
    kind: number,
    owner: FrameOwner,
    stream: number,
    offset: number,
    length: number,
    extra: number,
  ): void {
    const bytes = plaintextBytes + PACKET_OVERHEAD_BYTES;
    const loss = this.loss;
    this.frames.record(loss.sent.base, pn, kind, owner, stream, offset, length, extra);
    if (loss.probesDue > 0) this.stats.probes++;
    loss.onPacketSent(now, bytes, 0, true, true, kind === PROBE);
    this.pacer.onSent(bytes);
  }

  /** Text, heartbeats and the like went on this path's channel: they use the pacer's tokens too (a rate cap covers them). */
  onPrioritySent(bytes: number): void {
    this.pacer.onSent(bytes);
  }

  // ---- receiving ----------------------------------------------------------------------------

  /** The peer acknowledged packets. False if the acknowledgement is invalid (names packets never sent). */
  onAck(ack: StreamAck, now: number): boolean {
    const count = ackRangeCount(ack, this.ackRanges);
    if (count < 0) return false;
    const result = this.loss.onAckReceived(now, this.ackRanges, count, ackDelayFromWire(ack.ackDelay));
    if (result < 0) {
      this.host.protocolError('stream_ack names packets never sent');
      return false;
    }
    this.busy = true;
    try {
      this.settleResolved(now);
    } finally {
      this.busy = false;
    }
    this.pump(now);
    return true;
  }

  /**
   * A packet of our stream space arrived (`session`: its wire id) and was taken: it will be
   * acknowledged (at once, or within the ack delay).
   */
  onReceived(pn: number, session: number, now: number): void {
    if (this.acks.onReceived(pn, session, now) === true) this.sendAck(now);
  }

  onTimeout(now: number): void {
    const loss = this.loss;
    const deadline = loss.deadline;
    if (now >= this.pacerWake) {
      this.pacer.noteWakeLateness(now - this.pacerWake);
      this.pacerWake = Number.POSITIVE_INFINITY;
    }
    if (now >= this.acks.deadline) this.sendAck(now);
    if (deadline === undefined || now < deadline) {
      if (this.active.length > 0) this.pump(now);
      return;
    }
    this.busy = true;
    let what: string;
    try {
      what = loss.onTimeout(now);
      if (what === 'lost') this.settleResolved(now);
    } finally {
      this.busy = false;
    }
    this.pump(now);
    // A probe with nothing new to send carries the oldest data still unacknowledged (RFC 9002 §6.2.4).
    if (what === 'probe' && loss.probesDue > 0) {
      const sent = loss.sent;
      this.busy = true;
      try {
        const outstanding = (pn: number) => sent.isOutstanding(pn);
        let from = sent.base;
        for (let probe = 0; probe < loss.probesDue && from >= 0; probe++) {
          const pn = this.frames.resendOldest(from, sent.next, outstanding, now);
          from = pn < 0 ? -1 : pn + 1;
        }
      } finally {
        this.busy = false;
      }
      this.pump(now);
    }
  }

  /** The acknowledgement of what arrived goes now. */
  private sendAck(now: number): void {
    if (this.acks.count === 0) return;
    const message = this.acks.take(now);
    this.stats.acksSent++;
    const plaintext = encodeDatagram(message);
    this.pacer.onSent(plaintext.length + PACKET_OVERHEAD_BYTES);
    this.host.send(this.route, message, plaintext, false);
  }

  /** Tells the owners and the size search what the last acknowledgement or loss timeout resolved. */
  private settleResolved(now: number): void {
    this.stats.lostPackets += settleResolved(this.loss, this.frames, this.pmtu, now);
  }
}
