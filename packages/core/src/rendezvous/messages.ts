/**
 * Rendezvous messages: what a client and a rendezvous peer say to each other over an ordinary
 * channel (sealed in `data` packets, like session messages). They share the session messages'
 * magic and differ in the version byte (RENDEZVOUS_VERSION), so a peer that does not speak
 * rendezvous drops them as malformed and counts them. PROTOCOL.md, "Rendezvous", has the layout.
 */
import { z } from 'zod';
import { type Address, normalizeHost } from '../address.js';
import { makeCodec } from '../wire/codec.js';
import { enum8, fixedBytes, padding, rest, u16, u32 } from '../wire/fields.js';
import { define, MAX_MESSAGE_DATAGRAM_BYTES } from '../wire/messages.js';

/** The version byte of rendezvous messages: a family of its own beside session messages (2). */
export const RENDEZVOUS_VERSION = 0x10;
export const KEY_BYTES = 32;
/** The raw bytes of a fingerprint (its base32 form is what people read). */
export const FINGERPRINT_BYTES = 10;
/** The most keys a `register` may list: the message still fits in one packet. */
export const MAX_LISTED_KEYS = 32;
/** An address on the wire: an IPv6 address (IPv4 as ::ffff:a.b.c.d), then a port. */
export const IP_BYTES = 16;

export const ACCEPT_FROM = ['anyone', 'listed'] as const;
export type AcceptFrom = (typeof ACCEPT_FROM)[number];
/**
 * Why a request was refused. `introduce_failed` says `unavailable`, `rate_limited` or
 * `not_registered`; `register_failed` says `full` (one enumeration for both, so a code means one thing).
 */
export const FAILURE_REASONS = ['unavailable', 'rate_limited', 'not_registered', 'full'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];
export const ROLES = ['requester', 'introduced'] as const;
/** The key that authenticates a client's relay packets (relay.ts), given in `registered`. */
export const RELAY_KEY_BYTES = 32;

const request = u32;
const ip = fixedBytes(IP_BYTES);
const port = u16;

/**
 * Zeros (ignored when read) that make each request as long as the longest answer it can bring:
 * the rendezvous never sends more bytes than it was sent. register (62) = registered (62) >
 * register_failed (9); introduce (65) = introduction (65) > introduce_failed (9);
 * relay_rate_request (12) = relay_rate (12).
 */
export const REGISTER_PADDING_BYTES = 53;
export const INTRODUCE_PADDING_BYTES = 47;
/** relay_rate_request (12) = relay_rate (12). */
export const RELAY_RATE_REQUEST_PADDING_BYTES = 4;

/** Client → rendezvous: register my key (the channel's) and say whom I accept introductions from. */
export const Register = define(
  'register',
  1,
  {
    request,
    acceptFrom: enum8(ACCEPT_FROM),
    padding: padding(REGISTER_PADDING_BYTES),
    keys: rest(0, MAX_LISTED_KEYS * KEY_BYTES),
  },
  (value) => (value.keys.length % KEY_BYTES === 0 ? undefined : 'keys must be whole 32-byte keys'),
);
/**
 * Rendezvous → client: registered; the address I see you at (as STUN would tell), your relay
 * tag (relay packets name you by it) and the key your relay packets are authenticated with.
 */
export const Registered = define(
  'registered',
  2,
  { request, ip, port, tag: u32, relayKey: fixedBytes(RELAY_KEY_BYTES) },
  (value) => (value.tag === 0 ? 'tag 0 is no tag' : undefined),
);
/** Client → rendezvous: introduce me to the peer with this fingerprint. */
export const Introduce = define('introduce', 3, {
  request,
  fingerprint: fixedBytes(FINGERPRINT_BYTES),
  padding: padding(INTRODUCE_PADDING_BYTES),
});
/**
 * Rendezvous → both clients: the other's key and the address it is seen at; both send
 * handshakes to it `startIn` ms after this arrives.
 */
export const Introduction = define('introduction', 4, {
  request,
  role: enum8(ROLES),
  key: fixedBytes(KEY_BYTES),
  ip,
  port,
  startIn: u16,
  /** The other peer's relay tag: where relay packets for it go (see relay.ts); 0: no relay. */
  relayTag: u32,
});
/** Rendezvous → client: no introduction (the peer is unknown, or does not accept you: alike on purpose). */
export const IntroduceFailed = define('introduce_failed', 5, { request, reason: enum8(FAILURE_REASONS) });
/** Rendezvous → client: not registered (the rendezvous holds as many registrations as it may). */
export const RegisterFailed = define('register_failed', 6, { request, reason: enum8(FAILURE_REASONS) });

/**
 * Client → rendezvous: what is my relay budget? Sent with every `register` until answered. A
 * rendezvous that predates it drops it as malformed (counted) and the client relays unpaced, as
 * before; padded to the answer's length (no amplification).
 */
export const RelayRateRequest = define('relay_rate_request', 7, {
  request,
  padding: padding(RELAY_RATE_REQUEST_PADDING_BYTES),
});
/**
 * Rendezvous → client: the relay budget R, in bytes a second (outer bytes: inner + 32), that
 * each registration may send, and receive, through the relay (bursts of 2R); 0: no relay.
 */
export const RelayRate = define('relay_rate', 8, { request, bytesPerSecond: u32 });

export const RENDEZVOUS_DEFINITIONS = [
  Register,
  Registered,
  Introduce,
  Introduction,
  IntroduceFailed,
  RegisterFailed,
  RelayRateRequest,
  RelayRate,
] as const;

export type Register = Omit<z.infer<typeof Register.schema>, 'padding'> & { padding?: undefined };
export type Registered = z.infer<typeof Registered.schema>;
export type Introduce = Omit<z.infer<typeof Introduce.schema>, 'padding'> & { padding?: undefined };
export type Introduction = z.infer<typeof Introduction.schema>;
export type IntroduceFailed = z.infer<typeof IntroduceFailed.schema>;
export type RegisterFailed = z.infer<typeof RegisterFailed.schema>;
export type RelayRateRequest = Omit<z.infer<typeof RelayRateRequest.schema>, 'padding'> & {
  padding?: undefined;
};
export type RelayRate = z.infer<typeof RelayRate.schema>;
export type RendezvousMessage =
  | Register
  | Registered
  | Introduce
  | Introduction
  | IntroduceFailed
  | RegisterFailed
  | RelayRateRequest
  | RelayRate;

const codec = makeCodec<RendezvousMessage>(
  RENDEZVOUS_VERSION,
  RENDEZVOUS_DEFINITIONS,
  MAX_MESSAGE_DATAGRAM_BYTES,
);
export const encodeRendezvous = codec.encode;
/** Bytes to a rendezvous message, or why they are not one. Never throws. */
export const decodeRendezvous = codec.decode;

/** An address as its 16 wire bytes and port. IPv4 goes as ::ffff:a.b.c.d. */
export function addressToWire(address: Address): { ip: Uint8Array; port: number } {
  const bytes = new Uint8Array(IP_BYTES);
  if (!address.host.includes(':')) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    address.host.split('.').forEach((part, i) => {
      bytes[12 + i] = Number(part);
    });
    return { ip: bytes, port: address.port };
  }
  const [head = '', tail] = address.host.split('%')[0]?.split('::') ?? [''];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16) || 0;
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return { ip: bytes, port: address.port };
}

/** The address 16 wire bytes and a port stand for, in the normal form addresses are kept in. */
export function addressFromWire(ip: Uint8Array, port: number): Address {
  const mapped = ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
  if (mapped) return { host: `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`, port };
  const groups: string[] = [];
  for (let i = 0; i < 8; i++)
    groups.push((((ip[2 * i] as number) << 8) | (ip[2 * i + 1] as number)).toString(16));
  // The longest run of zero groups becomes "::" (RFC 5952), as node prints addresses.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const text =
    bestStart < 0
      ? groups.join(':')
      : `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
  return { host: normalizeHost(text), port };
}

export const AcceptFromSchema = z.enum(ACCEPT_FROM);
