// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// The peer: one UDP socket, the secure layer (secure.mjs), sessions (session.mjs) and, if asked,
// a rendezvous client (rendezvous.mjs), tied together by the endpoint's rules (PROTOCOL.md
// *Session messages*, *Messages for unknown sessions*, *Channels, restarts and limits*).
// Events are emitted as ('event', e) and (e.type, e), with e.session a local handle.

import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isRelayed, sameAddress } from './address.mjs';
import { decodeSessionMessage, encodeSessionMessage, PACKET, RENDEZVOUS_VERSION } from './codec.mjs';
import { fingerprintOf, x25519KeyPair } from './crypto.mjs';
import { FolderFiles, MemoryFiles } from './downloads.mjs';
import { Secure } from './secure.mjs';
import { Session } from './session.mjs';
import { Timers, VirtualTimers } from './timers.mjs';

const DEFAULTS = {
  nick: '',
  heartbeatMs: 25_000,
  missLimit: 3,
  connectTimeoutMs: 30_000,
  maxMessageBytes: 65_536,
  maxSessions: 1000,
  maxSessionsPerPeer: 4,
  demandCookies: false,
  rekeyAfterMs: 120_000,
  streams: false,
  streamWindow: 262_144,
  maxStreams: 8,
  files: false,
  largeDatagrams: false,
};
const KEPT_FEATURES = 64; // `features` ahead of their request, kept

const LIVE = new Set(['open', 'lingering', 'closing']);

export class IndependentPeer extends EventEmitter {
  /**
   * Options: port (0), host ('127.0.0.1'), staticSecret (32 bytes; random if absent), nick,
   * heartbeatMs, missLimit, connectTimeoutMs, maxSessions, maxSessionsPerPeer, demandCookies,
   * rekeyAfterMs, onRequest(event) -> 'accept' | { reason, detail } | undefined (ask later),
   * inbound(from) / outbound(to) -> false to drop a datagram (a firewall, for the relay tests);
   * streams (false: a text-only "old peer"), streamWindow, maxStreams (what we grant the peer);
   * largeDatagrams (with streams: take and send packets of up to 1452 bytes, *Datagram size*);
   * files (with streams: take and make file offers), onOffer(offer) -> 'accept' | a decline
   * reason | undefined (answer later with acceptOffer / declineOffer); downloadFolder (received
   * files go there, partial ones kept across sessions; else they are held in memory).
   */
  static async listen(options = {}) {
    const host = options.host ?? '127.0.0.1';
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port ?? 0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new IndependentPeer(socket, options);
  }

  /**
   * On a virtual network and clock (no socket, no real timer): `send(bytes, to)` takes what it
   * sends; the test calls `onDatagram(bytes, { address, port })` and `timers.advance(now)`.
   */
  static virtual(address, send, options = {}) {
    const socket = {
      address: () => ({ address: address.host, port: address.port }),
      send: (bytes, port, host) => send(bytes, { host, port }),
      on: () => undefined,
      close: (done) => done?.(),
    };
    return new IndependentPeer(socket, { ...options, timers: new VirtualTimers() });
  }

  constructor(socket, options) {
    super();
    this.socket = socket;
    this.options = { ...DEFAULTS, ...options };
    this.nick = this.options.nick;
    this.staticKey = x25519KeyPair(options.staticSecret ?? crypto.randomBytes(32));
    this.publicKey = this.staticKey.publicKey;
    this.fingerprint = fingerprintOf(this.publicKey);
    this.timers = options.timers ?? new Timers();
    this.timers.onError = (error) => this.internalError(error);
    this.stats = {
      datagramsIn: 0,
      datagramsOut: 0,
      droppedIn: 0,
      droppedOut: 0,
      malformedMessages: 0,
      featuresIgnored: 0,
      unknownSession: 0,
      ignoredForState: 0,
      declinedForLimits: 0,
      restartsSeen: 0,
      internalErrors: 0,
      streamAcksRefused: 0, // on a channel we sent no stream packet on, or naming packets never sent
    };
    this.errors = [];
    this.sessions = new Map(); // handle -> Session
    this.byWire = new Map(); // channel.localIndex:wireId -> Session
    this.waitingForChannel = new Map(); // initiation.localIndex -> [Session]
    this.earlyFeatures = new Map(); // channel.localIndex:wireId -> a `features` ahead of its request
    this.nextHandle = 1;
    this.rendezvous = undefined;
    // Files: where received ones go (a folder keeps partial files across sessions: a resume), and
    // our offers interrupted by a session's end, by peer key, made again when it opens another.
    this.fileStore = this.options.downloadFolder ? new FolderFiles(this.options.downloadFolder) : new MemoryFiles();
    this.unfinishedOffers = new Map();
    this.secure = new Secure({
      staticKey: this.staticKey,
      transmit: (bytes, to) => this.transmit(bytes, to),
      timers: this.timers,
      options: this.options,
      hooks: {
        channelOpened: (channel, initiation) => this.onChannelOpened(channel, initiation),
        payload: (channel, payload, from) => this.onPayload(channel, payload, from),
        channelMoved: (channel) => this.emitEvent({ type: 'channel_moved', peer: channel.address }),
      },
    });
    this.closed = false;
    socket.on('message', (data, rinfo) => this.onDatagram(new Uint8Array(data), rinfo));
    socket.on('error', (error) => this.internalError(error));
  }

  get address() {
    const a = this.socket.address();
    return { host: a.address, port: a.port };
  }

  now() {
    return this.timers.now();
  }

  internalError(error) {
    this.stats.internalErrors++;
    this.errors.push(error);
  }

  emitEvent(e) {
    this.emit('event', e);
    this.emit(e.type, e);
  }

  // ---- datagrams ---------------------------------------------------------------------------------

  transmit(bytes, to) {
    if (this.closed) return;
    if (isRelayed(to)) {
      this.rendezvous?.sendRelayed(bytes, to);
      return;
    }
    if (this.options.outbound && !this.options.outbound(to, bytes)) {
      this.stats.droppedOut++;
      return;
    }
    this.stats.datagramsOut++;
    this.socket.send(bytes, to.port, to.host);
  }

  onDatagram(data, rinfo) {
    const from = { host: rinfo.address, port: rinfo.port };
    if (this.options.inbound && !this.options.inbound(from, data)) {
      this.stats.droppedIn++;
      return;
    }
    this.stats.datagramsIn++;
    try {
      if (data.length >= 4 && data[3] === PACKET.relay && this.rendezvous) {
        const unwrapped = this.rendezvous.onRelay(data, from);
        if (unwrapped) this.secure.handle(unwrapped.inner, unwrapped.from, this.now());
        return;
      }
      this.secure.handle(data, from, this.now());
    } catch (error) {
      this.internalError(error);
    }
  }

  sendMessage(channel, message) {
    if (!channel || channel.closed) return;
    channel.send(encodeSessionMessage(message), this.now());
  }

  // ---- channels ----------------------------------------------------------------------------------

  onChannelOpened(channel, initiation) {
    const now = this.now();
    this.emit('channel_opened', channel);
    // A peer that restarted (PROTOCOL.md *Channels, restarts and limits*).
    const key = Buffer.from(channel.remoteStatic).toString('hex');
    for (const s of [...this.sessions.values()]) {
      if (!s.channel || s.channel === channel || s.peerKey !== key) continue;
      if (sameAddress(s.channel.address, channel.address)) {
        if (s.state === 'connecting' && s.initiator) continue;
        this.stats.restartsSeen++;
        s.end('closed', 'peer_restarted');
      } else if (s.state !== 'requested' && s.state !== 'connecting') {
        s.sendHeartbeat(now);
        const heardBefore = s.lastHeard;
        s.timer('restart-probe', now + 2 * s.rtt.rto(), () => {
          if (s.lastHeard === heardBefore) {
            s.emit('lost', { missed: 0 });
            s.end('lost', 'lost');
          }
        });
      }
    }
    if (!initiation) return;
    const waiting = this.waitingForChannel.get(initiation.localIndex) ?? [];
    this.waitingForChannel.delete(initiation.localIndex);
    for (const s of waiting) {
      if (s.state !== 'connecting') continue;
      s.channel = channel;
      s.peerKey = key;
      s.rtt.srtt ??= channel.handshakeRtt;
      if (s.rtt.rttvar === undefined) s.rtt.rttvar = channel.handshakeRtt / 2;
      this.byWire.set(`${channel.localIndex}:${s.wireId}`, s);
      s.startRequest();
    }
    // A handshake that started over keeps its sessions; ask again on the new keys.
    for (const s of this.sessions.values()) {
      if (s.channel === channel && s.state === 'connecting' && !waiting.includes(s)) s.startRequest();
    }
  }

  onPayload(channel, payload, from) {
    if (payload.length >= 3 && payload[0] === 0x4e && payload[1] === 0x43 && payload[2] === RENDEZVOUS_VERSION) {
      if (this.rendezvous) this.rendezvous.onMessage(channel, payload);
      else this.stats.malformedMessages++;
      return;
    }
    const m = decodeSessionMessage(payload, this.options.streams && this.options.largeDatagrams);
    // PROTOCOL.md *Capabilities*: without the `streams` option this peer is the "old peer" the
    // section describes: it acts on no `features`, sends none, and is taken to be text only; a
    // stream message, which no peer may send it, is a protocol error. `features` are counted apart
    // from malformed messages, so those stay a real alarm.
    if (m && !this.options.streams && m.type === 'features') {
      this.stats.featuresIgnored++;
      return;
    }
    if (!m || (!this.options.streams && (m.type.startsWith('stream_') || m.type === 'pmtu_probe'))) {
      this.stats.malformedMessages++;
      return;
    }
    this.emit('wire_message', { channel, message: m, from });
    if (this.options.dropMessage?.(m, from)) return; // a test that plays deaf to some messages
    if (m.type === 'stream_ack') {
      // The path's, whichever session it names (PROTOCOL.md *Packets and acknowledgements*).
      if (!channel.streamPath?.onAck(m)) this.stats.streamAcksRefused++;
      return;
    }
    const session = this.byWire.get(`${channel.localIndex}:${m.session}`);
    if (session) {
      if (!session.receive(m)) this.stats.ignoredForState++;
      return;
    }
    if (m.type === 'features') {
      // The requester's, ahead of its request: kept for the session the request makes.
      const key = `${channel.localIndex}:${m.session}`;
      this.earlyFeatures.delete(key);
      this.earlyFeatures.set(key, m);
      if (this.earlyFeatures.size > KEPT_FEATURES) this.earlyFeatures.delete(this.earlyFeatures.keys().next().value);
      return;
    }
    this.unknownSession(channel, m, from);
  }

  /** PROTOCOL.md *Messages for unknown sessions*; answers go over the channel it came on. */
  unknownSession(channel, m) {
    switch (m.type) {
      case 'connect_request':
        this.newRequest(channel, m);
        return;
      case 'disconnect':
        this.stats.unknownSession++;
        this.sendMessage(channel, { type: 'disconnect_ack', session: m.session });
        return;
      case 'accept':
      case 'text':
      case 'heartbeat':
        this.stats.unknownSession++;
        this.sendMessage(channel, { type: 'disconnect', session: m.session });
        return;
      default:
        this.stats.unknownSession++;
    }
  }

  newRequest(channel, m) {
    const key = Buffer.from(channel.remoteStatic).toString('hex');
    // Simultaneous open: we are connecting to the same address with another id.
    for (const s of this.sessions.values()) {
      if (s.state !== 'connecting' || !s.channel || !sameAddress(s.channel.address, channel.address)) continue;
      if (m.session <= s.wireId) return; // the other side adopts ours (or, equal, both time out)
      this.byWire.delete(`${s.channel.localIndex}:${s.wireId}`);
      s.wireId = m.session;
      s.pickedId = false; // the other side's id won
      s.channel = channel;
      s.peerKey = key;
      this.byWire.set(`${channel.localIndex}:${s.wireId}`, s);
      s.peerNick = m.nick;
      s.heartbeatMs = Math.min(m.heartbeatMs, this.options.heartbeatMs);
      s.answer = { type: 'accept', heartbeatMs: s.heartbeatMs, nick: this.nick };
      this.takeEarlyFeatures(s);
      s.sendAnswer();
      s.open();
      s.emit('accepted', { nick: m.nick, simultaneous: true });
      return;
    }
    const counted = [...this.sessions.values()].filter((s) => s.state !== 'draining');
    const withPeer = counted.filter((s) => s.channel && sameAddress(s.channel.address, channel.address));
    if (counted.length >= this.options.maxSessions || withPeer.length >= this.options.maxSessionsPerPeer) {
      this.stats.declinedForLimits++;
      this.sendMessage(channel, { type: 'decline', session: m.session, reason: 'too_many_sessions', detail: '' });
      return;
    }
    const session = this.addSession({ wireId: m.session, channel, state: 'requested', initiator: false });
    session.peerKey = key;
    this.takeEarlyFeatures(session);
    session.requested(m);
    const event = {
      type: 'request',
      session: session.handle,
      peer: channel.address,
      nick: m.nick,
      publicKey: key,
      fingerprint: fingerprintOf(channel.remoteStatic),
    };
    this.emitEvent(event);
    const verdict = this.options.onRequest?.(event);
    if (verdict === 'accept') this.accept(session.handle);
    else if (verdict && typeof verdict === 'object') this.decline(session.handle, verdict.reason, verdict.detail);
  }

  takeEarlyFeatures(session) {
    const key = `${session.channel.localIndex}:${session.wireId}`;
    const m = this.earlyFeatures.get(key);
    this.earlyFeatures.delete(key);
    if (m && session.streams) session.streams.onFeatures(m);
  }

  addSession({ wireId, channel, state, initiator, connectStartedAt }) {
    const session = new Session(this, {
      handle: this.nextHandle++,
      wireId,
      channel,
      state,
      initiator,
      connectStartedAt,
    });
    this.sessions.set(session.handle, session);
    if (channel) this.byWire.set(`${channel.localIndex}:${wireId}`, session);
    return session;
  }

  forget(session) {
    this.sessions.delete(session.handle);
    if (session.channel && this.byWire.get(`${session.channel.localIndex}:${session.wireId}`) === session) {
      this.byWire.delete(`${session.channel.localIndex}:${session.wireId}`);
    }
  }

  // ---- the application's calls -------------------------------------------------------------------

  /** Asks `host` `port` to chat; returns the session's handle. `wireId` may fix the session id (tests). */
  connect(host, port, { rendezvousRole = false, wireId: fixedId } = {}) {
    const address = { host, port };
    // A request from that address waits: accept it instead.
    for (const s of this.sessions.values()) {
      if (s.state === 'requested' && s.channel && sameAddress(s.channel.address, address)) {
        this.accept(s.handle);
        return s.handle;
      }
    }
    const wireId = fixedId ?? crypto.randomBytes(4).readUInt32BE(0);
    const request = (channel, connectStartedAt) => {
      const session = this.addSession({ wireId, channel, state: 'connecting', initiator: true, connectStartedAt });
      session.rendezvousRole = rendezvousRole;
      return session;
    };
    // One channel per peer address: reuse one with a live session on it, or a handshake under way.
    for (const s of this.sessions.values()) {
      if (!s.channel || s.channel.closed || !sameAddress(s.channel.address, address)) continue;
      if (s.state !== 'open' && s.state !== 'lingering') continue;
      const session = request(s.channel, this.now());
      session.peerKey = s.peerKey;
      session.startRequest();
      return session.handle;
    }
    for (const [index, waiting] of this.waitingForChannel) {
      const initiation = this.secure.initiations.get(index);
      if (initiation && sameAddress(initiation.address, address)) {
        const session = request(undefined, initiation.startedAt);
        session.armConnectTimeout();
        waiting.push(session);
        return session.handle;
      }
    }
    const initiation = this.secure.connect(address, this.options.connectTimeoutMs);
    const session = request(undefined, initiation.startedAt);
    session.initiation = initiation;
    session.armConnectTimeout();
    this.waitingForChannel.set(initiation.localIndex, [session]);
    return session.handle;
  }

  accept(handle) {
    this.need(handle).accept();
  }

  decline(handle, reason = 'declined', detail = '') {
    this.need(handle).decline(reason, detail);
  }

  send(handle, text) {
    return this.need(handle).sendText(text);
  }

  // ---- streams (with the `streams` option; PROTOCOL.md *Streams*) ----------------------------

  /** Opens a stream to the peer of an open session that takes streams; returns its id. */
  openStream(handle) {
    return this.streamsOf(handle).open();
  }

  /** Holds `bytes` to send on our stream (all of them: the peer's credit bounds what goes). */
  writeStream(handle, stream, bytes) {
    return this.streamsOf(handle).write(stream, bytes);
  }

  finishStream(handle, stream) {
    this.streamsOf(handle).finish(stream);
  }

  /** Up to `max` bytes of the peer's stream, in order; credit goes back as they are read. */
  readStream(handle, stream, max) {
    return this.streamsOf(handle).read(stream, max);
  }

  /** Resets our stream, or asks the peer to stop its stream. */
  cancelStream(handle, stream, code = 0) {
    this.streamsOf(handle).cancel(stream, code);
  }

  // ---- files (with the `files` option; PROTOCOL.md *Files: transfers*) --------------------------

  /** Offers files held in memory ([{ path, content }]); returns the offer's id (hex). */
  offerFiles(handle, files) {
    const streams = this.streamsOf(handle);
    if (!streams.filesEnabled) throw new Error('files: the session does not take files');
    return streams.files.offer(files);
  }

  acceptOffer(handle, offer) {
    this.streamsOf(handle).files.acceptOffer(offer);
  }

  declineOffer(handle, offer, reason) {
    this.streamsOf(handle).files.declineOffer(offer, reason);
  }

  streamsOf(handle) {
    const s = this.need(handle);
    if (!s.streams) throw new Error('streams: the option is off');
    return s.streams;
  }

  closeSession(handle, options) {
    this.sessions.get(handle)?.close(options);
  }

  setNick(nick) {
    this.nick = nick;
    for (const s of this.sessions.values()) if (s.state === 'open' && !s.rendezvousRole) s.sendPresence(false);
  }

  setTyping(handle, typing) {
    return this.need(handle).sendPresence(typing);
  }

  session(handle) {
    return this.sessions.get(handle);
  }

  need(handle) {
    const s = this.sessions.get(handle);
    if (!s) throw new Error(`no session ${handle}`);
    return s;
  }

  /**
   * Moves to a new UDP port (as a NAT that rebinds, or a laptop on another network): a new
   * socket; the old one is closed. Channels keep their keys; the peer sees a new address.
   */
  async rebind() {
    const host = this.socket.address().address;
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise((resolve) => socket.bind(0, host, resolve));
    const old = this.socket;
    this.socket = socket;
    socket.on('message', (data, rinfo) => this.onDatagram(new Uint8Array(data), rinfo));
    socket.on('error', (error) => this.internalError(error));
    await new Promise((resolve) => old.close(resolve));
  }

  /** Moves the sending side of every channel to the next key epoch now. */
  rekeyAll() {
    for (const c of this.secure.channels.values()) c.rekeyNow(this.now());
  }

  /** Live sessions (open, lingering, closing), for tests. */
  liveSessions() {
    return [...this.sessions.values()].filter((s) => LIVE.has(s.state));
  }

  /**
   * Stops at once, as a process that is killed would: no disconnect, the socket closed. With
   * `graceful`, closes every live session first and waits (bounded) for them to end.
   */
  async stop({ graceful = false, timeoutMs = 5000 } = {}) {
    if (this.closed) return;
    if (graceful) {
      for (const s of [...this.sessions.values()]) s.close();
      const until = this.now() + timeoutMs;
      while (this.sessions.size > 0 && this.now() < until) await new Promise((r) => setTimeout(r, 20));
    }
    this.closed = true;
    this.timers.stop();
    this.rendezvous?.stop();
    await new Promise((resolve) => this.socket.close(resolve));
  }
}
