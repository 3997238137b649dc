/**
 * What the client needs of a peer: `NetchatPeer` in the apps, an `Endpoint` on virtual time in
 * tests. The client never reaches past this interface.
 */
import type {
  Address,
  DeclineReason,
  KnownPeer,
  MessageId,
  PeerTrust,
  SessionId,
  SessionInfo,
} from '@netchat/core';

export interface PeerPort {
  /** A host as typed into an address (a look-up for names). Rejects with INVALID_ADDRESS. */
  resolve(host: string, port: number): Promise<Address>;
  /**
   * Finds the peer with this fingerprint through a rendezvous (RendezvousLink.find); resolves at
   * the moment to connect. Absent when no rendezvous is configured.
   */
  find?(fingerprint: string): Promise<Address>;
  /** Asks a peer to chat. Its events may come before this returns. */
  connectTo(address: Address): SessionId;
  accept(session: SessionId): void;
  decline(session: SessionId, reason?: DeclineReason, detail?: string): void;
  /** Throws SEND_QUEUE_FULL when the peer's send queue has no room: the client holds the text. */
  send(session: SessionId, text: string): MessageId;
  closeSession(session: SessionId): void;
  session(session: SessionId): SessionInfo | undefined;
  /**
   * Our nick from now on; every open session's peer hears of a change (a `presence`). Throws
   * INVALID_ARGUMENT for a nick that cannot go on the wire. Optional so that older test doubles
   * still fit; without it `ChatClient.setNick` throws.
   */
  setNick?(nick: string): void;
  /** Tells an open session's peer whether we are typing (one unreliable `presence`); false if not open. */
  setTyping?(session: SessionId, typing: boolean): boolean;
}

/** Who we trust (KnownPeers in the apps): trust on first use. */
export interface TrustStore {
  check(publicKey: string, nick: string): PeerTrust;
  /**
   * Trusts the key under `nick`, seen now at `seen.address` (KnownPeers keeps both for the
   * contacts). `seen.onlyIfKnown`: only follow a key still in the list (a nick change in a chat),
   * never add back one that was forgotten meanwhile (`netchat contacts forget` in another terminal).
   */
  remember(
    publicKey: string,
    nick: string,
    fingerprint: string,
    seen?: { address?: Address; onlyIfKnown?: boolean },
  ): void;
  /** Every known peer: lets a nick change be checked against the nicks of other known keys. */
  list?(): readonly KnownPeer[];
}

/**
 * The PeerPort members of `peer` (a NetchatPeer, a test's virtual peer, another port), each bound
 * to it and the optional ones only if it has them: an object to spread and add to. The one copy:
 * a hand-written one that forgot a member silently turned off what it offers (the TUI's lost
 * `find`, and with it every connect by fingerprint).
 */
export function portOf(peer: PeerPort): PeerPort {
  return {
    resolve: (host, port) => peer.resolve(host, port),
    connectTo: (address) => peer.connectTo(address),
    accept: (session) => peer.accept(session),
    decline: (session, reason, detail) => peer.decline(session, reason, detail),
    send: (session, text) => peer.send(session, text),
    closeSession: (session) => peer.closeSession(session),
    session: (session) => peer.session(session),
    ...(peer.setNick && { setNick: (nick: string) => peer.setNick?.(nick) }),
    ...(peer.setTyping && {
      setTyping: (session: SessionId, typing: boolean) => peer.setTyping?.(session, typing) ?? false,
    }),
    ...(peer.find && { find: (fingerprint: string) => peer.find?.(fingerprint) as Promise<Address> }),
  };
}
