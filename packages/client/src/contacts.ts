/**
 * Contacts: the known peers (the trust-on-first-use list, `KnownPeers`) as a person names them:
 * by nick, or by the start of a fingerprint when a nick is shared (every bot used to be
 * `netchat-bot`). What one name then means (a peer to dial, or a problem) is resolveTarget's
 * (peer-target.ts); `netchat contacts` and `netchat history` use the same look-up.
 */
import type { KnownPeer } from '@netchat/core';

const normalFingerprint = (text: string) => text.toUpperCase().replace(/-/g, '');

/**
 * The known peers `name` means: those with exactly that nick; else with that nick in another
 * case; else renamed peers whose own nick it is (any case: `forget alice` after a rename); else
 * (4 characters or more) those whose fingerprint starts with it (dashes optional).
 */
export function matchContacts<C extends Pick<KnownPeer, 'nick' | 'fingerprint' | 'peerNick'>>(
  contacts: readonly C[],
  name: string,
): C[] {
  const exact = contacts.filter((c) => c.nick === name);
  if (exact.length > 0 || name === '') return exact;
  const folded = name.toLowerCase();
  const anyCase = contacts.filter((c) => c.nick.toLowerCase() === folded);
  if (anyCase.length > 0) return anyCase;
  const own = contacts.filter((c) => c.peerNick?.toLowerCase() === folded);
  if (own.length > 0) return own;
  const prefix = normalFingerprint(name);
  if (prefix.length < 4 || !/^[A-Z2-7]+$/.test(prefix)) return [];
  return contacts.filter((c) => normalFingerprint(c.fingerprint).startsWith(prefix));
}
