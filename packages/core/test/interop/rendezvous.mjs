// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// A rendezvous client (PROTOCOL.md *Rendezvous and hole punching*): its session with the
// rendezvous, register and introduce with their resends, the introductions it acts on, punches,
// the move to the relay, the authenticated relay packet both ways, and the direct keepalives
// that let path validation bring a relayed chat back to a direct path.

import crypto from 'node:crypto';
import { TokenBucket, isRelayed, relayedAddress, sameAddress } from './address.mjs';
import {
  decodePacket,
  decodeRendezvous,
  encodePacket,
  encodeRendezvous,
  ipFromWire,
  MAX_DATAGRAM,
} from './codec.mjs';
import { base32Decode, blake2b, fingerprintBytes } from './crypto.mjs';
import { ReplayWindow } from './replay.mjs';

const REQUEST_RESEND_MS = 1000;
const INTRODUCE_GIVE_UP_MS = 5000;
const REGISTER_RETRY_AFTER_FAILURE_MS = 30_000;
const RELAY_AFTER_MS = 3000;
const DIRECT_FROM_MS = 8000;
const DIRECT_UNTIL_MS = 60_000;
const DIRECT_EVERY_MS = 5000;
const MAX_WAITING_PUNCHES = 16;

/** MAC of a relay packet: BLAKE2b(key, 16 bytes, first 16 bytes of the packet ‖ inner). */
export function relayMac(key, first16, inner) {
  const message = new Uint8Array(16 + inner.length);
  message.set(first16.subarray(0, 16), 0);
  message.set(inner, 16);
  return blake2b(message, 16, key);
}

/** A relay packet from `from` to `to` with `counter`, MAC'd under `key`. */
export function sealRelay({ from, to, counter, key, inner }) {
  const head = encodePacket({ type: 'relay', from, to, counter, mac: new Uint8Array(16), inner: new Uint8Array(0) });
  return encodePacket({ type: 'relay', from, to, counter, mac: relayMac(key, head, inner), inner });
}

/**
 * Checks a relay packet under `key`: decodes, neither tag 0, the MAC, and an inner netchat packet
 * (a handshake packet or a `data` packet that decodes; not a relay packet). The packet, or a
 * string saying why not.
 */
export function openRelay(bytes, key) {
  const packet = decodePacket(bytes);
  if (!packet || packet.type !== 'relay') return 'malformed';
  const mac = relayMac(key, bytes, packet.inner);
  if (!mac.every((x, i) => x === packet.mac[i])) return 'forged';
  const inner = decodePacket(packet.inner);
  if (!inner || inner.type === 'relay') return 'not_netchat';
  return packet;
}

const usableHost = (ip) => {
  if (ip.includes(':')) return ip !== '::' && !ip.toLowerCase().startsWith('ff');
  const [a] = ip.split('.').map(Number);
  return a !== 0 && !(a >= 224);
};

export class RendezvousClient {
  constructor(peer, { server, acceptFrom = 'anyone', listedKeys = [] }) {
    this.peer = peer;
    this.server = server;
    this.acceptFrom = acceptFrom;
    this.listedKeys = listedKeys;
    this.session = undefined;
    this.registered = undefined; // { request, tag, relayKey, address }
    this.nextRequest = 1;
    this.registerRequest = undefined;
    this.waiting = new Map(); // request -> { fingerprint, resolve, reject, startedAt }
    this.relayCounter = 0;
    this.relayWindow = new ReplayWindow();
    this.punchBucket = new TokenBucket(1, 4, peer.now());
    this.waitingPunches = 0;
    this.stats = {
      malformed: 0,
      ignored: 0,
      registered: 0,
      introductionsAsRequester: 0,
      introductionsAsIntroduced: 0,
      punchesSent: 0,
      relayedIn: 0,
      relayedOut: 0,
      tooLargeForRelay: 0,
      relayDropped: 0,
      directProbes: 0,
      movedToRelay: 0,
    };
    peer.rendezvous = this;
    this.onEvent = (e) => this.peerEvent(e);
    peer.on('event', this.onEvent);
  }

  start() {
    this.session = this.peer.connect(this.server.host, this.server.port, { rendezvousRole: true });
    this.peer.session(this.session).rendezvousRole = true;
  }

  stop() {
    this.peer.off('event', this.onEvent);
    this.peer.timers.clearPrefix('rv:');
  }

  peerEvent(e) {
    if (e.session !== this.session) return;
    if (e.type === 'accepted') this.register();
    if (e.type === 'closed' || e.type === 'lost' || e.type === 'no_answer' || e.type === 'declined') {
      this.registered = undefined;
      this.peer.emitEvent({ type: 'rendezvous_down', reason: e.type });
    }
  }

  get channel() {
    const s = this.peer.session(this.session);
    return s?.state === 'open' ? s.channel : undefined;
  }

  sendToServer(message) {
    const channel = this.channel;
    if (channel) channel.send(encodeRendezvous(message), this.peer.now());
  }

  // ---- register ------------------------------------------------------------------------------------

  register() {
    const request = this.nextRequest++;
    this.registerRequest = request;
    const keys = new Uint8Array(this.listedKeys.length * 32);
    this.listedKeys.forEach((k, i) => keys.set(k, i * 32));
    const send = (now) => {
      if (this.registerRequest !== request) return;
      this.sendToServer({ type: 'register', request, acceptFrom: this.acceptFrom, keys });
      this.peer.timers.set('rv:register', now + REQUEST_RESEND_MS, send);
    };
    send(this.peer.now());
  }

  whenRegistered(timeoutMs) {
    if (this.registered) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.peer.off('rendezvous_registered', done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.peer.once('rendezvous_registered', done);
    });
  }

  // ---- introduce -----------------------------------------------------------------------------------

  /** Asks for the peer with `fingerprint` (text); resolves with { session, address, relayTag }. */
  find(fingerprint) {
    const fingerprintRaw = base32Decode(fingerprint.replaceAll('-', ''));
    return new Promise((resolve, reject) => {
      const request = this.nextRequest++;
      const startedAt = this.peer.now();
      this.waiting.set(request, { fingerprint: fingerprintRaw, resolve, reject, startedAt });
      const send = (now) => {
        if (!this.waiting.has(request)) return;
        if (now - startedAt >= INTRODUCE_GIVE_UP_MS) {
          this.waiting.delete(request);
          reject(new Error('no answer from the rendezvous'));
          return;
        }
        if (this.registered) this.sendToServer({ type: 'introduce', request, fingerprint: fingerprintRaw });
        this.peer.timers.set(`rv:introduce:${request}`, now + REQUEST_RESEND_MS, send);
      };
      send(startedAt);
    });
  }

  // ---- messages from the rendezvous ------------------------------------------------------------

  onMessage(channel, bytes) {
    if (channel !== this.channel) {
      this.stats.ignored++;
      return;
    }
    const m = decodeRendezvous(bytes);
    if (!m) {
      this.stats.malformed++;
      return;
    }
    switch (m.type) {
      case 'registered':
        if (m.request !== this.registerRequest) return;
        this.registerRequest = undefined;
        this.peer.timers.clear('rv:register');
        this.registered = {
          request: m.request,
          tag: m.tag,
          relayKey: m.relayKey,
          address: { host: ipFromWire(m.ip), port: m.port },
        };
        this.relayCounter = 0;
        this.relayWindow = new ReplayWindow();
        this.stats.registered++;
        this.peer.emitEvent({ type: 'rendezvous_registered', address: this.registered.address, tag: m.tag });
        for (const [request, w] of this.waiting) {
          this.sendToServer({ type: 'introduce', request, fingerprint: w.fingerprint });
        }
        return;
      case 'register_failed':
        if (m.request !== this.registerRequest) return;
        this.registerRequest = undefined;
        this.peer.timers.set('rv:register', this.peer.now() + REGISTER_RETRY_AFTER_FAILURE_MS, () => this.register());
        this.peer.emitEvent({ type: 'rendezvous_register_failed', reason: m.reason });
        return;
      case 'introduce_failed': {
        const w = this.waiting.get(m.request);
        if (!w) return;
        if (m.reason === 'not_registered') {
          this.registered = undefined;
          this.register();
          return;
        }
        this.waiting.delete(m.request);
        w.reject(new Error(`introduce_failed: ${m.reason}`));
        return;
      }
      case 'introduction':
        this.onIntroduction(m);
        return;
      default:
        this.stats.ignored++; // register, introduce: only a rendezvous acts on them
    }
  }

  onIntroduction(m) {
    const now = this.peer.now();
    const address = { host: ipFromWire(m.ip), port: m.port };
    const usable = m.port !== 0 && usableHost(address.host);
    const moment = now + m.startIn;
    if (m.role === 'requester') {
      const w = this.waiting.get(m.request);
      if (!w) {
        this.stats.ignored++;
        return;
      }
      this.waiting.delete(m.request);
      this.peer.timers.clear(`rv:introduce:${m.request}`);
      const asked = fingerprintBytes(m.key);
      if (!asked.every((x, i) => x === w.fingerprint[i])) {
        w.reject(new Error('the rendezvous introduced another key'));
        return;
      }
      if (!usable) {
        w.reject(new Error('the introduction names an unusable address'));
        return;
      }
      this.stats.introductionsAsRequester++;
      this.peer.timers.set(`rv:connect:${m.request}`, moment, () => {
        const session = this.peer.connect(address.host, address.port);
        const s = this.peer.session(session);
        if (m.relayTag !== 0 && s.initiation) {
          this.peer.timers.set(`rv:relay:${m.request}`, moment + RELAY_AFTER_MS, () => {
            const channel = s.initiation.channel;
            if (channel?.confirmed) return;
            this.stats.movedToRelay++;
            this.peer.secure.moveInitiation(s.initiation, relayedAddress(m.relayTag));
            this.peer.emitEvent({ type: 'rendezvous_relayed', session, tag: m.relayTag });
            this.directProbes(s.initiation, address, moment);
          });
        }
        w.resolve({ session, address, relayTag: m.relayTag });
      });
      return;
    }
    // Introduced: someone asked for us.
    const keyHex = Buffer.from(m.key).toString('hex');
    const accepted =
      this.acceptFrom === 'anyone' || this.listedKeys.some((k) => Buffer.from(k).toString('hex') === keyHex);
    if (!accepted || !usable || this.waitingPunches >= MAX_WAITING_PUNCHES || !this.punchBucket.take(now)) {
      this.stats.ignored++;
      return;
    }
    this.stats.introductionsAsIntroduced++;
    this.waitingPunches++;
    this.peer.timers.set(`rv:punch:${crypto.randomUUID()}`, moment, () => {
      this.waitingPunches--;
      this.stats.punchesSent++;
      this.peer.secure.punch(address);
    });
    if (m.relayTag !== 0) this.expectRelayed(m.relayTag, address, moment);
  }

  /** Introduced side: a channel that opens over the relay from `tag` probes the direct path too. */
  expectRelayed(tag, address, moment) {
    const onOpen = (channel) => {
      if (!isRelayed(channel.address) || channel.address.port !== tag) return;
      this.peer.off('channel_opened', onOpen);
      this.directProbes({ channel }, address, moment);
    };
    this.peer.on('channel_opened', onOpen);
    // Bounded: the introduction's relay window is over after a minute.
    setTimeout(() => this.peer.off('channel_opened', onOpen), DIRECT_UNTIL_MS).unref();
  }

  /** Keepalives sealed on the chat's channel straight to `address`, every 5 s from 8 s to 60 s. */
  directProbes(holder, address, moment) {
    const name = `rv:direct:${crypto.randomUUID()}`;
    const probe = (now) => {
      if (now > moment + DIRECT_UNTIL_MS) return;
      const channel = holder.channel;
      if (channel && !channel.closed && isRelayed(channel.address)) {
        this.stats.directProbes++;
        channel.send(new Uint8Array(0), now, address);
      }
      this.peer.timers.set(name, now + DIRECT_EVERY_MS, probe);
    };
    this.peer.timers.set(name, moment + DIRECT_FROM_MS, probe);
  }

  // ---- relay packets ---------------------------------------------------------------------------------

  sendRelayed(inner, to) {
    if (!this.registered) return;
    if (inner.length > MAX_DATAGRAM) {
      // *Datagram size*: the relay carries at most 1200 bytes; a large packet is lost as on a path
      // that cannot carry it (its bytes go again smaller).
      this.stats.tooLargeForRelay++;
      return;
    }
    const packet = sealRelay({
      from: this.registered.tag,
      to: to.port,
      counter: this.relayCounter++,
      key: this.registered.relayKey,
      inner,
    });
    this.stats.relayedOut++;
    if (this.peer.options.outbound && !this.peer.options.outbound(this.server, packet)) return;
    this.peer.stats.datagramsOut++;
    this.peer.socket.send(packet, this.server.port, this.server.host);
  }

  /** A relay packet from the network: { inner, from } to hand to the secure layer, or undefined. */
  onRelay(bytes, from) {
    if (!this.registered || !sameAddress(from, this.server)) {
      this.stats.relayDropped++;
      return undefined;
    }
    const packet = openRelay(bytes, this.registered.relayKey);
    if (typeof packet === 'string' || packet.to !== this.registered.tag) {
      this.stats.relayDropped++;
      return undefined;
    }
    if (!this.relayWindow.check(packet.counter)) {
      this.stats.relayDropped++;
      return undefined;
    }
    this.relayWindow.mark(packet.counter);
    this.stats.relayedIn++;
    return { inner: packet.inner, from: relayedAddress(packet.from) };
  }
}
