/**
 * Interop: netchat (NetchatPeer, on loopback) against an independent peer written from
 * PROTOCOL.md alone (test/interop/). Each side connects to the other; text both ways (emoji,
 * 64 KiB); closing both ways; declines; presence; heartbeats and liveness; a restart; cookies
 * under load both ways; rekeying; roaming; messages for unknown sessions; simultaneous open;
 * limits. Waits are for conditions, bounded; every peer is closed at the end.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { NetchatPeer } from '../src/index.js';
import { bigText, Stage } from './interop/harness.js';
import {
  type IndependentPeer,
  type PeerEvent,
  x25519KeyPair,
  XXHandshake,
  encodePacket,
} from './interop/index.mjs';
import { LossyRelay } from './support/lossy-relay.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const SIXTY_FOUR_KIB = 65_536;

let stage: Stage;
afterEach(async () => {
  await stage.close();
});

/** The independent peer asks netchat; netchat accepts. Both sides' session handles. */
async function independentAsks(
  s: Stage,
  n: NetchatPeer,
  p: IndependentPeer,
): Promise<{ ps: number; ns: number }> {
  n.on('request', (e) => n.accept(e.session));
  const ps = p.connect('127.0.0.1', n.address.port);
  await s.recorder.waitFor('P', 'accepted', (e) => e.session === ps);
  const request = await s.recorder.waitFor('N', 'request');
  return { ps, ns: request.session as number };
}

function expectClean(n: NetchatPeer, p: IndependentPeer): void {
  expect(p.errors).toEqual([]);
  expect(p.stats.malformedMessages).toBe(0);
  // netchat sends a `features` before each request and accept; a peer without capabilities drops
  // them (PROTOCOL.md *Capabilities*), and the chat goes on as text only.
  expect(p.stats.featuresIgnored).toBeGreaterThan(0);
  expect(p.secure.stats.forged).toBe(0);
  expect(n.stats.malformed).toBe(0);
  expect(n.stats.protocolErrors).toBe(0);
}

describe('interop: the independent peer and netchat', () => {
  it('the independent peer connects to netchat: text both ways (emoji, 64 KiB), then it closes', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const p = await stage.independent('P', { nick: 'indie 🐢' });
    const { ps, ns } = await independentAsks(stage, n, p);

    const request = r.of('N', 'request')[0] as PeerEvent;
    expect(request.nick).toBe('indie 🐢');
    expect(request.publicKey).toBe(hex(p.publicKey));
    expect(request.fingerprint).toBe(p.fingerprint);
    expect(r.of('P', 'accepted')[0]?.nick).toBe('N');

    const fromP = ['hello 👋🏽 ✓', bigText(SIXTY_FOUR_KIB), '末尾 🇫🇷'];
    const ids = fromP.map((t) => p.send(ps, t));
    const fromN = ['back 🎉', bigText(SIXTY_FOUR_KIB), 'ok'];
    const nIds = fromN.map((t) => n.send(ns, t));
    await r.until(
      () => r.of('N', 'message').length === 3 && r.of('P', 'message').length === 3,
      20_000,
      'messages',
    );
    expect(r.of('N', 'message').map((e) => e.text)).toEqual(fromP);
    expect(r.of('P', 'message').map((e) => e.text)).toEqual(fromN);
    await r.until(
      () => r.of('P', 'delivered').length === 3 && r.of('N', 'delivered').length === 3,
      10_000,
      'delivered',
    );
    expect(r.of('P', 'delivered').map((e) => e.messageId)).toEqual(ids);
    expect(r.of('N', 'delivered').map((e) => e.messageId)).toEqual(nIds);

    p.closeSession(ps);
    const closed = await r.waitFor('N', 'closed');
    expect(closed.reason).toBe('peer_closed');
    await r.until(() => p.session(ps) === undefined, 5000, 'the independent session forgotten');
    expect(n.session(ns)).toBeUndefined();
    expect(r.of('N', 'failed')).toEqual([]);
    expect(r.of('P', 'failed')).toEqual([]);
    expectClean(n, p);
  });

  it('netchat connects to the independent peer: text both ways, then netchat closes', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const p = await stage.independent('P', { onRequest: () => 'accept' });
    const ns = await n.connect('127.0.0.1', p.address.port);
    const accepted = await r.waitFor('N', 'accepted', (e) => e.session === ns);
    expect(accepted.nick).toBe('P');
    expect(accepted.publicKey).toBe(hex(p.publicKey));
    const ps = (await r.waitFor('P', 'request')).session as number;
    expect(r.of('P', 'request')[0]?.publicKey).toBe(hex(n.publicKey));

    const big = bigText(SIXTY_FOUR_KIB);
    n.send(ns, big);
    n.send(ns, '👩‍👩‍👧‍👦');
    p.send(ps, big);
    await r.until(
      () => r.of('P', 'message').length === 2 && r.of('N', 'message').length === 1,
      20_000,
      'messages',
    );
    expect(r.of('P', 'message').map((e) => e.text)).toEqual([big, '👩‍👩‍👧‍👦']);
    expect(r.of('N', 'message')[0]?.text).toBe(big);
    await r.until(
      () => r.of('N', 'delivered').length === 2 && r.of('P', 'delivered').length === 1,
      10_000,
      'acks',
    );

    n.closeSession(ns);
    expect((await r.waitFor('P', 'closed')).reason).toBe('peer_closed');
    await r.until(() => n.session(ns) === undefined, 5000, 'netchat forgot the session');
    expectClean(n, p);
  });

  it('send, then close at once: the message is delivered before the close, both ways', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const p = await stage.independent('P');
    const { ps } = await independentAsks(stage, n, p);
    const big = bigText(SIXTY_FOUR_KIB);
    p.send(ps, big);
    p.closeSession(ps);
    await r.waitFor('N', 'closed');
    expect(r.of('N', 'message').map((e) => e.text)).toEqual([big]);
    expect(r.of('P', 'delivered')).toHaveLength(1);

    const ns2 = await n.connect('127.0.0.1', p.address.port);
    const ps2 = (await r.waitFor('P', 'request')).session as number;
    p.accept(ps2);
    await r.waitFor('N', 'accepted', (e) => e.session === ns2);
    n.send(ns2, big);
    n.closeSession(ns2);
    await r.waitFor('P', 'closed', (e) => e.session === ps2);
    expect(r.of('P', 'message').map((e) => e.text)).toEqual([big]);
    expect(r.of('N', 'delivered').filter((e) => e.session === ns2)).toHaveLength(1);
    expectClean(n, p);
  });

  it('declines both ways carry the reason and the detail', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const p = await stage.independent('P', { onRequest: () => ({ reason: 'busy', detail: 'in a chat' }) });
    const ns = await n.connect('127.0.0.1', p.address.port);
    const declined = await r.waitFor('N', 'declined', (e) => e.session === ns);
    expect([declined.reason, declined.detail]).toEqual(['busy', 'in a chat']);

    n.on('request', (e) => n.decline(e.session, 'not_allowed', 'only friends ✓'));
    const ps = p.connect('127.0.0.1', n.address.port);
    const mine = await r.waitFor('P', 'declined', (e) => e.session === ps);
    expect([mine.reason, mine.detail]).toEqual(['not_allowed', 'only friends ✓']);
    expect(p.session(ps)).toBeUndefined();
    expectClean(n, p);
  });

  it('heartbeats keep an idle session, both ways; then each side finds the other lost', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const I = 500;
    const n = await stage.netchat('N', { heartbeatInterval: I });
    const p = await stage.independent('P', { heartbeatMs: I });
    const { ps, ns } = await independentAsks(stage, n, p);
    const session = p.session(ps);
    expect(session?.heartbeatMs).toBe(I);
    // Six intervals of silence but for heartbeats. (Exact timing is checked on a virtual clock in
    // interop-conformance.test.ts; here only that real heartbeats keep the session.)
    await r.until(
      () => (session?.stats.heartbeatsSent ?? 0) >= 6 && r.of('N', 'heartbeat_sent').length >= 6,
      20_000,
      'heartbeats',
    );
    expect(r.of('N', 'lost')).toEqual([]);
    expect(r.of('P', 'lost')).toEqual([]);
    expect(n.session(ns)?.state).toBe('open');
    expect(session?.state).toBe('open');
    expect(session?.stats.acksSent).toBeGreaterThanOrEqual(5); // every heartbeat answered
    expect(n.session(ns)?.rtt).toBeDefined();

    // The independent peer stops hearing netchat: it finds netchat lost, 3I + I/2 after the last
    // thing it heard at the earliest, reporting misses 1, 2 and 3 on the way.
    const mark = r.mark();
    (p as unknown as { options: { inbound: () => boolean } }).options.inbound = () => false;
    const heardAt = session?.lastHeard ?? 0;
    const lost = await r.waitFor('P', 'lost', (e) => e.session === ps, 10_000);
    expect(lost.missed).toBe(3);
    expect(p.now() - heardAt).toBeGreaterThanOrEqual(3 * I + I / 2 - 1);
    expect(r.of('P', 'heartbeat_missed', mark).map((e) => e.count)).toEqual([1, 2, 3]);
    expect(session?.stats.probesSent).toBeGreaterThanOrEqual(2); // after the first miss, every I/8
    // The independent side's session ended and it sends nothing more: netchat loses it too.
    await r.until(() => n.session(ns) === undefined, 10_000, 'netchat ended the session');
    expect(p.errors).toEqual([]);
  });

  it('netchat finds a frozen independent peer lost, not before miss limit × I + I/2 of silence', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const I = 200;
    const n = await stage.netchat('N', { heartbeatInterval: I });
    const p = await stage.independent('P', { heartbeatMs: I });
    const { ns } = await independentAsks(stage, n, p);
    await r.until(() => r.of('N', 'heartbeat_sent').length >= 3, 5000, 'a few heartbeats');
    const mark = r.mark();
    await p.stop(); // no disconnect: as a process that froze
    const heardAt = n.session(ns)?.lastHeard ?? 0;
    const lost = await r.waitFor('N', 'lost', (e) => e.session === ns, 10_000);
    expect(n.now() - heardAt).toBeGreaterThanOrEqual(3 * I + I / 2 - 1);
    expect(lost.missed).toBe(3);
    expect(r.of('N', 'heartbeat_missed', mark).map((e) => e.count)).toEqual([1, 2, 3]);
  });

  it('presence both ways: nick changes and typing', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const p = await stage.independent('P');
    const { ps, ns } = await independentAsks(stage, n, p);
    p.setNick('robert');
    expect(p.setTyping(ps, true)).toBe(true);
    await r.until(() => r.of('N', 'presence').length === 2, 5000, 'presence at netchat');
    expect(r.of('N', 'presence').map((e) => [e.nick, e.typing])).toEqual([
      ['robert', false],
      ['robert', true],
    ]);
    expect(n.session(ns)?.peerNick).toBe('robert');
    n.setNick('alice ✓');
    n.setTyping(ns, true);
    await r.until(() => r.of('P', 'presence').length === 2, 5000, 'presence at the independent peer');
    expect(r.of('P', 'presence').map((e) => [e.nick, e.typing])).toEqual([
      ['alice ✓', false],
      ['alice ✓', true],
    ]);
    expect(p.session(ps)?.peerNick).toBe('alice ✓');
    expectClean(n, p);
  });

  it('a restart of the independent peer (same key, same port) ends its old session at netchat at once', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const secret = x25519KeyPair().secret;
    const p1 = await stage.independent('P', { staticSecret: secret });
    const port = p1.address.port;
    const { ps, ns } = await independentAsks(stage, n, p1);
    p1.send(ps, 'before');
    await r.waitFor('N', 'message');
    await p1.stop(); // killed: no disconnect
    const unsent = n.send(ns, 'into the void');

    const p2 = await stage.independent('P2', { staticSecret: secret, port });
    const ps2 = p2.connect('127.0.0.1', n.address.port);
    const closed = await r.waitFor('N', 'closed', (e) => e.session === ns);
    expect(closed.reason).toBe('peer_restarted');
    expect(r.of('N', 'failed').find((e) => e.messageId === unsent)?.reason).toBe('peer_restarted');
    await r.waitFor('P2', 'accepted', (e) => e.session === ps2);
    p2.send(ps2, 'after');
    await r.until(() => r.of('N', 'message').length === 2, 5000, 'the message after the restart');
    expect(r.of('N', 'message').map((e) => e.text)).toEqual(['before', 'after']);
    expectClean(n, p2);
  });

  it('the same key from a new port (a restart elsewhere): netchat probes the old session and loses it within 2 × RTO', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const secret = x25519KeyPair().secret;
    const p1 = await stage.independent('P', { staticSecret: secret });
    const { ns } = await independentAsks(stage, n, p1);
    const oldPort = p1.address.port;
    await p1.stop(); // gone without a word
    const p2 = await stage.independent('P2', { staticSecret: secret });
    expect(p2.address.port).not.toBe(oldPort);
    const startedAt = n.now();
    const ps2 = p2.connect('127.0.0.1', n.address.port);
    await r.waitFor('P2', 'accepted', (e) => e.session === ps2);
    await r.waitFor('N', 'lost', (e) => e.session === ns, 10_000);
    // Probed at once, lost 2 × RTO later (the RTO is at least 200 ms): not before 400 ms.
    expect(n.now() - startedAt).toBeGreaterThanOrEqual(400);
    expect(r.of('N', 'closed').filter((e) => e.session === ns)).toEqual([]); // lost, not restarted
    expectClean(n, p2);
  });

  it('cookies: netchat under load makes the independent peer prove its address, and the reverse', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const p = await stage.independent('P');
    // 140 half-done handshakes from another socket put netchat under load (128 or more).
    const flood = dgram.createSocket('udp4');
    stage.onCleanup(() => new Promise((done) => flood.close(() => done(undefined))));
    await new Promise<void>((done) => flood.bind(0, '127.0.0.1', () => done()));
    const staticKey = x25519KeyPair();
    for (let i = 1; i <= 140; i++) {
      const noise = new XXHandshake(true, staticKey).writeMessage1();
      flood.send(
        encodePacket({ type: 'handshake_init', senderIndex: i, noise }),
        n.address.port,
        '127.0.0.1',
      );
    }
    await r.until(() => n.endpoint.secureSizes.pending >= 128, 5000, 'netchat under load');
    const { ps } = await independentAsks(stage, n, p);
    expect(p.secure.stats.cookieRepliesReceived).toBeGreaterThanOrEqual(1);
    expect(n.secureStats.cookiesSent).toBeGreaterThanOrEqual(1);
    p.send(ps, 'proved');
    await r.waitFor('N', 'message', (e) => e.text === 'proved');

    // The independent peer as a responder that always demands a cookie.
    const q = await stage.independent('Q', { demandCookies: true, onRequest: () => 'accept' });
    const ns = await n.connect('127.0.0.1', q.address.port);
    await r.waitFor('N', 'accepted', (e) => e.session === ns);
    expect(q.secure.stats.cookiesSent).toBeGreaterThanOrEqual(1);
    expect(q.secure.stats.cookiesAccepted).toBeGreaterThanOrEqual(1);
    n.send(ns, 'with a cookie');
    await r.waitFor('Q', 'message', (e) => e.text === 'with a cookie');
    expectClean(n, q);
  });

  it('rekeying: the independent peer moves to the next key epochs mid-chat and netchat follows', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const p = await stage.independent('P');
    const { ps, ns } = await independentAsks(stage, n, p);
    for (let epoch = 1; epoch <= 3; epoch++) {
      p.rekeyAll();
      p.send(ps, `epoch ${epoch}`);
      await r.waitFor('N', 'message', (e) => e.text === `epoch ${epoch}`);
    }
    expect(p.session(ps)?.channel.sendCounter).toBeGreaterThan(3 * 2 ** 24);
    n.send(ns, 'still here');
    await r.waitFor('P', 'message', (e) => e.text === 'still here');
    await r.until(() => r.of('P', 'delivered').length === 3, 5000, 'acks in the new epochs');
    expect(n.secureStats.forged).toBe(0);
    expectClean(n, p);
  });

  it('replayed, very old and forged data packets are dropped and counted by netchat, never delivered', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const sent: Uint8Array[] = [];
    const p = await stage.independent('P', {
      outbound: (_to, data) => {
        sent.push(data.slice());
        return true;
      },
    });
    const { ps } = await independentAsks(stage, n, p);
    p.send(ps, 'only once');
    await r.waitFor('N', 'message', (e) => e.text === 'only once');
    const packet = sent.findLast((d) => d[3] === 5 && d.length > 40) ?? new Uint8Array();
    // The same datagram again (from the independent peer's own address: a copy on the path).
    const replayedBefore = n.secureStats.replayed;
    const forgedBefore = n.secureStats.forged;
    const channel = p.session(ps)?.channel;
    p.secure.transmit(packet, channel.address);
    // 2048 counters later, the first data packet is outside the window.
    channel.sendCounter += 2048;
    p.send(ps, 'far ahead');
    await r.waitFor('N', 'message', (e) => e.text === 'far ahead');
    const first = sent.find((d) => d[3] === 5) ?? new Uint8Array();
    p.secure.transmit(first, channel.address);
    // A forged one: a fresh counter (so the replay window lets it through to the AEAD), and the
    // ciphertext of another counter. (A changed copy of a counter already seen is a replay.)
    const forged = packet.slice();
    new DataView(forged.buffer).setBigUint64(8, BigInt(channel.sendCounter + 10));
    p.secure.transmit(forged, channel.address);
    p.send(ps, 'after them');
    await r.waitFor('N', 'message', (e) => e.text === 'after them');
    await r.until(() => n.secureStats.forged === forgedBefore + 1, 5000, 'the forgery counted');
    expect(n.secureStats.replayed).toBe(replayedBefore + 2);
    expect(r.of('N', 'message').map((e) => e.text)).toEqual(['only once', 'far ahead', 'after them']);
    expect(p.errors).toEqual([]);
  });

  it('roaming: the independent peer moves to a new port; netchat validates the path and follows', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const p = await stage.independent('P');
    const { ps, ns } = await independentAsks(stage, n, p);
    const before = p.address.port;
    await p.rebind();
    expect(p.address.port).not.toBe(before);
    p.send(ps, 'from my new port');
    await r.waitFor('N', 'message', (e) => e.text === 'from my new port');
    await r.until(() => n.session(ns)?.peer.port === p.address.port, 5000, 'netchat moved the channel');
    expect(n.secureStats.pathMoves).toBeGreaterThanOrEqual(1);
    n.send(ns, 'found you');
    await r.waitFor('P', 'message', (e) => e.text === 'found you');
    expectClean(n, p);
  });

  it('roaming: netchat appears from a new port (a NAT rebinding); the independent peer validates and follows', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const p = await stage.independent('P', { onRequest: () => 'accept' });
    const relay = await LossyRelay.start(p.address.port, { loss: 0, duplicate: 0, delay: 0, maxDelayMs: 0 });
    stage.onCleanup(async () => relay.close());
    const ns = await n.connect('127.0.0.1', relay.portForA);
    await r.waitFor('N', 'accepted', (e) => e.session === ns);
    const ps = (await r.waitFor('P', 'request')).session as number;
    n.send(ns, 'one');
    await r.waitFor('P', 'message', (e) => e.text === 'one');
    const newPort = await relay.switchPort();
    n.send(ns, 'two');
    await r.waitFor('P', 'message', (e) => e.text === 'two');
    await r.until(() => p.session(ps)?.channel.address.port === newPort, 5000, 'the independent peer moved');
    expect(p.secure.stats.pathChallengesSent).toBeGreaterThanOrEqual(1);
    p.send(ps, 'three');
    await r.waitFor('N', 'message', (e) => e.text === 'three');
    expectClean(n, p);
  });

  it('messages for unknown sessions are answered as PROTOCOL.md says, and malformed ones not at all', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N');
    const p = await stage.independent('P');
    const { ps } = await independentAsks(stage, n, p);
    const channel = p.session(ps)?.channel;
    const seen: { type: string; session: number }[] = [];
    p.on('wire_message', (w: { message: { type: string; session: number } }) => seen.push(w.message));
    const ask = async (message: Record<string, unknown>, marker: number) => {
      p.sendMessage(channel, message as never);
      // A heartbeat on a second unknown id after it: its answer (a disconnect) marks the end.
      p.sendMessage(channel, { type: 'heartbeat', session: marker, ack: 0, sack: 0, ackDelay: 0 });
      await r.until(() => seen.some((m) => m.session === marker), 5000, `the answer for ${marker}`);
      return seen.filter((m) => m.session === (message.session as number)).map((m) => m.type);
    };
    const ack = { ack: 0, sack: 0, ackDelay: 0 };
    expect(
      await ask(
        {
          type: 'text',
          session: 101,
          seq: 0,
          ...ack,
          fragmentIndex: 0,
          fragmentCount: 1,
          payload: Uint8Array.of(0x68),
        },
        901,
      ),
    ).toEqual(['disconnect']);
    expect(await ask({ type: 'heartbeat', session: 102, ...ack }, 902)).toEqual(['disconnect']);
    expect(await ask({ type: 'accept', session: 103, heartbeatMs: 1000, nick: 'x' }, 903)).toEqual([
      'disconnect',
    ]);
    expect(await ask({ type: 'disconnect', session: 104 }, 904)).toEqual(['disconnect_ack']);
    expect(await ask({ type: 'ack', session: 105, ...ack }, 905)).toEqual([]);
    expect(await ask({ type: 'presence', session: 106, activity: 'idle', nick: 'x' }, 906)).toEqual([]);
    expect(await ask({ type: 'decline', session: 107, reason: 'busy', detail: '' }, 907)).toEqual([]);
    expect(await ask({ type: 'disconnect_ack', session: 108 }, 908)).toEqual([]);
    // The independent peer answered every disconnect for a session it does not have with disconnect_ack.
    expect(p.stats.unknownSession).toBeGreaterThanOrEqual(8);

    // A message with an unknown code, inside an open session: dropped and counted, the chat goes on.
    const before = n.stats.malformed;
    channel.send(Uint8Array.of(0x4e, 0x43, 0x02, 0x0a, 0, 0, 0, 1), p.now());
    p.send(ps, 'still fine');
    await r.waitFor('N', 'message', (e) => e.text === 'still fine');
    expect(n.stats.malformed).toBe(before + 1);
    expect(p.errors).toEqual([]);
  });

  it.each([
    ['the independent id is the larger', 0xffff_fffe],
    ['netchat id is the larger', 1],
  ])(
    'simultaneous open: both ask at once (nobody accepts) and end in one session with the larger id (%s)',
    async (_, fixedId) => {
      stage = new Stage();
      const r = stage.recorder;
      const n = await stage.netchat('N');
      const p = await stage.independent('P');
      const requestIds: number[] = [];
      p.on('wire_message', (w: { message: { type: string; session: number } }) => {
        if (w.message.type === 'connect_request') requestIds.push(w.message.session);
      });
      const ps = p.connect('127.0.0.1', n.address.port, { wireId: fixedId });
      const mine = p.session(ps)?.wireId ?? 0;
      const ns = await n.connect('127.0.0.1', p.address.port);
      await r.waitFor('N', 'accepted', (e) => e.session === ns, 10_000);
      await r.until(() => p.liveSessions().length === 1, 10_000, 'the independent side open');
      const theirs = requestIds[0] ?? 0;
      expect(theirs).not.toBe(mine);
      expect(p.liveSessions()[0]?.wireId).toBe(Math.max(mine, theirs));
      p.send(p.liveSessions()[0]?.handle ?? 0, 'one session');
      n.send(ns, 'and back');
      await r.waitFor('N', 'message', (e) => e.text === 'one session');
      await r.waitFor('P', 'message', (e) => e.text === 'and back');
      expect(p.liveSessions()).toHaveLength(1);
      expect(n.listSessions().filter((s) => s.state === 'open')).toHaveLength(1);
      expect(r.of('N', 'request')).toEqual([]);
      expect(r.of('P', 'request')).toEqual([]);
      expect(p.errors).toEqual([]);
    },
  );

  it('limits: a request past netchat maxSessionsPerPeer is declined too_many_sessions, on the same channel', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const n = await stage.netchat('N', { maxSessionsPerPeer: 1 });
    const p = await stage.independent('P');
    await independentAsks(stage, n, p);
    const second = p.connect('127.0.0.1', n.address.port);
    const declined = await r.waitFor('P', 'declined', (e) => e.session === second);
    expect(declined.reason).toBe('too_many_sessions');
    expect(p.secure.stats.handshakesCompleted).toBe(1); // one channel per peer address
    expect(p.errors).toEqual([]);
  });
});
