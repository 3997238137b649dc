/**
 * What a person may type to name a peer: an address ("IP Port", HOST:PORT), or, when a
 * rendezvous is configured, a fingerprint or the nick of a known peer. A peer named by
 * fingerprint is held as a PeerSpec with port 0 (no peer listens on port 0): its address comes
 * from the rendezvous when the conversation dials.
 */
import { type Address, fingerprintBytes, fingerprintText, type PeerSpec, parsePeerSpec } from '@netchat/core';
import { type PeerPort, portOf } from './peer-port.js';

/** A known peer, as the trust store lists it. */
export interface Contact {
  readonly nick: string;
  readonly fingerprint: string;
}

/** The port a named target carries: never a real peer's. */
const NAMED_PORT = 0;

/** Whether a target names a peer by fingerprint (found through the rendezvous) rather than by address. */
export function isNamedTarget(target: PeerSpec): boolean {
  return target.port === NAMED_PORT;
}

/** "IP Port" / HOST:PORT, or a fingerprint or a known nick when `rendezvous` is true; throws with a one-line reason. */
export function parseTarget(text: string, contacts: readonly Contact[], rendezvous: boolean): PeerSpec {
  const line = text.trim();
  let addressProblem: Error;
  try {
    return parsePeerSpec(line);
  } catch (error) {
    addressProblem = error as Error;
  }
  const bytes = fingerprintBytes(line);
  const contact = contacts.find((c) => c.nick !== '' && c.nick === line);
  if (!bytes && !contact) throw addressProblem;
  if (!rendezvous)
    throw new Error(
      `to reach ${bytes ? 'a fingerprint' : `"${line}"`} you need a rendezvous (--rendezvous HOST:PORT); or type "IP Port"`,
    );
  return { host: bytes ? fingerprintText(bytes) : (contact as Contact).fingerprint, port: NAMED_PORT };
}

/** `port` with `find` added (a RendezvousLink's), for the front-ends; `port` itself when there is none. */
export function withFinder(
  port: PeerPort,
  find: ((fingerprint: string) => Promise<Address>) | undefined,
): PeerPort {
  return find ? { ...portOf(port), find } : port;
}
