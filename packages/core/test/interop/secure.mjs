// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// The secure layer: the Noise XX handshake as initiator and responder with its resends, restarts
// and cookies (PROTOCOL.md *Handshake*), channels by index, and `data` packets in and out.

import crypto from 'node:crypto';
import { addressKey, cookieAddressText, sameAddress } from './address.mjs';
import { Channel, makePathBuckets } from './channel.mjs';
import { decodePacket, encodePacket } from './codec.mjs';
import { blake2b } from './crypto.mjs';
import { XXHandshake } from './noise.mjs';

const INIT_FIRST_GAP_MS = 500;
const INIT_MAX_GAP_MS = 2000;
const FINAL_RESEND_MS = 500;
const HALF_DONE_LIFETIME_MS = 5000;
const MAX_HALF_DONE = 1024;
const COOKIE_SECRET_MS = 120_000;

function randomIndex() {
  for (;;) {
    const x = crypto.randomBytes(4).readUInt32BE(0);
    if (x !== 0) return x;
  }
}

const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export function newStats() {
  return {
    malformedPackets: 0,
    unknownChannel: 0,
    forged: 0,
    replayed: 0,
    badPayloads: 0,
    badHandshakes: 0,
    handshakesCompleted: 0,
    cookiesSent: 0,
    cookieRepliesReceived: 0,
    cookiesAccepted: 0,
    pathChallengesSent: 0,
    pathMoves: 0,
    repeatedFinals: 0,
    handshakeRestarts: 0,
  };
}

/** The cookie for an address under a secret: BLAKE2b(key = secret, ADDRESS, 16 bytes). */
export function cookieFor(secret, address) {
  return blake2b(new TextEncoder().encode(cookieAddressText(address)), 16, secret);
}

export class Secure {
  /**
   * `hooks`: channelOpened(channel, initiation?), channelConfirmed(channel), payload(channel,
   * payload, from), handshakeFailed(initiation), channelMoved(channel).
   * `options`: demandCookies (act as a responder under load), rekeyAfterMs.
   */
  constructor({ staticKey, transmit, timers, hooks, options = {} }) {
    this.staticKey = staticKey;
    this.transmit = transmit;
    this.timers = timers;
    this.hooks = hooks;
    this.options = options;
    this.stats = newStats();
    this.channels = new Map(); // localIndex -> Channel
    this.initiations = new Map(); // localIndex -> initiation
    this.halfDone = new Map(); // localIndex -> responder state
    this.halfDoneByInit = new Map(); // addressKey#senderIndex -> responder state
    const now = timers.now();
    Object.assign(this, makePathBuckets(now));
    this.cookieSecret = crypto.randomBytes(32);
    this.previousCookieSecret = undefined;
    this.cookieSecretAt = now;
  }

  // ---- initiator -----------------------------------------------------------------------------

  /** Starts a handshake with `address`; the channel opens later (hooks.channelOpened). */
  connect(address, connectTimeoutMs) {
    const now = this.timers.now();
    const initiation = {
      localIndex: randomIndex(),
      address,
      startedAt: now,
      cookie: new Uint8Array(16),
      hs: undefined,
      initBytes: undefined,
      lastInitAt: undefined,
      gap: INIT_FIRST_GAP_MS,
      channel: undefined,
      msg2At: undefined,
      done: false,
    };
    this.initiations.set(initiation.localIndex, initiation);
    this.timers.set(`hs-giveup:${initiation.localIndex}`, now + connectTimeoutMs, () => this.giveUp(initiation));
    this.startInit(initiation, now);
    return initiation;
  }

  /** A new ephemeral key and init (same index, same cookie), the schedule from 500 ms. */
  startInit(initiation, now) {
    initiation.hs = new XXHandshake(true, this.staticKey);
    const noise = initiation.hs.writeMessage1();
    initiation.noise = noise;
    initiation.msg2At = undefined;
    initiation.gap = INIT_FIRST_GAP_MS;
    this.sendInit(initiation, now);
  }

  sendInit(initiation, now) {
    initiation.initBytes = encodePacket({
      type: 'handshake_init',
      senderIndex: initiation.localIndex,
      cookie: initiation.cookie,
      noise: initiation.noise,
    });
    initiation.lastInitAt = now;
    this.transmit(initiation.initBytes, initiation.address);
    const gap = initiation.gap;
    initiation.gap = Math.min(INIT_MAX_GAP_MS, gap * 2);
    this.timers.set(`hs-init:${initiation.localIndex}`, now + gap, (t) => this.sendInit(initiation, t));
  }

  /** The handshake goes on to another address (the relay), at its next resend. */
  moveInitiation(initiation, address) {
    initiation.address = address;
  }

  giveUp(initiation) {
    if (initiation.channel?.confirmed) return;
    this.endInitiation(initiation);
    if (initiation.channel) this.closeChannel(initiation.channel);
    this.hooks.handshakeFailed?.(initiation);
  }

  endInitiation(initiation) {
    initiation.done = true;
    this.initiations.delete(initiation.localIndex);
    this.timers.clearPrefix(`hs-init:${initiation.localIndex}`);
    this.timers.clearPrefix(`hs-final:${initiation.localIndex}`);
    this.timers.clearPrefix(`hs-restart:${initiation.localIndex}`);
    this.timers.clearPrefix(`hs-giveup:${initiation.localIndex}`);
  }

  onCookieReply(packet, from, now) {
    const initiation = this.initiations.get(packet.receiverIndex);
    // Accepted until message 2 is read, ignored after (PROTOCOL.md *Handshake*, step 3), and
    // only from the address the inits go to.
    if (!initiation || initiation.msg2At !== undefined || !sameAddress(from, initiation.address)) {
      this.stats.unknownChannel++;
      return;
    }
    this.stats.cookieRepliesReceived++;
    initiation.cookie = packet.cookie;
    // The same init again with the cookie, at once (the schedule goes on from there).
    this.sendInit(initiation, now);
  }

  onResponse(packet, from, now) {
    const initiation = this.initiations.get(packet.receiverIndex);
    if (!initiation || !sameAddress(from, initiation.address)) {
      this.stats.unknownChannel++;
      return;
    }
    if (initiation.msg2At !== undefined) {
      // A copy of message 2 (the answer to a repeated init): the same final again, at once.
      if (packet.senderIndex === initiation.channel?.remoteIndex && initiation.finalBytes) {
        this.transmit(initiation.finalBytes, initiation.channel.address);
      } else {
        this.stats.unknownChannel++;
      }
      return;
    }
    if (!initiation.hs.readMessage2(packet.noise)) {
      this.stats.badHandshakes++;
      this.stats.handshakeRestarts++;
      this.startInit(initiation, now);
      return;
    }
    initiation.msg2At = now;
    this.timers.clear(`hs-init:${initiation.localIndex}`);
    const final = encodePacket({
      type: 'handshake_final',
      receiverIndex: packet.senderIndex,
      noise: initiation.hs.writeMessage3(),
    });
    const keys = initiation.hs.keys();
    const handshakeRtt = now - initiation.lastInitAt;
    if (initiation.channel) {
      // A handshake that started over: the same index, new keys.
      const channel = initiation.channel;
      channel.remoteIndex = packet.senderIndex;
      channel.setKeys(keys, now);
      channel.handshakeRtt = handshakeRtt;
      channel.closed = false;
      channel.confirmed = false;
    } else {
      initiation.channel = new Channel(this, {
        localIndex: initiation.localIndex,
        remoteIndex: packet.senderIndex,
        address: initiation.address,
        keys,
        remoteStatic: initiation.hs.rs,
        initiator: true,
        handshakeRtt,
        now,
      });
      this.channels.set(initiation.localIndex, initiation.channel);
    }
    this.stats.handshakesCompleted++;
    initiation.finalBytes = final;
    const sendFinal = (t) => {
      this.transmit(final, initiation.channel.address);
      this.timers.set(`hs-final:${initiation.localIndex}`, t + FINAL_RESEND_MS, sendFinal);
    };
    sendFinal(now);
    this.timers.set(`hs-restart:${initiation.localIndex}`, now + HALF_DONE_LIFETIME_MS, (t) => {
      // No authentic data 5 s after message 2: the responder forgot us. Start over.
      this.stats.handshakeRestarts++;
      this.timers.clear(`hs-final:${initiation.localIndex}`);
      initiation.channel.closed = true;
      this.startInit(initiation, t);
    });
    this.hooks.channelOpened?.(initiation.channel, initiation);
  }

  // ---- responder -----------------------------------------------------------------------------

  cookieValid(cookie, from, now) {
    this.rotateCookieSecret(now);
    if (equal(cookie, cookieFor(this.cookieSecret, from))) return true;
    return this.previousCookieSecret !== undefined && equal(cookie, cookieFor(this.previousCookieSecret, from));
  }

  rotateCookieSecret(now) {
    if (now - this.cookieSecretAt < COOKIE_SECRET_MS) return;
    this.previousCookieSecret = this.cookieSecret;
    this.cookieSecret = crypto.randomBytes(32);
    this.cookieSecretAt = now;
  }

  onInit(packet, from, now) {
    if (this.options.demandCookies && !this.cookieValid(packet.cookie, from, now)) {
      this.stats.cookiesSent++;
      const cookie = cookieFor(this.cookieSecret, from);
      this.transmit(encodePacket({ type: 'cookie_reply', receiverIndex: packet.senderIndex, cookie }), from);
      return;
    }
    if (this.options.demandCookies) this.stats.cookiesAccepted++;
    const initKey = `${addressKey(from)}#${packet.senderIndex}`;
    const held = this.halfDoneByInit.get(initKey);
    if (held && equal(held.msg1, packet.noise)) {
      held.responseAt = now;
      this.transmit(held.response, from); // a repeated init: the same response
      return;
    }
    if (held) this.dropHalfDone(held);
    const hs = new XXHandshake(false, this.staticKey);
    if (!hs.readMessage1(packet.noise)) {
      this.stats.badHandshakes++;
      return;
    }
    const state = {
      hs,
      localIndex: randomIndex(),
      remoteIndex: packet.senderIndex,
      address: from,
      msg1: packet.noise,
      initKey,
      responseAt: now,
      response: undefined,
    };
    state.response = encodePacket({
      type: 'handshake_response',
      senderIndex: state.localIndex,
      receiverIndex: packet.senderIndex,
      noise: hs.writeMessage2(),
    });
    if (this.halfDone.size >= MAX_HALF_DONE) this.dropHalfDone(this.halfDone.values().next().value);
    this.halfDone.set(state.localIndex, state);
    this.halfDoneByInit.set(initKey, state);
    this.timers.set(`hs-half:${state.localIndex}`, now + HALF_DONE_LIFETIME_MS, () => this.dropHalfDone(state));
    this.transmit(state.response, from);
  }

  dropHalfDone(state) {
    this.halfDone.delete(state.localIndex);
    if (this.halfDoneByInit.get(state.initKey) === state) this.halfDoneByInit.delete(state.initKey);
    this.timers.clear(`hs-half:${state.localIndex}`);
  }

  onFinal(packet, from, now) {
    const state = this.halfDone.get(packet.receiverIndex);
    if (!state) {
      // A repeated final: any final for a channel we opened as responder, from its address.
      const channel = this.channels.get(packet.receiverIndex);
      if (channel && !channel.initiator && !channel.closed && sameAddress(from, channel.address)) {
        this.stats.repeatedFinals++;
        channel.send(new Uint8Array(0), now); // another keepalive
        return;
      }
      this.stats.unknownChannel++;
      return;
    }
    if (!sameAddress(from, state.address)) {
      this.stats.unknownChannel++;
      return;
    }
    // A final that does not authenticate ends the half-done handshake (its state is spent).
    this.dropHalfDone(state);
    if (!state.hs.readMessage3(packet.noise)) {
      this.stats.badHandshakes++;
      return;
    }
    const channel = new Channel(this, {
      localIndex: state.localIndex,
      remoteIndex: state.remoteIndex,
      address: state.address,
      keys: state.hs.keys(),
      remoteStatic: state.hs.rs,
      initiator: false,
      handshakeRtt: now - state.responseAt,
      now,
    });
    this.channels.set(channel.localIndex, channel);
    this.stats.handshakesCompleted++;
    channel.send(new Uint8Array(0), now); // the confirmation
    this.hooks.channelOpened?.(channel, undefined);
  }

  // ---- both ----------------------------------------------------------------------------------

  /** One datagram (not a relay packet: the peer unwraps those) from `from`. */
  handle(raw, from, now) {
    const packet = decodePacket(raw);
    if (!packet || packet.type === 'relay') {
      this.stats.malformedPackets++;
      return;
    }
    switch (packet.type) {
      case 'handshake_init':
        this.onInit(packet, from, now);
        return;
      case 'cookie_reply':
        this.onCookieReply(packet, from, now);
        return;
      case 'handshake_response':
        this.onResponse(packet, from, now);
        return;
      case 'handshake_final':
        this.onFinal(packet, from, now);
        return;
      case 'data':
        this.onData(packet, raw, from, now);
        return;
    }
  }

  onData(packet, raw, from, now) {
    const channel = this.channels.get(packet.receiverIndex);
    if (!channel || channel.closed) {
      this.stats.unknownChannel++;
      return;
    }
    const payload = channel.open(packet, raw);
    if (typeof payload === 'string') {
      this.stats[payload]++;
      return;
    }
    channel.lastUsed = now;
    if (!channel.confirmed) {
      channel.confirmed = true;
      const initiation = this.initiations.get(channel.localIndex);
      if (initiation) this.endInitiation(initiation);
      this.hooks.channelConfirmed?.(channel);
    }
    if (!channel.roam(from, payload, raw.length, now)) return;
    if (payload.length === 0) return; // a keepalive
    this.hooks.payload?.(channel, payload, from);
  }

  /** A punch: one init with a fresh ephemeral key and an index nobody keeps (*Hole punching*). */
  punch(address) {
    const hs = new XXHandshake(true, this.staticKey);
    const init = encodePacket({ type: 'handshake_init', senderIndex: randomIndex(), noise: hs.writeMessage1() });
    this.transmit(init, address);
  }

  closeChannel(channel) {
    channel.closed = true;
    this.channels.delete(channel.localIndex);
  }
}
