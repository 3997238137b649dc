/**
 * What encryption promises: nothing readable on the wire, nothing replayed, tampered, forged or
 * sent by a third party is delivered or acted on, floods stay bounded, and a peer that changes
 * address keeps its chat. All on virtual time.
 */
import NoiseState from 'noise-handshake';
import noiseProtocol from 'noise-protocol';
import { describe, expect, it } from 'vitest';
import {
  dataHeader,
  decodePacket,
  EPOCH_PACKETS,
  encodePacket,
  generateKeyPair,
  PROLOGUE,
  REKEY_AFTER_MS,
  REPLAY_WINDOW,
  ReplayWindow,
} from '../src/index.js';
import { Channel } from '../src/secure/channel.js';
import { textFragment } from '../src/testing/fragments.js';
import { RawPeer } from './support/raw-peer.js';
import { eventsOf, openPair, VirtualNetwork } from './support/virtual-network.js';

function chat(seed = 1) {
  const net = new VirtualNetwork(seed);
  const pair = openPair(net);
  const { a, b, sa, sb } = pair;
  const texts = ['the secret recipe is in the blue folder', 'ok, burn after reading'];
  a.endpoint.send(sa, texts[0] as string, net.now);
  net.runFor(200);
  b.endpoint.send(sb, texts[1] as string, net.now);
  net.runFor(200);
  return { net, ...pair, texts };
}

const contains = (haystack: Uint8Array, needle: string) =>
  Buffer.from(haystack).includes(Buffer.from(needle, 'utf8'));

describe('on the wire', () => {
  it('no text or nick of a whole session appears in any datagram', () => {
    const { a, b, texts } = chat();
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual([texts[0]]);
    const all = [...a.sent, ...b.sent];
    expect(all.length).toBeGreaterThan(8);
    for (const secret of [...texts, 'alice', 'bob', 'secret', 'folder']) {
      expect(all.filter((s) => contains(s.data, secret))).toEqual([]);
    }
    // Every datagram is a version-2 packet; session messages only ever travel sealed in data packets.
    for (const s of all) expect(decodePacket(s.data).ok).toBe(true);
    expect(
      all
        .filter((s) => s.message)
        .every(
          (s) =>
            decodePacket(s.data).ok &&
            (decodePacket(s.data) as { datagram: { type: string } }).datagram.type === 'data',
        ),
    ).toBe(true);
  });

  it('shows each side the verified key of the other', () => {
    const { a, b } = chat();
    const request = eventsOf(b, 'request')[0];
    const accepted = eventsOf(a, 'accepted')[0];
    expect(request?.publicKey).toBe(Buffer.from(a.endpoint.identity.publicKey).toString('hex'));
    expect(accepted?.publicKey).toBe(Buffer.from(b.endpoint.identity.publicKey).toString('hex'));
    expect(request?.fingerprint).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
  });
});

describe('hostile datagrams are dropped, counted, and harm nothing', () => {
  it('replaying every captured datagram delivers nothing twice', () => {
    const { net, a, b, sa } = chat();
    const before = eventsOf(b, 'message').length;
    for (const s of a.sent) net.inject(b, a.address, s.data);
    net.runFor(100);
    expect(eventsOf(b, 'message')).toHaveLength(before);
    expect(b.endpoint.secureStats.replayed).toBeGreaterThan(0);
    a.endpoint.send(sa, 'still works', net.now);
    net.runFor(200);
    expect(eventsOf(b, 'message').at(-1)?.text).toBe('still works');
  });

  it('a single flipped bit anywhere in any captured datagram gets nothing delivered', () => {
    const { net, a, b, sa } = chat();
    const before = eventsOf(b, 'message').length;
    const captured = a.sent.filter((s) => s.message).map((s) => s.data);
    let flips = 0;
    for (const data of captured) {
      for (let bit = 0; bit < data.length * 8; bit += 7) {
        const flipped = Uint8Array.from(data);
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
        net.inject(b, a.address, flipped);
        flips++;
      }
    }
    expect(flips).toBeGreaterThan(100);
    expect(eventsOf(b, 'message')).toHaveLength(before);
    const s = b.endpoint.secureStats;
    expect(s.forged + s.replayed + s.malformedPackets + s.unknownChannel).toBe(flips);
    a.endpoint.send(sa, 'unharmed', net.now);
    net.runFor(200);
    expect(eventsOf(b, 'message').at(-1)?.text).toBe('unharmed');
  });

  it('forged data packets, from the right address or another, are never delivered', () => {
    const { net, a, b } = chat();
    const before = eventsOf(b, 'message').length;
    const real = decodePacket(a.sent.filter((s) => s.message).at(-1)?.data ?? new Uint8Array());
    if (!real.ok || real.datagram.type !== 'data') throw new Error('expected a data packet');
    const index = real.datagram.receiverIndex;
    for (let i = 0; i < 50; i++) {
      const counter = real.datagram.counter + 1 + i;
      const forged = new Uint8Array([...dataHeader(index, counter), ...new Uint8Array(60).fill(i)]);
      net.inject(b, i % 2 === 0 ? a.address : { host: '127.0.0.66', port: 6666 }, forged);
    }
    expect(eventsOf(b, 'message')).toHaveLength(before);
    expect(b.endpoint.secureStats.forged).toBe(50);
  });

  it('a third peer that knows both addresses cannot reach into their session', () => {
    const { net, a, b, sa } = chat();
    const intruder = net.attach(new RawPeer(), '127.0.0.3', 3333);
    intruder.endpoint.connect(b.address, net.now);
    net.run(() => intruder.endpoint.channel !== undefined, net.now + 1_000);
    // It guesses the session id: every text it sends goes to a session of its own channel, of which there is none.
    const session = b.endpoint.listSessions()[0];
    for (let id = 0; id < 100; id++) {
      intruder.endpoint.send(textFragment(id, 0, 'injected'));
      intruder.endpoint.send({ type: 'disconnect', session: id });
    }
    net.runFor(200);
    expect(eventsOf(b, 'message').map((e) => e.text)).not.toContain('injected');
    expect(eventsOf(b, 'closed')).toEqual([]);
    expect(b.endpoint.stats.unknownSession).toBeGreaterThanOrEqual(200);
    expect(b.endpoint.session(session?.id ?? -1)?.state).toBe('open');
    a.endpoint.send(sa, 'only from a', net.now);
    net.runFor(200);
    expect(eventsOf(b, 'message').at(-1)?.text).toBe('only from a');
  });
});

describe('the handshake keeps no state for addresses it has not validated', () => {
  it('answers inits directly until under load, then with smaller cookie replies, keeping nothing more', () => {
    const net = new VirtualNetwork();
    const b = net.add('127.0.0.2', 2222);
    const init = encodePacket({
      type: 'handshake_init',
      senderIndex: 1,
      cookie: new Uint8Array(16),
      noise: new Uint8Array(32).fill(9),
    });
    for (let port = 10_000; port < 10_500; port++) net.inject(b, { host: '127.0.0.1', port }, init);
    // The first 128 half-done handshakes put it under load; every later init gets a cookie reply.
    expect(b.endpoint.secureSizes).toMatchObject({ channels: 0, pending: 128 });
    expect(b.endpoint.secureStats.cookiesSent).toBe(500 - 128);
    // Never more bytes to an unproven address than it sent.
    for (const s of b.sent) expect(s.data.length).toBeLessThanOrEqual(init.length);
    expect(b.sent.filter((s) => s.data.length < init.length)).toHaveLength(500 - 128);
  });

  it('under load, answers a repeated init with the same response, asking no cookie (PROTOCOL.md, Handshake step 4)', () => {
    const net = new VirtualNetwork();
    const b = net.add('127.0.0.2', 2222);
    const init = encodePacket({
      type: 'handshake_init',
      senderIndex: 1,
      cookie: new Uint8Array(16),
      noise: new Uint8Array(32).fill(9),
    });
    const first = { host: '127.0.0.1', port: 10_000 };
    net.inject(b, first, init);
    const response = b.sent.at(-1)?.data;
    expect(response?.[3]).toBe(3); // handshake_response
    for (let port = 10_001; port < 10_200; port++) net.inject(b, { host: '127.0.0.1', port }, init);
    expect(b.endpoint.secureStats.cookiesSent).toBeGreaterThan(0); // under load now
    const cookies = b.endpoint.secureStats.cookiesSent;
    net.inject(b, first, init);
    expect(b.sent.at(-1)?.to).toEqual(first);
    expect(Buffer.from(b.sent.at(-1)?.data ?? []).equals(Buffer.from(response ?? []))).toBe(true);
    expect(b.endpoint.secureStats.cookiesSent).toBe(cookies);
    // The same address and index with another message 1 is a new attempt: under load, a cookie first.
    net.inject(
      b,
      first,
      encodePacket({
        type: 'handshake_init',
        senderIndex: 1,
        cookie: new Uint8Array(16),
        noise: new Uint8Array(32).fill(7),
      }),
    );
    expect(b.sent.at(-1)?.data[3]).toBe(2); // cookie_reply
  });

  it('under a flood of valid handshakes from many ports, memory stays bounded and a real peer still connects', () => {
    const net = new VirtualNetwork();
    const b = net.add('127.0.0.2', 2222);
    // 2,000 attackers that each complete the cookie round trip and send a valid message 1, then vanish.
    const attackers = Array.from({ length: 2000 }, (_, i) =>
      net.attach(new RawPeer(), '127.0.0.66', 20_000 + i),
    );
    for (const attacker of attackers) attacker.endpoint.connect(b.address, net.now);
    net.filter = (from, to) => !(from.host === '127.0.0.2' && to.host === '127.0.0.66' && net.now > 12); // they never finish
    const friend = net.add('127.0.0.3', 3333);
    friend.endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length > 0, net.now + 10_000);
    expect(eventsOf(b, 'request').map((e) => e.peer)).toEqual([friend.address]);
    expect(b.endpoint.secureSizes.pending).toBeLessThanOrEqual(1024);
    // The attackers retry until their own 30 s run out; then the half-done handshakes expire.
    net.runFor(40_000);
    expect(b.endpoint.secureSizes.pending).toBe(0);
  });

  it('drops, never throws on, a handshake whose ephemeral key is degenerate (all zeros)', () => {
    const net = new VirtualNetwork();
    const b = net.add('127.0.0.2', 2222);
    const from = { host: '127.0.0.1', port: 5555 };
    const init = encodePacket({
      type: 'handshake_init',
      senderIndex: 9,
      cookie: new Uint8Array(16),
      noise: new Uint8Array(32),
    });
    expect(() => net.inject(b, from, init)).not.toThrow();
    expect(b.endpoint.secureStats.badHandshakes).toBe(1);
    expect(b.endpoint.secureSizes).toMatchObject({ channels: 0, pending: 0 });
    expect(b.sent).toEqual([]);
  });

  it('under load, rate-limits handshakes per source host, whatever the port', () => {
    const net = new VirtualNetwork();
    const b = net.add('127.0.0.2', 2222);
    // 200 half-done handshakes from elsewhere put b under load.
    for (let i = 0; i < 200; i++)
      net.attach(new RawPeer(), '127.0.0.77', 30_000 + i).endpoint.connect(b.address, net.now);
    net.filter = (from, to) => !(from.host === '127.0.0.2' && to.host === '127.0.0.77');
    net.collect();
    // One host, 40 ports: the cookie round trip works for each, the handshakes stop at the host's burst.
    const spammers = Array.from({ length: 40 }, (_, i) => net.attach(new RawPeer(), '127.0.0.66', 6000 + i));
    for (const spammer of spammers) spammer.endpoint.connect(b.address, net.now);
    net.runFor(50);
    expect(b.endpoint.secureStats.handshakesRateLimited).toBeGreaterThan(0);
    expect(spammers.filter((s) => s.endpoint.channel !== undefined)).toHaveLength(10);
  });
});

describe('roaming', () => {
  it('follows a peer to its new address after it answers a challenge there, losing nothing', () => {
    const net = new VirtualNetwork(7);
    const { a, b, sa, sb } = openPair(net);
    a.endpoint.send(sa, 'before the move', net.now);
    net.runFor(200);
    const moved = net.rebind(a, 4444); // a's NAT gives it a new port
    a.endpoint.send(sa, 'from the new port', net.now);
    b.endpoint.send(sb, 'reply after the move', net.now);
    net.runFor(2_000);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['before the move', 'from the new port']);
    expect(eventsOf(a, 'message').map((e) => e.text)).toEqual(['reply after the move']);
    expect(b.endpoint.session(sb)?.peer).toEqual(moved);
    expect(b.endpoint.secureStats.pathMoves).toBe(1);
    expect(eventsOf(a, 'failed').length + eventsOf(b, 'failed').length).toBe(0);
  });

  it('a peer whose NAT rebound while its line was lost resends it when challenged at its new address, not at its backed-off timer', () => {
    const net = new VirtualNetwork(7);
    net.conditions = { latency: 20, jitter: 0, loss: 0, duplicate: 0 };
    const { a, b, sa } = openPair(net);
    a.endpoint.send(sa, 'before', net.now);
    net.runFor(500);
    // a's datagrams are lost for 3 s (its retransmission timer backs off), then its NAT rebinds.
    const darkUntil = net.now + 3_000;
    net.filter = (from) => from.port !== a.address.port || net.now > darkUntil;
    a.endpoint.send(sa, 'while dark', net.now);
    net.runFor(3_000);
    net.rebind(a, 4444);
    const rebound = net.now;
    a.endpoint.send(sa, 'after', net.now);
    expect(net.run(() => eventsOf(b, 'message').length === 3, net.now + 20_000)).toBe(true);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['before', 'while dark', 'after']);
    // 'after' reaches b from the new port, b challenges it there, a answers and resends 'while
    // dark' at once: about three one-way trips (it was 260 ms: a's timer, its backoff reset only
    // by the acknowledgement of 'after').
    expect(net.now - rebound).toBeLessThan(150);
  });

  it('never moves for a replayed packet sent from another address', () => {
    const net = new VirtualNetwork();
    const { a, b, sa, sb } = openPair(net);
    a.endpoint.send(sa, 'hello', net.now);
    net.runFor(200);
    const evil = { host: '127.0.0.66', port: 6666 };
    for (const s of a.sent.filter((x) => x.message)) net.inject(b, evil, s.data);
    net.runFor(2_000);
    expect(b.endpoint.session(sb)?.peer).toEqual(a.address);
    expect(b.endpoint.secureStats.pathMoves).toBe(0);
    expect(b.sent.filter((s) => s.to.host === evil.host)).toEqual([]);
  });
});

describe('rekeying', () => {
  it('moves to the next key after REKEY_AFTER_MS without interrupting the chat', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net);
    for (let minute = 0; minute < 5; minute++) {
      a.endpoint.send(sa, `minute ${minute}`, net.now);
      net.runFor(60_000);
    }
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual([0, 1, 2, 3, 4].map((m) => `minute ${m}`));
    const packets = a.sent.filter((s) => s.message).map((s) => decodePacket(s.data));
    const epochs = new Set(
      packets.map((p) =>
        p.ok && p.datagram.type === 'data' ? Math.floor(p.datagram.counter / EPOCH_PACKETS) : -1,
      ),
    );
    expect(epochs.size).toBeGreaterThanOrEqual(2);
    expect(REKEY_AFTER_MS).toBe(120_000);
  });

  it('opens a late packet of the previous key, but none from two keys back or ahead', () => {
    const alice = new Channel(1, { host: '127.0.0.1', port: 1 }, true, 0);
    const bob = new Channel(2, { host: '127.0.0.1', port: 2 }, false, 0);
    const k1 = new Uint8Array(32).fill(1);
    const k2 = new Uint8Array(32).fill(2);
    alice.establish(2, new Uint8Array(32), k1, k2, 0);
    bob.establish(1, new Uint8Array(32), k2, k1, 0);
    const open = (packet: Uint8Array) => {
      const p = decodePacket(packet);
      if (!p.ok || p.datagram.type !== 'data') throw new Error('not data');
      return bob.open(p.datagram.counter, packet.subarray(0, 16), p.datagram.ciphertext);
    };
    const late = alice.seal(new TextEncoder().encode('epoch 0'), 0);
    const next = alice.seal(new TextEncoder().encode('epoch 1'), REKEY_AFTER_MS);
    expect(alice.sendCounter).toBe(EPOCH_PACKETS + 1);
    expect(open(next)).toMatchObject({ ok: true });
    expect(open(late)).toMatchObject({ ok: true });
    expect(open(late)).toMatchObject({ ok: false, reason: 'replay' });
    alice.seal(new Uint8Array(0), 2 * REKEY_AFTER_MS); // epoch 2
    const far = alice.seal(new Uint8Array(0), 3 * REKEY_AFTER_MS); // epoch 3: two ahead of bob's 1
    expect(open(far)).toMatchObject({ ok: false, reason: 'stale_epoch' });
  });
});

describe('replay window (RFC 6479)', () => {
  it('accepts each counter once, in any order within the window, and nothing older', () => {
    const w = new ReplayWindow();
    for (const c of [5, 3, 4, 100, 6]) {
      expect(w.mayAccept(c)).toBe(true);
      w.mark(c);
    }
    for (const c of [5, 3, 4, 100, 6]) expect(w.mayAccept(c)).toBe(false);
    expect(w.mayAccept(99)).toBe(true);
    w.mark(100 + REPLAY_WINDOW);
    expect(w.mayAccept(100)).toBe(false); // fell out of the window
    expect(w.mayAccept(101)).toBe(true);
    expect(REPLAY_WINDOW).toBeGreaterThanOrEqual(1024);
    w.mark(10_000_000);
    expect(w.mayAccept(10_000_000 - REPLAY_WINDOW + 1)).toBe(true);
    expect(w.mayAccept(10_000_000 - REPLAY_WINDOW)).toBe(false);
  });
});

describe('interoperability', () => {
  it('our handshake (noise-handshake) completes against an independent Noise implementation (noise-protocol)', () => {
    const ours = new NoiseState('XX', true, generateKeyPair());
    ours.initialise(PROLOGUE);
    const theirStatic = noiseProtocol.keygen();
    const theirs = noiseProtocol.initialize('XX', false, Buffer.from(PROLOGUE), theirStatic);
    const scratch = Buffer.alloc(1024);
    noiseProtocol.readMessage(theirs, Buffer.from(ours.send()), Buffer.alloc(0));
    noiseProtocol.writeMessage(theirs, Buffer.alloc(0), scratch);
    ours.recv(scratch.subarray(0, noiseProtocol.writeMessage.bytes));
    const split = noiseProtocol.readMessage(theirs, Buffer.from(ours.send()), Buffer.alloc(0));
    expect(ours.complete).toBe(true);
    // noise-protocol keeps a 32-byte key and an 8-byte nonce together.
    expect(Buffer.from(split.rx.subarray(0, 32)).equals(Buffer.from(ours.tx as Uint8Array))).toBe(true);
    expect(Buffer.from(split.tx.subarray(0, 32)).equals(Buffer.from(ours.rx as Uint8Array))).toBe(true);
    expect(Buffer.from(ours.rs as Uint8Array).equals(theirStatic.publicKey)).toBe(true);
  });
});
