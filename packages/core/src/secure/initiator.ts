/**
 * The initiator's side of the handshake: init (again with a cookie if the responder asks),
 * message 2 in, handshake_final out, then resend the final until any data packet from the
 * responder confirms it.
 *
 * A final that stays unconfirmed for pendingHandshakeTtl is for a half-done handshake the
 * responder has forgotten by now (it expired, or was evicted, while every final was lost): the
 * handshake starts over on the same channel (same object, same index), so whatever waits on the
 * channel stays attached, and the sink hears `opened` again when the new one completes.
 */
import { type Address, sameAddress } from '../address.js';
import { COOKIE_BYTES, type CookieReply, encodePacket, type HandshakeResponse } from '../wire/packets.js';
import { Channel } from './channel.js';
import { type ChannelRecord, type InitiatorHandshake, newChannelRecord } from './channel-table.js';
import type { SecureContext } from './context.js';
import { copy, newNoise } from './noise.js';
import type { ChannelTimerName } from './timers.js';

export class Initiator {
  constructor(private readonly ctx: SecureContext) {}

  /**
   * Starts a handshake with `address`. At maxChannels an unused channel makes room; if none can,
   * the channel is made anyway: the caller asked for it, and the endpoint bounds its sessions.
   */
  connect(address: Address, now: number): Channel {
    const { ctx } = this;
    if (ctx.channels.size >= ctx.options.maxChannels) ctx.makeRoom();
    const channel = new Channel(ctx.newIndex(), address, true, now);
    const record = newChannelRecord(channel);
    const noise = newNoise(true, ctx.identity);
    record.initiator = {
      noise,
      message1: copy(noise.send()),
      cookie: new Uint8Array(COOKIE_BYTES),
      final: undefined,
      initDelay: ctx.options.handshakeRetryInitial,
      initSentAt: now,
    };
    ctx.channels.add(record);
    this.sendInit(record, record.initiator, now);
    record.timers.set('initRetry', now + ctx.options.handshakeRetryInitial);
    record.timers.set('giveUp', now + ctx.options.handshakeTimeout);
    ctx.schedule(record);
    return channel;
  }

  /** The responder is under load and wants our address proven: the same init again, with its cookie. */
  onCookie(reply: CookieReply, from: Address, now: number): void {
    const record = this.ctx.channels.get(reply.receiverIndex);
    const handshake = record?.initiator;
    if (!record || !handshake || handshake.final || !sameAddress(from, record.channel.address)) {
      this.ctx.stats.unknownChannel++;
      return;
    }
    handshake.cookie = Uint8Array.from(reply.cookie);
    this.sendInit(record, handshake, now);
  }

  onResponse(response: HandshakeResponse, from: Address, now: number): void {
    const { ctx } = this;
    const record = ctx.channels.get(response.receiverIndex);
    const handshake = record?.initiator;
    if (!record || !handshake || !sameAddress(from, record.channel.address) || response.senderIndex === 0) {
      ctx.stats.unknownChannel++;
      return;
    }
    const channel = record.channel;
    if (handshake.final) {
      // A late copy of message 2: the responder may not have our final yet.
      if (response.senderIndex === channel.remoteIndex) ctx.sink.transmit(channel.address, handshake.final);
      else ctx.stats.unknownChannel++;
      return;
    }
    let message3: Uint8Array;
    try {
      handshake.noise.recv(copy(response.noise));
      message3 = copy(handshake.noise.send());
    } catch {
      // The Noise state is spent by a message that did not authenticate: begin again.
      ctx.stats.badHandshakes++;
      this.restart(record, handshake, now);
      return;
    }
    handshake.final = encodePacket({
      type: 'handshake_final',
      receiverIndex: response.senderIndex,
      noise: message3,
    });
    ctx.sink.transmit(channel.address, handshake.final);
    const { noise } = handshake;
    channel.establish(response.senderIndex, copy(noise.rs), copy(noise.tx), copy(noise.rx), now);
    channel.handshakeRtt = now - handshake.initSentAt;
    ctx.stats.handshakesCompleted++;
    record.timers.clear('initRetry');
    record.timers.set('finalRetry', now + ctx.options.handshakeRetryInitial);
    record.timers.set('restart', now + ctx.options.pendingHandshakeTtl);
    ctx.schedule(record);
    ctx.opened(record, now);
  }

  /** Any authentic data packet from the responder: it has the channel. Nothing more to resend. */
  confirmed(record: ChannelRecord): void {
    record.initiator = undefined;
    record.timers.clear('initRetry');
    record.timers.clear('finalRetry');
    record.timers.clear('restart');
    record.timers.clear('giveUp');
    this.ctx.schedule(record);
  }

  onTimer(
    record: ChannelRecord,
    name: Exclude<ChannelTimerName, 'unused' | 'livenessCheck'>,
    now: number,
  ): void {
    const { ctx } = this;
    const handshake = record.initiator;
    if (!handshake) return;
    switch (name) {
      case 'initRetry':
        this.sendInit(record, handshake, now);
        handshake.initDelay = Math.min(handshake.initDelay * 2, ctx.options.handshakeRetryMax);
        record.timers.set('initRetry', now + handshake.initDelay);
        return;
      case 'finalRetry':
        // Not backed off: the final is small, and it must get through (with its confirmation)
        // before the restart timer, whatever the loss. Ten tries at the defaults.
        if (!handshake.final) return; // the handshake started over at this same moment
        ctx.sink.transmit(record.channel.address, handshake.final);
        record.timers.set('finalRetry', now + ctx.options.handshakeRetryInitial);
        return;
      case 'restart':
        this.restart(record, handshake, now);
        return;
      case 'giveUp':
        ctx.close(record);
        return;
    }
  }

  /**
   * Our handshake now goes to another address (a relayed peer's, PROTOCOL.md "Relay"): the same
   * init goes there at once, and its resends start over from the first gap, as on a new path.
   * A cookie is bound to the address it was given for: dropped. Nothing to do once message 2
   * was read (the final's resends follow the address by themselves).
   */
  redirected(record: ChannelRecord, now: number): void {
    const handshake = record.initiator;
    if (!handshake || handshake.final) return;
    handshake.cookie = new Uint8Array(COOKIE_BYTES);
    handshake.initDelay = this.ctx.options.handshakeRetryInitial;
    record.timers.set('initRetry', now + handshake.initDelay);
    this.sendInit(record, handshake, now);
    this.ctx.schedule(record);
  }

  /** A new ephemeral key, a new init, the same index and cookie; the channel is not open until it completes. */
  private restart(record: ChannelRecord, handshake: InitiatorHandshake, now: number): void {
    const { ctx } = this;
    ctx.stats.handshakesRestarted++;
    handshake.noise = newNoise(true, ctx.identity);
    handshake.message1 = copy(handshake.noise.send());
    handshake.final = undefined;
    handshake.initDelay = ctx.options.handshakeRetryInitial;
    record.channel.reset();
    record.paths = undefined;
    record.timers.clear('finalRetry');
    record.timers.clear('restart');
    record.timers.set('initRetry', now + handshake.initDelay);
    this.sendInit(record, handshake, now);
    ctx.schedule(record);
  }

  private sendInit(record: ChannelRecord, handshake: InitiatorHandshake, now: number): void {
    const init = encodePacket({
      type: 'handshake_init',
      senderIndex: record.channel.localIndex,
      cookie: handshake.cookie,
      noise: handshake.message1,
    });
    handshake.initSentAt = now;
    this.ctx.sink.transmit(record.channel.address, init);
  }
}
