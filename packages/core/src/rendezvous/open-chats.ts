/**
 * The open chats a rendezvous client keeps going (PROTOCOL.md, *Finding a peer again*, and
 * *Relay*: an open chat and the relay). A chat whose peer falls silent asks the rendezvous where
 * the peer is now (refinds.ts); the introduction that answers is tested on the chat's own channel
 * with a path challenge to the address named, and with a relay tag, the peer's relayed address
 * is offered to the chat (relay-fallback.ts): a silent direct chat tries it, a relayed chat whose
 * pair died re-pairs. A new registration of ours (a new relay tag: the rendezvous restarted, or
 * forgot us) asks for every relayed chat's peer at once. Only `secure/` moves a channel, on the
 * peer's answer, so nothing here can steer a chat where its peer does not answer.
 */
import { type Address, sameAddress } from '../address.js';
import { fingerprint } from '../secure/crypto.js';
import type { ClientRegistration } from './client-registration.js';
import type { ChannelView, EndpointHost } from './extension.js';
import type { Introductions } from './introductions.js';
import { Refinds } from './refinds.js';
import { RELAY_HOST } from './relay.js';
import { RelayClaims } from './relay-claims.js';
import { RelayFallback } from './relay-fallback.js';
import type { RelayPaths } from './relay-paths.js';

/** What the client lends: its registration, its introductions' terms, its relay paths, and `introduce`. */
export interface OpenChatsClient {
  readonly registration: ClientRegistration;
  readonly introductions: Introductions;
  readonly paths: RelayPaths;
  introduce(fingerprintText: string, now: number): number;
}

export class OpenChats {
  readonly counts = {
    /** Introductions asked for because a chat's peer fell silent. */
    refinds: 0,
    /** Path challenges sent on a chat's channel to where an introduction said its peer is now. */
    refindProbes: 0,
    /** Accepted relayed chats whose pair another asked for, asked for by us too (relay-claims.ts). */
    relayClaims: 0,
  };
  readonly refinds = new Refinds();
  readonly fallback: RelayFallback;
  readonly claims: RelayClaims;

  constructor(
    private readonly host: EndpointHost,
    private readonly client: OpenChatsClient,
  ) {
    this.fallback = new RelayFallback(host);
    this.claims = new RelayClaims(host);
  }

  /** Accepted relayed chats whose relay pair another asked for: we ask for the peer too, so it is ours. */
  claimDue(now: number): void {
    this.claims.due(now, (chat) => {
      if (!this.client.introductions.accepts(chat.remoteKey) || !this.refind(chat, now)) return false;
      this.counts.relayClaims++;
      return true;
    });
  }

  /**
   * A chat's peer fell silent: the rendezvous is asked where it is now. A relayed chat's silence
   * may be the rendezvous's (it restarted, its pairs gone): our session with it is doubted too,
   * so a lost one is found out now and registered anew, and the answer re-pairs.
   */
  onPeerSilent(channel: ChannelView, now: number): void {
    const { registration, introductions } = this.client;
    const rendezvous = registration.channel;
    if (rendezvous === undefined || channel.id === rendezvous) return;
    if (channel.address.host === RELAY_HOST) {
      registration.doubt(now);
      if (!introductions.accepts(channel.remoteKey)) return;
    }
    this.refind(channel, now);
  }

  /**
   * An introduction named the peer of an open chat: a path challenge to the address named (a
   * NAT that mapped the peer anew), and with a relay tag, its relayed address followed (the chat,
   * once relayed, probes the direct address now and then) and offered to the chat: a relayed chat
   * re-pairs at once, a silent direct one tries the relay if it is still silent in a second.
   * Only with a peer our `introductions` terms accept: a user who stopped accepting the peer ended
   * its relay pair, and our own requests do not make it again.
   */
  keep(chat: ChannelView, address: Address, relayTag: number, now: number): void {
    if (!sameAddress(chat.address, address) && this.host.probeAt(chat.id, address, now))
      this.counts.refindProbes++;
    const { introductions, paths } = this.client;
    if (relayTag === 0 || !introductions.accepts(chat.remoteKey)) return;
    paths.follow(address, relayTag, false, now);
    this.fallback.offer(chat.id, chat.address, paths.relayedAddress(relayTag), now);
  }

  /** Registered anew: each relayed chat asks for its peer, whose introduction names its new relay tag. */
  repairRelayed(now: number): void {
    for (const chat of this.host.chatChannels())
      if (chat.address.host === RELAY_HOST && this.client.introductions.accepts(chat.remoteKey))
        this.refind(chat, now);
  }

  /**
   * Chats whose refind waited for the budget, asked for in turn (refinds.ts), if they still would
   * be: a relayed chat's only while our terms accept its peer (it may have been a minute in line,
   * and our request would make the relay pair a user who stopped accepting the peer ended).
   */
  refindDue(now: number): void {
    const { registration, introductions } = this.client;
    this.refinds.due(
      now,
      (id) => {
        const channel = this.host.openChannel(id);
        if (!registration.isRegistered || channel === undefined) return false;
        return channel.address.host !== RELAY_HOST || introductions.accepts(channel.remoteKey);
      },
      (id) => {
        const channel = this.host.openChannel(id);
        if (channel) this.ask(channel, now);
      },
    );
  }

  /**
   * Asks the rendezvous for a chat's peer again, within the refind limits (refinds.ts); whether it
   * did now (refused by the budget alone, it is asked in turn: `refindDue`).
   */
  private refind(channel: ChannelView, now: number): boolean {
    if (!this.client.registration.isRegistered) return false;
    if (!this.refinds.shouldAsk(channel.remoteKey, channel.id, now)) return false;
    this.ask(channel, now);
    return true;
  }

  private ask(channel: ChannelView, now: number): void {
    this.counts.refinds++;
    this.refinds.asked(this.client.introduce(fingerprint(channel.remoteKey), now));
  }
}
