// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// Every layout of PROTOCOL.md: packets (*Packets*), session messages (*Session messages*),
// rendezvous messages (*Rendezvous messages*) and the relay packet (*Relay*). Decoders return
// undefined for anything malformed; encoders take the same objects the decoders give.

export const MAGIC0 = 0x4e;
export const MAGIC1 = 0x43;
export const PACKET_VERSION = 0x02;
export const SESSION_VERSION = 0x02;
export const RENDEZVOUS_VERSION = 0x10;
export const MAX_DATAGRAM = 1200;
export const MAX_RELAY_DATAGRAM = 1232;
export const MAX_SESSION_MESSAGE = 1168;
// *Datagram size*: a large `data` packet, and the session message it carries (`stream_data` or
// `pmtu_probe` only).
export const MAX_LARGE_DATAGRAM = 1452;
export const MAX_LARGE_MESSAGE = 1420;
export const MAX_TEXT_PAYLOAD = 1142;

export const PACKET = { init: 1, cookie: 2, response: 3, final: 4, data: 5, relay: 6 };

const utf8 = new TextEncoder();
// ignoreBOM: a leading U+FEFF is a character of the string (*Transport*), not a mark to drop.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const CONTROL = /\p{Cc}/u;

function header(type, version, length) {
  const out = new Uint8Array(length);
  out[0] = MAGIC0;
  out[1] = MAGIC1;
  out[2] = version;
  out[3] = type;
  return out;
}

function viewOf(bytes) {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---- packets ---------------------------------------------------------------------------------

export function encodePacket(p) {
  switch (p.type) {
    case 'handshake_init': {
      const out = header(PACKET.init, PACKET_VERSION, 108);
      viewOf(out).setUint32(4, p.senderIndex);
      out.set(p.cookie ?? new Uint8Array(16), 8);
      out.set(p.noise, 24);
      return out; // 52 bytes of zero padding follow message 1
    }
    case 'cookie_reply': {
      const out = header(PACKET.cookie, PACKET_VERSION, 24);
      viewOf(out).setUint32(4, p.receiverIndex);
      out.set(p.cookie, 8);
      return out;
    }
    case 'handshake_response': {
      const out = header(PACKET.response, PACKET_VERSION, 108);
      viewOf(out).setUint32(4, p.senderIndex);
      viewOf(out).setUint32(8, p.receiverIndex);
      out.set(p.noise, 12);
      return out;
    }
    case 'handshake_final': {
      const out = header(PACKET.final, PACKET_VERSION, 72);
      viewOf(out).setUint32(4, p.receiverIndex);
      out.set(p.noise, 8);
      return out;
    }
    case 'data': {
      const out = header(PACKET.data, PACKET_VERSION, 16 + p.ciphertext.length);
      viewOf(out).setUint32(4, p.receiverIndex);
      viewOf(out).setBigUint64(8, BigInt(p.counter));
      out.set(p.ciphertext, 16);
      return out;
    }
    case 'relay': {
      const out = header(PACKET.relay, PACKET_VERSION, 32 + p.inner.length);
      const v = viewOf(out);
      v.setUint32(4, p.from);
      v.setUint32(8, p.to);
      v.setUint32(12, p.counter);
      out.set(p.mac, 16);
      out.set(p.inner, 32);
      return out;
    }
    default:
      throw new TypeError(`encodePacket: unknown type ${p.type}`);
  }
}

/** A packet object, or undefined if malformed. */
export function decodePacket(bytes) {
  if (bytes.length < 4 || bytes[0] !== MAGIC0 || bytes[1] !== MAGIC1 || bytes[2] !== PACKET_VERSION) {
    return undefined;
  }
  const v = viewOf(bytes);
  const type = bytes[3];
  if (type === PACKET.relay) {
    if (bytes.length < 33 || bytes.length > MAX_RELAY_DATAGRAM) return undefined;
    const from = v.getUint32(4);
    const to = v.getUint32(8);
    if (from === 0 || to === 0) return undefined;
    return {
      type: 'relay',
      from,
      to,
      counter: v.getUint32(12),
      mac: bytes.slice(16, 32),
      inner: bytes.slice(32),
    };
  }
  // Only a `data` packet may be large; whether the receiver takes one is its session layer's call.
  if (bytes.length > (type === PACKET.data ? MAX_LARGE_DATAGRAM : MAX_DATAGRAM)) return undefined;
  switch (type) {
    case PACKET.init: {
      if (bytes.length !== 108) return undefined;
      const senderIndex = v.getUint32(4);
      if (senderIndex === 0) return undefined;
      return { type: 'handshake_init', senderIndex, cookie: bytes.slice(8, 24), noise: bytes.slice(24, 56) };
    }
    case PACKET.cookie:
      if (bytes.length !== 24) return undefined;
      return { type: 'cookie_reply', receiverIndex: v.getUint32(4), cookie: bytes.slice(8, 24) };
    case PACKET.response: {
      if (bytes.length !== 108) return undefined;
      const senderIndex = v.getUint32(4);
      if (senderIndex === 0) return undefined;
      return {
        type: 'handshake_response',
        senderIndex,
        receiverIndex: v.getUint32(8),
        noise: bytes.slice(12, 108),
      };
    }
    case PACKET.final:
      if (bytes.length !== 72) return undefined;
      return { type: 'handshake_final', receiverIndex: v.getUint32(4), noise: bytes.slice(8, 72) };
    case PACKET.data:
      if (bytes.length < 32) return undefined;
      // *Data packets*: a counter is below 2^53; a larger one makes the packet malformed.
      if (v.getBigUint64(8) >= 2n ** 53n) return undefined;
      return {
        type: 'data',
        receiverIndex: v.getUint32(4),
        counter: v.getBigUint64(8),
        ciphertext: bytes.slice(16),
      };
    default:
      return undefined;
  }
}

// ---- session messages ------------------------------------------------------------------------

const SESSION_CODES = {
  text: 1,
  heartbeat: 2,
  connect_request: 3,
  accept: 4,
  decline: 5,
  disconnect: 6,
  ack: 7,
  disconnect_ack: 8,
  presence: 9,
  features: 10,
  stream_data: 11,
  stream_ack: 12,
  stream_credit: 13,
  stream_reset: 14,
  stream_stop: 15,
  stream_limit: 16,
  pmtu_probe: 17,
};
const SESSION_TYPES = Object.fromEntries(Object.entries(SESSION_CODES).map(([k, v]) => [v, k]));
export const DECLINE_REASONS = ['declined', 'busy', 'not_allowed', 'too_many_sessions'];
export const ACTIVITIES = ['idle', 'typing'];

/** A writer that grows: u8/u16/u32, bytes, str8. */
class Writer {
  constructor() {
    this.bytes = [];
  }
  u8(x) {
    this.bytes.push(x & 255);
  }
  u16(x) {
    this.bytes.push((x >>> 8) & 255, x & 255);
  }
  u32(x) {
    this.bytes.push((x >>> 24) & 255, (x >>> 16) & 255, (x >>> 8) & 255, x & 255);
  }
  /** A u64 from a number below 2^53 (*Session messages*). */
  u64(x) {
    this.u32(Math.floor(x / 2 ** 32));
    this.u32(x % 2 ** 32);
  }
  raw(b) {
    for (const x of b) this.bytes.push(x);
  }
  str8(s) {
    const b = utf8.encode(s);
    if (b.length > 255) throw new RangeError('str8: longer than 255 bytes');
    this.u8(b.length);
    this.raw(b);
  }
  done() {
    return Uint8Array.from(this.bytes);
  }
}

/** A reader that marks itself failed instead of throwing. */
class Reader {
  constructor(bytes, at) {
    this.b = bytes;
    this.at = at;
    this.failed = false;
  }
  need(n) {
    if (this.at + n > this.b.length) {
      this.failed = true;
      return false;
    }
    return true;
  }
  u8() {
    if (!this.need(1)) return 0;
    return this.b[this.at++];
  }
  u16() {
    if (!this.need(2)) return 0;
    const x = (this.b[this.at] << 8) | this.b[this.at + 1];
    this.at += 2;
    return x;
  }
  u32() {
    if (!this.need(4)) return 0;
    const x = viewOf(this.b).getUint32(this.at);
    this.at += 4;
    return x;
  }
  /** A u64 as a number; one of 2^53 or more marks the reader failed. */
  u64() {
    const high = this.u32();
    const low = this.u32();
    if (high >= 2 ** 21) this.failed = true;
    return high * 2 ** 32 + low;
  }
  raw(n) {
    if (!this.need(n)) return new Uint8Array(0);
    const x = this.b.slice(this.at, this.at + n);
    this.at += n;
    return x;
  }
  rest() {
    const x = this.b.slice(this.at);
    this.at = this.b.length;
    return x;
  }
  /** A str8; undefined if it is not valid UTF-8 (marks failed). */
  str8() {
    const n = this.u8();
    const b = this.raw(n);
    if (this.failed) return '';
    try {
      return strictUtf8.decode(b);
    } catch {
      this.failed = true;
      return '';
    }
  }
  get end() {
    return this.at === this.b.length;
  }
}

function textOk(s, maxBytes) {
  return utf8.encode(s).length <= maxBytes && !CONTROL.test(s);
}

export function encodeSessionMessage(m) {
  const w = new Writer();
  w.raw([MAGIC0, MAGIC1, SESSION_VERSION, SESSION_CODES[m.type]]);
  w.u32(m.session);
  switch (m.type) {
    case 'text':
      w.u32(m.seq);
      w.u32(m.ack);
      w.u32(m.sack);
      w.u16(m.ackDelay);
      w.u16(m.fragmentIndex);
      w.u16(m.fragmentCount);
      w.raw(m.payload);
      break;
    case 'heartbeat':
    case 'ack':
      w.u32(m.ack);
      w.u32(m.sack);
      w.u16(m.ackDelay);
      break;
    case 'connect_request':
    case 'accept':
      w.u32(m.heartbeatMs);
      w.str8(m.nick);
      break;
    case 'decline':
      w.u8(DECLINE_REASONS.indexOf(m.reason));
      w.str8(m.detail);
      break;
    case 'presence':
      w.u8(ACTIVITIES.indexOf(m.activity));
      w.str8(m.nick);
      break;
    case 'disconnect':
    case 'disconnect_ack':
      break;
    case 'features':
      w.u32(m.features);
      w.u8(m.flags);
      w.u32(m.streamWindow);
      w.u32(m.maxStreams);
      break;
    case 'stream_data':
      w.u64(m.packet);
      w.u32(m.stream);
      w.u64(m.offset);
      w.u8(m.fin);
      w.raw(m.payload);
      break;
    case 'stream_ack':
      w.u64(m.largest);
      w.u16(m.ackDelay);
      w.u32(m.firstRange);
      w.raw(m.ranges);
      break;
    case 'stream_credit':
      w.u64(m.packet);
      w.u32(m.stream);
      w.u64(m.maxOffset);
      break;
    case 'stream_reset':
      w.u64(m.packet);
      w.u32(m.stream);
      w.u64(m.finalSize);
      w.u16(m.code);
      break;
    case 'stream_stop':
      w.u64(m.packet);
      w.u32(m.stream);
      w.u16(m.code);
      break;
    case 'stream_limit':
      w.u64(m.packet);
      w.u32(m.maxStreams);
      break;
    case 'pmtu_probe':
      w.u64(m.packet);
      w.raw(m.padding);
      break;
    default:
      throw new TypeError(`encodeSessionMessage: unknown type ${m.type}`);
  }
  return w.done();
}

/**
 * A session message, or undefined if malformed (any rule of *Session messages* broken). `large`:
 * the receiver said `large_datagrams`, so `stream_data` and `pmtu_probe` may be up to 1420 bytes.
 */
export function decodeSessionMessage(bytes, large = false) {
  if (bytes.length < 4 || bytes.length > (large ? MAX_LARGE_MESSAGE : MAX_SESSION_MESSAGE)) return undefined;
  if (bytes.length > MAX_SESSION_MESSAGE && bytes[3] !== SESSION_CODES.stream_data && bytes[3] !== SESSION_CODES.pmtu_probe) {
    return undefined;
  }
  if (bytes[0] !== MAGIC0 || bytes[1] !== MAGIC1 || bytes[2] !== SESSION_VERSION) return undefined;
  const type = SESSION_TYPES[bytes[3]];
  if (type === undefined) return undefined;
  const r = new Reader(bytes, 4);
  const m = { type, session: r.u32() };
  switch (type) {
    case 'text':
      m.seq = r.u32();
      m.ack = r.u32();
      m.sack = r.u32();
      m.ackDelay = r.u16();
      m.fragmentIndex = r.u16();
      m.fragmentCount = r.u16();
      if (r.failed) return undefined;
      m.payload = r.rest();
      if (m.payload.length < 1 || m.payload.length > MAX_TEXT_PAYLOAD) return undefined;
      if (m.fragmentCount < 1 || m.fragmentIndex >= m.fragmentCount) return undefined;
      break;
    case 'heartbeat':
    case 'ack':
      m.ack = r.u32();
      m.sack = r.u32();
      m.ackDelay = r.u16();
      break;
    case 'connect_request':
    case 'accept':
      m.heartbeatMs = r.u32();
      m.nick = r.str8();
      if (r.failed || m.heartbeatMs < 50 || !textOk(m.nick, 32)) return undefined;
      break;
    case 'decline': {
      const reason = DECLINE_REASONS[r.u8()];
      m.detail = r.str8();
      if (r.failed || reason === undefined || !textOk(m.detail, 200)) return undefined;
      m.reason = reason;
      break;
    }
    case 'presence': {
      const activity = ACTIVITIES[r.u8()];
      const nick = r.str8();
      if (r.failed || activity === undefined || !textOk(nick, 32)) return undefined;
      m.activity = activity;
      m.nick = nick;
      break;
    }
    case 'features':
      m.features = r.u32();
      m.flags = r.u8();
      m.streamWindow = r.u32();
      m.maxStreams = r.u32();
      break;
    case 'stream_data':
      m.packet = r.u64();
      m.stream = r.u32();
      m.offset = r.u64();
      m.fin = r.u8();
      if (r.failed) return undefined;
      m.payload = r.rest();
      if (m.payload.length > MAX_LARGE_MESSAGE - 29 || m.fin > 1) return undefined; // the size: above
      if (m.payload.length === 0 && m.fin !== 1) return undefined;
      if (m.offset + m.payload.length >= 2 ** 53) return undefined;
      break;
    case 'stream_ack': {
      m.largest = r.u64();
      m.ackDelay = r.u16();
      m.firstRange = r.u32();
      if (r.failed) return undefined;
      m.ranges = r.rest();
      if (m.ranges.length % 8 !== 0 || m.ranges.length > 31 * 8) return undefined;
      // Walk the ranges down (*Streams*): none may reach below packet 0.
      let smallest = m.largest - m.firstRange;
      if (smallest < 0) return undefined;
      const view = viewOf(m.ranges);
      for (let at = 0; at < m.ranges.length; at += 8) {
        const top = smallest - view.getUint32(at) - 2;
        smallest = top - view.getUint32(at + 4);
        if (top < 0 || smallest < 0) return undefined;
      }
      break;
    }
    case 'stream_credit':
      m.packet = r.u64();
      m.stream = r.u32();
      m.maxOffset = r.u64();
      break;
    case 'stream_reset':
      m.packet = r.u64();
      m.stream = r.u32();
      m.finalSize = r.u64();
      m.code = r.u16();
      break;
    case 'stream_stop':
      m.packet = r.u64();
      m.stream = r.u32();
      m.code = r.u16();
      break;
    case 'stream_limit':
      m.packet = r.u64();
      m.maxStreams = r.u32();
      break;
    case 'pmtu_probe':
      // Its padding is ignored (zeros when sent); its length is bounded by the message's, above.
      m.packet = r.u64();
      if (r.failed) return undefined;
      m.padding = r.rest();
      break;
    default:
      break;
  }
  if (r.failed || !r.end) return undefined;
  return m;
}

// ---- rendezvous messages ---------------------------------------------------------------------

const RV_CODES = {
  register: 1,
  registered: 2,
  introduce: 3,
  introduction: 4,
  introduce_failed: 5,
  register_failed: 6,
  relay_rate_request: 7,
  relay_rate: 8,
};
const RV_TYPES = Object.fromEntries(Object.entries(RV_CODES).map(([k, v]) => [v, k]));
export const ACCEPT_FROM = ['anyone', 'listed'];
export const ROLES = ['requester', 'introduced'];
export const FAILURE_REASONS = ['unavailable', 'rate_limited', 'not_registered', 'full'];

export function encodeRendezvous(m) {
  const w = new Writer();
  w.raw([MAGIC0, MAGIC1, RENDEZVOUS_VERSION, RV_CODES[m.type]]);
  w.u32(m.request);
  switch (m.type) {
    case 'register':
      w.u8(ACCEPT_FROM.indexOf(m.acceptFrom));
      w.raw(new Uint8Array(53));
      w.raw(m.keys);
      break;
    case 'registered':
      w.raw(m.ip);
      w.u16(m.port);
      w.u32(m.tag);
      w.raw(m.relayKey);
      break;
    case 'introduce':
      w.raw(m.fingerprint);
      w.raw(new Uint8Array(47));
      break;
    case 'introduction':
      w.u8(ROLES.indexOf(m.role));
      w.raw(m.key);
      w.raw(m.ip);
      w.u16(m.port);
      w.u16(m.startIn);
      w.u32(m.relayTag);
      break;
    case 'introduce_failed':
    case 'register_failed':
      w.u8(FAILURE_REASONS.indexOf(m.reason));
      break;
    case 'relay_rate_request':
      w.raw(new Uint8Array(4));
      break;
    case 'relay_rate':
      w.u32(m.bytesPerSecond);
      break;
    default:
      throw new TypeError(`encodeRendezvous: unknown type ${m.type}`);
  }
  return w.done();
}

export function decodeRendezvous(bytes) {
  if (bytes.length < 8 || bytes.length > MAX_SESSION_MESSAGE) return undefined;
  if (bytes[0] !== MAGIC0 || bytes[1] !== MAGIC1 || bytes[2] !== RENDEZVOUS_VERSION) return undefined;
  const type = RV_TYPES[bytes[3]];
  if (type === undefined) return undefined;
  const r = new Reader(bytes, 4);
  const m = { type, request: r.u32() };
  switch (type) {
    case 'register': {
      m.acceptFrom = ACCEPT_FROM[r.u8()];
      r.raw(53);
      if (r.failed || m.acceptFrom === undefined) return undefined;
      m.keys = r.rest();
      if (m.keys.length % 32 !== 0 || m.keys.length > 32 * 32) return undefined;
      break;
    }
    case 'registered':
      m.ip = r.raw(16);
      m.port = r.u16();
      m.tag = r.u32();
      m.relayKey = r.raw(32);
      if (m.tag === 0) return undefined;
      break;
    case 'introduce':
      m.fingerprint = r.raw(10);
      r.raw(47);
      break;
    case 'introduction':
      m.role = ROLES[r.u8()];
      m.key = r.raw(32);
      m.ip = r.raw(16);
      m.port = r.u16();
      m.startIn = r.u16();
      m.relayTag = r.u32();
      if (m.role === undefined) return undefined;
      break;
    case 'introduce_failed':
    case 'register_failed':
      m.reason = FAILURE_REASONS[r.u8()];
      if (m.reason === undefined) return undefined;
      break;
    case 'relay_rate_request':
      r.raw(4);
      break;
    case 'relay_rate':
      m.bytesPerSecond = r.u32();
      break;
    default:
      return undefined;
  }
  if (r.failed || !r.end) return undefined;
  return m;
}

// ---- addresses on the wire -------------------------------------------------------------------

/** 16 bytes for an address text (IPv4 as ::ffff:a.b.c.d). */
export function ipToWire(ip) {
  const out = new Uint8Array(16);
  const v4 = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v4)) {
    out[10] = 0xff;
    out[11] = 0xff;
    v4.split('.').forEach((x, i) => {
      out[12 + i] = Number(x);
    });
    return out;
  }
  const [head, tail] = ip.split('%')[0].split('::');
  const groups = (s) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const a = groups(head);
  const b = tail === undefined ? [] : groups(tail);
  const all = [...a, ...new Array(8 - a.length - b.length).fill(0), ...b];
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 255;
  });
  return out;
}

/** The address text for 16 wire bytes: a.b.c.d for ::ffff:a.b.c.d, else RFC 5952 IPv6. */
export function ipFromWire(bytes) {
  const isV4 = bytes.subarray(0, 10).every((x) => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (isV4) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  return ipv6Text(bytes);
}

/** RFC 5952: lowercase, no leading zeros, the longest run (of 2 or more) of zero groups as ::. */
export function ipv6Text(bytes) {
  const groups = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestAt = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs) => gs.map((g) => g.toString(16)).join(':');
  if (bestAt < 0) return hex(groups);
  return `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLength))}`;
}
