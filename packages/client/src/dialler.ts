/**
 * Dialling a conversation we asked for: the target looked up (an address resolved, a peer known
 * by key found through the rendezvous), the one-chat-per-peer rule checked before and after the
 * look-up (`localhost 6666` is `127.0.0.1 6666`), then the request sent. Every outcome is an end
 * reason for the client to report, never an exception.
 */
import {
  type Address,
  checkPeerSpec,
  type EventOf,
  formatAddress,
  type TrustAssessment,
} from '@netchat/core';
import type { Conversation, EndReason } from './conversation.js';
import type { PeerPort } from './peer-port.js';
import { isNamedTarget, sameAddress } from './peer-target.js';

/** What the dialler needs of the client. */
export interface DiallerHost {
  readonly port: PeerPort;
  /** The conversations connecting or open. */
  conversations(): readonly Conversation[];
  /** Whether a second chat with the same peer is refused (ClientSettings.oneChatPerPeer). */
  readonly oneChatPerPeer: boolean;
  end(conversation: Conversation, why: EndReason): void;
}

export class Dialler {
  constructor(private readonly host: DiallerHost) {}

  /** Looks the target up and asks the peer; `opened` or `ended` follows through the client. */
  async dial(conversation: Conversation): Promise<void> {
    const { port } = this.host;
    // Every outcome comes after `connect` returned, so the caller can hold the conversation first.
    await Promise.resolve();
    try {
      const target = conversation.target;
      if (this.endIfDuplicate(conversation)) return;
      // A fingerprint is found through the rendezvous; an address is looked up (no extra await: callers count ticks).
      if (!isNamedTarget(target)) checkPeerSpec(target);
      const address = await (isNamedTarget(target)
        ? this.find(target.host)
        : port.resolve(target.host, target.port));
      if (conversation.state !== 'connecting') return;
      conversation.peer = address;
      // `localhost 6666` and `127.0.0.1 6666` are one peer: checked again now the address is known.
      if (this.endIfDuplicate(conversation)) return;
      const session = port.connectTo(address);
      // An immediate answer (the peer was already asking us) may have opened it already.
      conversation.session ??= session;
    } catch (error) {
      if (conversation.state !== 'connecting') return;
      this.host.end(conversation, { kind: 'unreachable', message: (error as Error).message });
    }
  }

  /**
   * The conversation (connecting or open) already with the peer `conversation` asks for, other
   * than itself: the same key, or the same address (once known, or as typed).
   */
  duplicateOf(conversation: Conversation): Conversation | undefined {
    const fingerprint = conversation.expected?.fingerprint;
    const at = addressOf(conversation);
    return this.host.conversations().find((c) => {
      if (c === conversation || c.state === 'ended') return false;
      if (fingerprint !== undefined && (c.trust?.fingerprint ?? c.expected?.fingerprint) === fingerprint)
        return true;
      const theirs = addressOf(c);
      return at !== undefined && theirs !== undefined && sameAddress(at, theirs);
    });
  }

  /**
   * A chat with `open`'s key has opened: our requests still on their way to that key by name (a
   * nick or fingerprint, its last address perhaps stale since its program moved to another port)
   * would only be a second chat with it. They are withdrawn, ended as duplicates of this one.
   */
  withdrawRequestsTo(open: Conversation): void {
    const fingerprint = open.trust?.fingerprint;
    if (!this.host.oneChatPerPeer || fingerprint === undefined) return;
    const second = (c: Conversation) =>
      c !== open && c.state === 'connecting' && c.expected?.fingerprint === fingerprint;
    for (const c of this.host.conversations().filter(second)) {
      if (c.session !== undefined) this.host.port.closeSession(c.session);
      this.host.end(c, { kind: 'duplicate', existing: open });
    }
  }

  /** The conversation of ours an `accepted` answers: by its session, else (sent as the peer asked us) by address. */
  answered(e: EventOf<'accepted'>): Conversation | undefined {
    const connecting = this.host.conversations().filter((c) => c.state === 'connecting');
    return (
      connecting.find((c) => c.session === e.session) ??
      connecting.find(
        (c) =>
          c.session === undefined && c.peer !== undefined && formatAddress(c.peer) === formatAddress(e.peer),
      )
    );
  }

  /** Ends a conversation that would be a second chat with the same peer (a typed reason, not an error). */
  private endIfDuplicate(conversation: Conversation): boolean {
    if (!this.host.oneChatPerPeer) return false;
    const existing = this.duplicateOf(conversation);
    if (existing) this.host.end(conversation, { kind: 'duplicate', existing });
    return existing !== undefined;
  }

  /** The peer with this fingerprint, through the rendezvous: resolves at the moment to connect. */
  private find(fingerprint: string): Promise<Address> {
    const { port } = this.host;
    if (!port.find) return Promise.reject(new Error('no rendezvous configured (--rendezvous HOST:PORT)'));
    return port.find(fingerprint);
  }
}

/** Where a conversation's peer is, once known, else as typed (none for a peer found by fingerprint). */
function addressOf(c: Conversation) {
  return c.peer ?? (isNamedTarget(c.target) ? undefined : c.target);
}

/**
 * Why an accepted conversation must not open, if it must not: not the peer that was asked for (its
 * last address is someone else's now), or a new key with a verified peer's nick. Never trusted.
 */
export function wrongKey(conversation: Conversation, e: EventOf<'accepted'>, trust: TrustAssessment) {
  const asked = conversation.expected;
  if (asked && e.fingerprint !== asked.fingerprint) return { expected: asked.fingerprint, nick: asked.nick };
  if (trust.level === 'impersonation' && trust.verified)
    return { expected: trust.knownFingerprint ?? '', nick: e.nick };
  return undefined;
}
