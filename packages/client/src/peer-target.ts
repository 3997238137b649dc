/**
 * What a name a person types means: the one resolver both front-ends use (the CLI's prompt and
 * --connect, the TUI's /connect), so a name means the same peer everywhere.
 *
 * - An address: "IP Port", HOST:PORT, [IPv6]:PORT (a host name is looked up when dialled).
 * - A peer known by its key: its fingerprint (any case, dashes optional), the nick of a known
 *   peer (exact, else in another case), or the start of a known fingerprint (4 characters or
 *   more). It is reached through the rendezvous where there is one (it finds the peer wherever it
 *   is now), else at the address it was last seen at; with neither, a problem says what to do.
 *
 * A peer reached through the rendezvous is held as a PeerSpec with port 0 (no peer listens on
 * port 0): its address comes from the rendezvous when the conversation dials.
 */
import {
  type Address,
  fingerprintBytes,
  fingerprintText,
  type PeerSpec,
  parsePeerSpec,
  peerName,
  terminalSafe,
} from '@netchat/core';
import { matchContacts } from './contacts.js';
import { type PeerPort, portOf } from './peer-port.js';

/** A known peer, as the trust store lists it (KnownPeers.list() fits). */
export interface Contact {
  readonly nick: string;
  readonly fingerprint: string;
  /** Where it was last seen, if anywhere. */
  readonly lastAddress?: Address | undefined;
  /** A renamed peer's own nick: it names the peer too (after the names the person gave). */
  readonly peerNick?: string | undefined;
}

/** What the resolver needs to know besides the text. */
export interface TargetContext {
  /** The known peers: their nicks and fingerprints name them, and their last addresses reach them. */
  readonly contacts: readonly Contact[];
  /** Whether a rendezvous is configured: it is asked first for a peer known by key. */
  readonly rendezvous: boolean;
  /** Our own fingerprint: naming it gets a clear message, not a rendezvous's "unknown". */
  readonly ownFingerprint?: string | undefined;
}

/** A name that means one peer. `spec` is what `ChatClient.connect` dials. */
export type Target =
  /** An address as typed. */
  | { readonly kind: 'address'; readonly spec: PeerSpec }
  /**
   * A peer known by its key, reached `via` the rendezvous (`spec` is its fingerprint, port 0) or
   * at its last address. `nick` is its nick as known ('' if none); the conversation opens only
   * with this key.
   */
  | {
      readonly kind: 'key';
      readonly spec: PeerSpec;
      readonly fingerprint: string;
      readonly nick: string;
      readonly via: 'rendezvous' | 'last_address';
    };

export type TargetProblemCode =
  /** Neither an address nor a known peer: the address's own complaint. */
  | 'invalid_address'
  /** Several known peers answer to it (a shared nick): `candidates` lists them. */
  | 'ambiguous'
  /** A peer known by key with no rendezvous and no address seen: nothing can reach it. */
  | 'no_route'
  /** Our own fingerprint. */
  | 'own_key';

export interface TargetProblem {
  readonly code: TargetProblemCode;
  /** One line for the person, saying what to do. */
  readonly message: string;
  readonly candidates?: readonly Contact[];
}

export type TargetResult =
  | { readonly ok: true; readonly target: Target }
  | { readonly ok: false; readonly problem: TargetProblem };

/** The port a peer reached through the rendezvous carries: never a real peer's. */
const NAMED_PORT = 0;

/** Whether a target names a peer by fingerprint (found through the rendezvous) rather than by address. */
export function isNamedTarget(target: PeerSpec): boolean {
  return target.port === NAMED_PORT;
}

/** What `text` (as typed: it is trimmed here) means in `context`; a problem rather than an exception. */
export function resolveTarget(text: string, context: TargetContext): TargetResult {
  const line = text.trim();
  let addressProblem: string;
  try {
    return { ok: true, target: { kind: 'address', spec: parsePeerSpec(line) } };
  } catch (error) {
    addressProblem = (error as Error).message;
  }
  const bytes = fingerprintBytes(line);
  if (bytes) {
    const fingerprint = fingerprintText(bytes);
    if (fingerprint === context.ownFingerprint) return problem('own_key', ownKeyText(fingerprint));
    const known = context.contacts.find((c) => c.fingerprint === fingerprint);
    return byKey(known ?? { nick: '', fingerprint }, context);
  }
  const found = matchContacts(context.contacts, line);
  if (found.length === 1) {
    const contact = found[0] as Contact;
    if (contact.fingerprint === context.ownFingerprint)
      return problem('own_key', ownKeyText(contact.fingerprint));
    return byKey(contact, context);
  }
  if (found.length > 1) {
    const list = found.map(
      (c) => `${c.fingerprint}${c.lastAddress ? ` at ${spacedAddress(c.lastAddress)}` : ''}`,
    );
    return problem(
      'ambiguous',
      `"${terminalSafe(line)}" is ${found.length} known peers: ${list.join(', ')}; name one by the start of its fingerprint.`,
      found,
    );
  }
  // One word, not an address: say that no known peer has that name either.
  const word = /^[^\s:.[\]]+$/.test(line) && !/^\d+$/.test(line);
  const hint = word && line !== '' ? `; no known peer is called "${terminalSafe(line)}" either` : '';
  return problem('invalid_address', `${addressProblem}${hint}`);
}

/** `port` with `find` added (a RendezvousLink's), for the front-ends; `port` itself when there is none. */
export function withFinder(
  port: PeerPort,
  find: ((fingerprint: string) => Promise<Address>) | undefined,
): PeerPort {
  return find ? { ...portOf(port), find } : port;
}

/**
 * Whether two addresses are the same peer's, however they were written: case, brackets and an
 * IPv4 address in IPv6 form (`::ffff:1.2.3.4`) aside. Host names compare as typed.
 */
export function sameAddress(a: PeerSpec | Address, b: PeerSpec | Address): boolean {
  return a.port === b.port && canonicalHost(a.host) === canonicalHost(b.host);
}

function canonicalHost(host: string): string {
  return host
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase()
    .replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

/** A peer known by key: through the rendezvous first, else where it was last seen. */
function byKey(contact: Contact, context: TargetContext): TargetResult {
  const { fingerprint, nick } = contact;
  if (context.rendezvous)
    return {
      ok: true,
      target: {
        kind: 'key',
        spec: { host: fingerprint, port: NAMED_PORT },
        fingerprint,
        nick,
        via: 'rendezvous',
      },
    };
  if (contact.lastAddress) {
    const { host, port } = contact.lastAddress;
    return {
      ok: true,
      target: { kind: 'key', spec: { host, port }, fingerprint, nick, via: 'last_address' },
    };
  }
  const who = nick ? `"${terminalSafe(nick)}"` : 'a fingerprint';
  const known = nick || context.contacts.some((c) => c.fingerprint === fingerprint);
  return problem(
    'no_route',
    known
      ? `no address is known for ${terminalSafe(peerName(nick, fingerprint))} (${fingerprint}) yet: connect by "IP Port" once, or use a rendezvous (--rendezvous HOST:PORT)`
      : `to reach ${who} you need a rendezvous (--rendezvous HOST:PORT); or type "IP Port"`,
  );
}

function ownKeyText(fingerprint: string): string {
  return `${fingerprint} is your own fingerprint: give the other person's (they see theirs with netchat --fingerprint)`;
}

function spacedAddress(address: Address): string {
  return `${address.host} ${address.port}`;
}

function problem(code: TargetProblemCode, message: string, candidates?: readonly Contact[]): TargetResult {
  return { ok: false, problem: { code, message, ...(candidates && { candidates }) } };
}
