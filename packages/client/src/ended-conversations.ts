/**
 * The latest ended conversation with each peer key, so that a new conversation with the same
 * peer (the same key: a different key at the same address is another peer) can say which one it
 * continues (`opened.resumes`): a front-end then shows it where the ended one was, its lines
 * above. Only conversations that opened count (a request that came to nothing was never a chat),
 * each key's latest one only, and the most recent MAX_REMEMBERED keys at most.
 */
import { type Conversation, neverOpened } from './conversation.js';

const MAX_REMEMBERED = 1_000;

export class EndedConversations {
  /** By the peer's key (hex); the Map's order is least recently ended first. */
  private readonly byKey = new Map<string, Conversation>();

  get size(): number {
    return this.byKey.size;
  }

  /** `conversation` ended: it is the one a new conversation with its peer continues. */
  ended(conversation: Conversation): void {
    const key = conversation.publicKey;
    if (key === undefined || neverOpened(conversation)) return;
    this.byKey.delete(key);
    this.byKey.set(key, conversation);
    if (this.byKey.size > MAX_REMEMBERED) this.byKey.delete(this.byKey.keys().next().value as string);
  }

  /** A conversation with the peer of `publicKey` opened: the ended one it continues, if any (taken). */
  resumed(publicKey: string | undefined): Conversation | undefined {
    if (publicKey === undefined) return undefined;
    const previous = this.byKey.get(publicKey);
    this.byKey.delete(publicKey);
    return previous;
  }
}
