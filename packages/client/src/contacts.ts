/**
 * Contacts: the known peers (the trust-on-first-use list, `KnownPeers`) as a person looks them
 * up: by nick for `/connect NICK`, or by the start of a fingerprint when a nick is shared (every
 * bot used to be `netchat-bot`). Pure functions over the list, so front-ends and tests share them.
 */
import { type Address, formatAddress, type KnownPeer, terminalSafe } from '@netchat/core';

export type ContactErrorCode = 'NO_SUCH_CONTACT' | 'AMBIGUOUS_CONTACT' | 'NO_KNOWN_ADDRESS';

/** A look-up that found no one, several, or someone with no address: `message` is one line to show. */
export class ContactError extends Error {
  override readonly name = 'ContactError';
  constructor(
    readonly code: ContactErrorCode,
    message: string,
    /** The candidates, when the name was ambiguous. */
    readonly candidates: readonly KnownPeer[] = [],
  ) {
    super(message);
  }
}

const normalFingerprint = (text: string) => text.toUpperCase().replace(/-/g, '');

/**
 * The known peers `name` means: those with exactly that nick; else with that nick in another
 * case; else (4 characters or more) those whose fingerprint starts with it (dashes optional).
 */
export function matchContacts<C extends Pick<KnownPeer, 'nick' | 'fingerprint'>>(
  contacts: readonly C[],
  name: string,
): C[] {
  const exact = contacts.filter((c) => c.nick === name);
  if (exact.length > 0 || name === '') return exact;
  const folded = name.toLowerCase();
  const anyCase = contacts.filter((c) => c.nick.toLowerCase() === folded);
  if (anyCase.length > 0) return anyCase;
  const prefix = normalFingerprint(name);
  if (prefix.length < 4 || !/^[A-Z2-7]+$/.test(prefix)) return [];
  return contacts.filter((c) => normalFingerprint(c.fingerprint).startsWith(prefix));
}

/**
 * The one known peer `name` means, with the address it was last seen at: what `/connect NICK`
 * dials. Throws ContactError (NO_SUCH_CONTACT, AMBIGUOUS_CONTACT listing the fingerprints, or
 * NO_KNOWN_ADDRESS) with a line that says what to do.
 */
export function findContact(
  contacts: readonly KnownPeer[],
  name: string,
): KnownPeer & { readonly lastAddress: Address } {
  const shown = terminalSafe(name);
  const found = matchContacts(contacts, name);
  if (found.length === 0)
    throw new ContactError('NO_SUCH_CONTACT', `No known peer is called "${shown}" (see /contacts).`);
  if (found.length > 1) {
    const list = found.map(
      (c) => `${c.fingerprint}${c.lastAddress ? ` at ${formatAddress(c.lastAddress)}` : ''}`,
    );
    throw new ContactError(
      'AMBIGUOUS_CONTACT',
      `"${shown}" is ${found.length} known peers: ${list.join(', ')}; name one by the start of its fingerprint.`,
      found,
    );
  }
  const contact = found[0] as KnownPeer;
  if (!contact.lastAddress)
    throw new ContactError(
      'NO_KNOWN_ADDRESS',
      `No address is known for ${terminalSafe(contact.nick) || contact.fingerprint} yet: connect by address once.`,
    );
  return contact as KnownPeer & { readonly lastAddress: Address };
}
