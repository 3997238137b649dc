// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// One session (PROTOCOL.md *Sessions*): its state and what each state acts on, connecting and
// answering requests, heartbeats on a fixed grid with liveness and probes, presence, reliable
// text (reliable.mjs), lingering and closing; with the peer's `streams` option, `features` and
// streams (streams.mjs).

import { RttEstimator, TextReceiver, TextSender } from './reliable.mjs';
import { StreamSession } from './streams.mjs';

export const ACTS_ON = {
  connecting: new Set(['accept', 'decline', 'disconnect']),
  requested: new Set(['connect_request', 'disconnect']),
  open: new Set(['connect_request', 'text', 'heartbeat', 'ack', 'presence', 'disconnect']),
  lingering: new Set(['text', 'heartbeat', 'ack', 'disconnect']),
  closing: new Set(['text', 'heartbeat', 'ack', 'disconnect', 'disconnect_ack']),
  draining: new Set(['connect_request']),
};

/** With streams (PROTOCOL.md *Capabilities*, *Streams*): what each state acts on besides. */
const STREAM_TYPES = ['stream_data', 'stream_credit', 'stream_reset', 'stream_stop', 'stream_limit', 'pmtu_probe'];
export const ACTS_ON_WITH_STREAMS = Object.fromEntries(
  Object.entries(ACTS_ON).map(([state, types]) => {
    const more = state === 'open' ? ['features', ...STREAM_TYPES] : state === 'connecting' || state === 'requested' ? ['features'] : [];
    return [state, new Set([...types, ...more])];
  }),
);

const CONNECT_FIRST_GAP_MS = 500;
const CONNECT_MAX_GAP_MS = 2000;
const EXPIRY_EXTRA_MS = 2000;
const DISCONNECT_ATTEMPTS = 4;
const LINGER_EXPIRIES = 16;
const PROBE_MIN_GAP_MS = 10;
const ACK_HOLD_MS = 5;

const utf8 = new TextEncoder();

export class Session {
  /**
   * `endpoint` is the peer: it sends session messages on a channel (`sendMessage`), owns the
   * timers and the event emitter, and forgets sessions (`forget`).
   */
  constructor(endpoint, { handle, wireId, channel, state, initiator, connectStartedAt }) {
    this.endpoint = endpoint;
    this.options = endpoint.options;
    this.handle = handle;
    this.wireId = wireId;
    this.channel = channel;
    this.state = state;
    this.initiator = initiator;
    this.pickedId = initiator; // our request made the session (a simultaneous open may change it)
    this.streams = endpoint.options.streams ? new StreamSession(this) : undefined;
    this.actsOn = this.streams ? ACTS_ON_WITH_STREAMS : ACTS_ON;
    this.connectStartedAt = connectStartedAt;
    this.peerNick = '';
    this.heartbeatMs = this.options.heartbeatMs;
    this.openedAt = undefined;
    this.lastHeard = endpoint.now();
    this.misses = 0;
    this.lastProbeAt = undefined;
    this.heartbeatsOutstanding = 0;
    this.lastHeartbeatAt = undefined;
    this.nextMessageId = 1;
    this.answer = undefined; // the accept or decline we answer repeated requests with
    this.disconnectSends = 0;
    this.stats = { protocolErrors: 0, presenceTaken: 0, heartbeatsSent: 0, acksSent: 0, probesSent: 0 };
    this.rtt = new RttEstimator(channel?.handshakeRtt);
    this.sender = new TextSender({
      rtt: this.rtt,
      send: (f) => this.send({ type: 'text', seq: f.seq, ...this.ackFields(), ...f }),
      setTimer: (at, fn) => this.timer('rto', at, fn),
      clearTimer: () => this.clearTimer('rto'),
      delivered: (messageId) => this.emit('delivered', { messageId }),
    });
    this.receiver = new TextReceiver({
      maxMessageBytes: this.options.maxMessageBytes,
      deliver: (text) => this.emit('message', { text }),
      protocolError: (why) => {
        this.stats.protocolErrors++;
        this.emit('protocol_error', { why });
      },
    });
  }

  now() {
    return this.endpoint.now();
  }

  emit(type, fields = {}) {
    this.endpoint.emitEvent({ type, session: this.handle, peer: this.channel?.address, ...fields });
  }

  timer(name, at, fn) {
    this.endpoint.timers.set(`s${this.handle}:${name}`, at, fn);
  }

  clearTimer(name) {
    this.endpoint.timers.clear(`s${this.handle}:${name}`);
  }

  send(message) {
    if (message.type === 'text' || message.type === 'heartbeat' || message.type === 'ack') {
      this.clearTimer('ack'); // it carries our acknowledgement
    }
    this.endpoint.sendMessage(this.channel, { session: this.wireId, ...message });
  }

  ackFields() {
    return this.receiver.fields(this.now());
  }

  // ---- connecting and answering ----------------------------------------------------------------

  /** Initiator: the channel is open; send the request on the schedule until the timeout. */
  startRequest() {
    const now = this.now();
    let gap = CONNECT_FIRST_GAP_MS;
    const sendRequest = (t) => {
      if (this.state !== 'connecting') return;
      this.streams?.sendFeatures(); // right before each request
      this.send({ type: 'connect_request', heartbeatMs: this.options.heartbeatMs, nick: this.endpoint.nick });
      this.timer('request', t + gap, sendRequest);
      gap = Math.min(CONNECT_MAX_GAP_MS, gap * 2);
    };
    sendRequest(now);
    this.armConnectTimeout();
  }

  armConnectTimeout() {
    this.timer('connect-timeout', this.connectStartedAt + this.options.connectTimeoutMs, () => {
      if (this.state !== 'connecting') return;
      if (this.channel && !this.channel.closed) this.send({ type: 'disconnect' }); // withdraw it
      this.emit('no_answer');
      this.forget();
    });
  }

  /** Responder: a new request, waiting for the person. */
  requested(message) {
    this.peerNick = message.nick;
    this.requestedHeartbeatMs = message.heartbeatMs;
    this.refreshExpiry();
  }

  refreshExpiry() {
    this.timer('expire', this.now() + this.options.connectTimeoutMs + EXPIRY_EXTRA_MS, () => {
      if (this.state !== 'requested') return;
      this.emit('request_expired');
      this.forget();
    });
  }

  accept() {
    if (this.state !== 'requested') throw new Error(`accept: session is ${this.state}`);
    this.clearTimer('expire');
    this.heartbeatMs = Math.min(this.requestedHeartbeatMs, this.options.heartbeatMs);
    this.answer = { type: 'accept', heartbeatMs: this.heartbeatMs, nick: this.endpoint.nick };
    this.sendAnswer();
    this.open();
  }

  /** Our accept (with our `features` right before it) or decline, again for a repeated request. */
  sendAnswer() {
    if (this.answer.type === 'accept') this.streams?.sendFeatures();
    this.send(this.answer);
  }

  decline(reason = 'declined', detail = '') {
    if (this.state !== 'requested') throw new Error(`decline: session is ${this.state}`);
    this.clearTimer('expire');
    this.answer = { type: 'decline', reason, detail };
    this.send(this.answer);
    this.state = 'draining';
    this.timer('drain', this.now() + this.options.connectTimeoutMs, () => this.forget());
  }

  open() {
    const now = this.now();
    this.state = 'open';
    this.openedAt = now;
    this.clearTimer('request');
    this.clearTimer('connect-timeout');
    this.heard(now);
    this.scheduleHeartbeat(now + this.heartbeatMs);
    this.streams?.onOpen();
  }

  // ---- receiving ---------------------------------------------------------------------------------

  /** A valid message of this session; returns false if the state does not act on it. */
  receive(m) {
    if (!this.actsOn[this.state]?.has(m.type)) return false;
    const now = this.now();
    this.heard(now);
    switch (m.type) {
      case 'accept':
        this.heartbeatMs = Math.min(m.heartbeatMs, this.options.heartbeatMs);
        this.peerNick = m.nick;
        this.open();
        this.emit('accepted', { nick: m.nick });
        break;
      case 'decline':
        this.emit('declined', { reason: m.reason, detail: m.detail });
        this.forget();
        break;
      case 'connect_request':
        if (this.state === 'requested') this.refreshExpiry();
        else if (this.answer) this.sendAnswer(); // open: accept again; draining: the same decline
        break;
      case 'disconnect':
        this.endpoint.sendMessage(this.channel, { type: 'disconnect_ack', session: this.wireId });
        this.end('closed', 'peer_closed');
        break;
      case 'disconnect_ack':
        this.forget();
        break;
      case 'presence':
        this.onPresence(m, now);
        break;
      case 'heartbeat':
        this.onAckFields(m, now, false);
        this.send({ type: 'ack', ...this.ackFields() }); // answered at once
        this.stats.acksSent++;
        break;
      case 'ack':
        this.onAckFields(m, now, true);
        break;
      case 'text':
        this.onAckFields(m, now, false);
        this.onText(m, now);
        break;
      case 'features':
        this.streams.onFeatures(m);
        break;
      default:
        this.streams.onMessage(m); // a stream message, in open
    }
    return true;
  }

  onAckFields(m, now, standalone) {
    const inFlightBefore = this.sender.inFlight;
    const result = this.sender.onAck(m.ack, m.sack, m.ackDelay, now);
    if (standalone) {
      // The answer to a heartbeat: a sample when it was the only one outstanding, no text in
      // flight, and nothing new acknowledged.
      if (this.heartbeatsOutstanding === 1 && !inFlightBefore && !result.newlyAcked) {
        this.rtt.sample(now - this.lastHeartbeatAt, 0);
      }
      this.heartbeatsOutstanding = 0;
    }
    this.afterAck();
  }

  afterAck() {
    if (this.state === 'lingering' && this.sender.pending === 0) this.startClosing();
  }

  onText(m, now) {
    const takeNew = this.state === 'open';
    const when = this.receiver.receive(m, now, takeNew);
    if (when === 'now') this.sendAck();
    else if (when === 'later') {
      const at = this.endpoint.timers.at(`s${this.handle}:ack`);
      if (at === undefined) this.timer('ack', now + ACK_HOLD_MS, () => this.sendAck());
    }
  }

  sendAck() {
    this.send({ type: 'ack', ...this.ackFields() });
    this.stats.acksSent++;
  }

  onPresence(m, now) {
    this.presence ??= { tokens: 5, at: now };
    this.presence.tokens = Math.min(5, this.presence.tokens + (now - this.presence.at) / 1000);
    this.presence.at = now;
    if (this.presence.tokens < 1) return;
    this.presence.tokens -= 1;
    this.stats.presenceTaken++;
    this.peerNick = m.nick;
    this.emit('presence', { nick: m.nick, typing: m.activity === 'typing' });
  }

  // ---- heartbeats and liveness ---------------------------------------------------------------------

  scheduleHeartbeat(due) {
    this.timer('heartbeat', due, (now) => {
      this.sendHeartbeat(now);
      let next = due + this.heartbeatMs;
      if (next <= now) next = due + Math.ceil((now - due) / this.heartbeatMs) * this.heartbeatMs;
      if (next <= now) next += this.heartbeatMs;
      this.scheduleHeartbeat(next);
    });
  }

  sendHeartbeat(now) {
    this.heartbeatsOutstanding++;
    this.lastHeartbeatAt = now;
    this.stats.heartbeatsSent++;
    this.send({ type: 'heartbeat', ...this.ackFields() });
  }

  /** Something of the session was heard: the miss count starts again. */
  heard(now) {
    this.lastHeard = now;
    this.misses = 0;
    this.lastProbeAt = undefined;
    if (this.state === 'open' || this.state === 'lingering' || this.state === 'closing') this.armLiveness();
  }

  armLiveness() {
    const I = this.heartbeatMs;
    const M = I / 2;
    const lostAt = this.lastHeard + this.options.missLimit * I + M;
    const nextMissAt = this.lastHeard + (this.misses + 1) * I + M;
    const probeAt =
      this.lastProbeAt === undefined ? Number.POSITIVE_INFINITY : this.lastProbeAt + Math.max(I / 8, PROBE_MIN_GAP_MS);
    const at = Math.min(lostAt, nextMissAt, probeAt);
    this.timer('liveness', at, (now) => this.onLiveness(now));
  }

  onLiveness(now) {
    const I = this.heartbeatMs;
    const M = I / 2;
    // The n-th interval is missed at n·I + M; the miss limit's one is reported, then the peer is lost.
    while (now >= this.lastHeard + (this.misses + 1) * I + M && this.misses < this.options.missLimit) {
      this.misses++;
      this.emit('heartbeat_missed', { count: this.misses });
      if (this.misses === 1 && this.misses < this.options.missLimit) {
        this.lastProbeAt = now;
        this.stats.probesSent++;
        this.sendHeartbeat(now);
      }
    }
    if (now >= this.lastHeard + this.options.missLimit * I + M) {
      this.emit('lost', { missed: this.misses });
      this.end('lost', 'lost');
      return;
    }
    if (this.lastProbeAt !== undefined && now >= this.lastProbeAt + Math.max(I / 8, PROBE_MIN_GAP_MS)) {
      this.lastProbeAt = now;
      this.stats.probesSent++;
      this.sendHeartbeat(now);
    }
    this.armLiveness();
  }

  // ---- sending ---------------------------------------------------------------------------------------

  sendText(text) {
    if (this.state !== 'open') throw new Error(`send: session is ${this.state}`);
    const bytes = utf8.encode(text);
    if (bytes.length < 1 || bytes.length > this.options.maxMessageBytes) throw new RangeError('send: bad length');
    const messageId = this.nextMessageId++;
    this.sender.enqueue(bytes, messageId, this.now());
    return messageId;
  }

  sendPresence(typing) {
    if (this.state !== 'open') return false;
    this.send({ type: 'presence', activity: typing ? 'typing' : 'idle', nick: this.endpoint.nick });
    return true;
  }

  // ---- closing -----------------------------------------------------------------------------------

  close({ linger = true } = {}) {
    if (this.state === 'open') {
      if (this.endpoint.timers.has(`s${this.handle}:ack`)) this.sendAck(); // what we hold back first
      this.state = 'lingering';
      this.streams?.end(); // the session left open: its streams end
      this.lingerChecks();
      if (typeof linger === 'number') this.timer('linger-limit', this.now() + linger, () => this.endLinger());
      if (linger === false) this.endLinger();
      else this.afterAck();
      return;
    }
    if (this.state === 'lingering') {
      if (linger === false) this.endLinger();
      return;
    }
    if (this.state === 'connecting' || this.state === 'requested') {
      this.send({ type: 'disconnect' });
      this.forget();
    }
  }

  /** Ends the linger when the sender expired 16 times in a row with no progress. */
  lingerChecks() {
    const check = (now) => {
      if (this.state !== 'lingering') return;
      if (this.sender.expiriesInRow >= LINGER_EXPIRIES) {
        this.endLinger();
        return;
      }
      this.timer('linger-check', now + 50, check);
    };
    this.timer('linger-check', this.now() + 50, check);
  }

  endLinger() {
    if (this.state !== 'lingering') return;
    for (const messageId of this.sender.takeUndelivered()) this.emit('failed', { messageId, reason: 'closed' });
    this.startClosing();
  }

  startClosing() {
    this.clearTimer('linger-check');
    this.clearTimer('linger-limit');
    this.state = 'closing';
    const sendDisconnect = (now) => {
      if (this.state !== 'closing') return;
      if (this.disconnectSends >= DISCONNECT_ATTEMPTS) {
        this.forget();
        return;
      }
      this.disconnectSends++;
      this.send({ type: 'disconnect' });
      this.timer('disconnect', now + this.rtt.rto(), sendDisconnect);
    };
    sendDisconnect(this.now());
  }

  /** The session ends for `why`; what was not delivered fails with `reason`. */
  end(type, reason) {
    for (const messageId of this.sender.takeUndelivered()) this.emit('failed', { messageId, reason });
    if (type === 'closed') this.emit('closed', { reason });
    this.forget();
  }

  forget() {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.sender.takeUndelivered();
    this.streams?.end();
    this.endpoint.timers.clearPrefix(`s${this.handle}:`);
    this.endpoint.forget(this);
  }
}
