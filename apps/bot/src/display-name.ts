/**
 * What the bot calls a peer in its replies (`{nick}`): the nick it sent, or, when that is empty
 * or only spaces, the first group of its key's fingerprint (`YRZP`), never an empty name.
 * A local copy of the rule until `@netchat/client` has the shared one the front-ends use.
 */
export function displayName(nick: string, fingerprint: string): string {
  if (nick.trim() !== '') return nick;
  return fingerprint.split('-')[0] ?? fingerprint;
}
