/**
 * The resend on a path change, attacked (session/outgoing.ts resendOnNewPath,
 * ReliableSender.pathChanged). A path challenge from a chat's own address counts as a path change
 * (its peer heard us from a new address) and makes the session resend at once what waits for an
 * acknowledgement, its backoff forgotten. A peer that acknowledges nothing and challenges us
 * from its own address, 100 times a second, must not turn the lines we sent it into a stream of
 * resends for as long as it likes: bytes out per byte in, measured against the same peer that
 * only stays silent. And an on-path stranger who copies one such challenge off the wire and
 * replays it 1,000 times moves nothing (the channel's replay window).
 */
import { describe, expect, it } from 'vitest';
import { PATH_CHALLENGE, PATH_TOKEN_BYTES } from '../src/secure/path-validation.js';
import { hostOf } from './support/rendezvous-lab.js';
import { eventsOf, openPair, VirtualNetwork } from './support/virtual-network.js';

const LINES = 100;
const LINE = 'x'.repeat(1_000);
const ATTACK_MS = 60_000;

/**
 * Alice sends Bob 100 lines of 1,000 bytes; from then on nothing Bob's endpoint sends reaches
 * her but what the test lets through: with `challenges`, a path challenge sealed on Bob's channel
 * every 10 ms (from his own address: the channel's). Bytes each way over 60 s.
 */
function attack(challenges: boolean) {
  const net = new VirtualNetwork();
  // Liveness is not what is measured here: heartbeats far apart keep the session open throughout.
  const { a: alice, b: bob, sa, sb } = openPair(net, { heartbeatInterval: 60_000 });
  const bobChannel = hostOf(bob.endpoint).channelOf(sb);
  if (!bobChannel) throw new Error('no channel');
  let bytesIn = 0;
  let challenge = false;
  net.filter = (from, to, data) => {
    if (from.host !== bob.address.host || to.host !== alice.address.host) return true;
    // Only the test's challenges get through: none of Bob's acknowledgements ever does.
    if (!challenge) return false;
    bytesIn += data.length;
    return true;
  };
  for (let i = 0; i < LINES; i++) alice.endpoint.send(sa, LINE, net.now);
  const start = net.now;
  const sentBefore = alice.sent.length;
  let seq = 0;
  while (net.now - start < ATTACK_MS) {
    if (challenges) {
      const payload = new Uint8Array(1 + PATH_TOKEN_BYTES);
      payload[0] = PATH_CHALLENGE;
      payload[1] = seq++ & 0xff;
      challenge = true;
      hostOf(bob.endpoint).sendControl(bobChannel.id, payload, net.now);
      net.runFor(0);
      challenge = false;
    }
    net.runFor(10);
  }
  const out = alice.sent.slice(sentBefore).filter((s) => s.to.host === bob.address.host);
  const bytesOut = out.reduce((sum, s) => sum + s.data.length, 0);
  return { bytesIn, bytesOut, packetsOut: out.length, alice, bob, net };
}

describe('resend on a path change, attacked', () => {
  it("a peer acknowledging nothing and challenging from its own address 100 times a second gets no more of the lines again than a silent one's timer sends", () => {
    const silent = attack(false);
    const hostile = attack(true);
    const ratio = hostile.bytesOut / Math.max(1, hostile.bytesIn);
    console.log(
      `[path-change resend] 100 lines of 1,000 bytes unacknowledged for 60 s: silent peer ${silent.packetsOut} packets ${silent.bytesOut} bytes out; challenging peer ${hostile.bytesIn} bytes in, ${hostile.packetsOut} packets ${hostile.bytesOut} bytes out (${ratio.toFixed(2)} per byte in)`,
    );
    // Each challenge is answered (a path response, its own size). Besides those, the whole
    // flight goes once more at most, on the first path change; after that, each backed-off
    // timeout sends its first fragment, as for a silent peer.
    const flight = LINES * (LINE.length + 100);
    expect(hostile.bytesOut).toBeLessThanOrEqual(silent.bytesOut + flight + hostile.bytesIn);
    expect(ratio).toBeLessThan(3);
  });

  it('an on-path stranger replaying one challenge from the chat’s address 1,000 times: one answer, nothing resent', () => {
    const net = new VirtualNetwork();
    const { a: alice, b: bob, sa, sb } = openPair(net, { heartbeatInterval: 60_000 });
    const bobChannel = hostOf(bob.endpoint).channelOf(sb);
    if (!bobChannel) throw new Error('no channel');
    // Alice's lines wait for Bob's acknowledgements, which never come.
    let copied: Uint8Array | undefined;
    let capture = false;
    net.filter = (from, to, data) => {
      if (from.host !== bob.address.host || to.host !== alice.address.host) return true;
      if (capture) copied = new Uint8Array(data);
      return false;
    };
    for (let i = 0; i < LINES; i++) alice.endpoint.send(sa, LINE, net.now);
    net.runFor(30_000);
    const payload = new Uint8Array(1 + PATH_TOKEN_BYTES);
    payload[0] = PATH_CHALLENGE;
    capture = true;
    hostOf(bob.endpoint).sendControl(bobChannel.id, payload, net.now);
    net.runFor(0);
    capture = false;
    if (!copied) throw new Error('no challenge copied');
    const sentBefore = alice.sent.length;
    for (let i = 0; i < 1_000; i++) {
      net.inject(alice, bob.address, copied);
      net.runFor(1);
    }
    const out = alice.sent.slice(sentBefore).filter((s) => s.to.host === bob.address.host);
    const bytesOut = out.reduce((sum, s) => sum + s.data.length, 0);
    const bytesIn = 1_000 * copied.length;
    console.log(
      `[path-change resend] one challenge replayed 1,000 times (${bytesIn} bytes): ${out.length} packets ${bytesOut} bytes out`,
    );
    // The first copy is the peer's own challenge: answered, and the flight resent once. The
    // 999 replays are dropped by the replay window: no answer, nothing resent.
    expect(bytesOut).toBeLessThanOrEqual(LINES * (LINE.length + 100) + 2_000);
    expect(out.filter((s) => s.data.length === copied?.length)).toHaveLength(1);
    expect(eventsOf(alice, 'lost')).toEqual([]);
  });
});
