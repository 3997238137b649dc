import { describe, expect, it } from 'vitest';
import { type Datagram, decodePacket, encodeDatagram } from '../src/index.js';
import { RawPeer, rawSession } from './support/raw-peer.js';
import { eventsOf, openPair, VirtualNetwork } from './support/virtual-network.js';

const packetType = (data: Uint8Array) => {
  const p = decodePacket(data);
  return p.ok ? p.datagram.type : 'malformed';
};

/** The session messages sent, in order (packets that seal none, such as handshakes, are left out). */
const typesSent = (sent: { message?: Datagram }[]) =>
  sent.flatMap((s) => (s.message ? [s.message.type] : []));

describe('connecting', () => {
  it('opens a session when the peer accepts, with nicks both ways', () => {
    const net = new VirtualNetwork();
    const { a, b, sa, sb } = openPair(net);
    expect(eventsOf(b, 'request')[0]).toMatchObject({ nick: 'alice', peer: a.address });
    expect(eventsOf(a, 'accepted')[0]).toMatchObject({ session: sa, nick: 'bob', peer: b.address });
    expect(a.endpoint.session(sa)?.state).toBe('open');
    expect(b.endpoint.session(sb)?.state).toBe('open');
    // The handshake round trip (2 x 5 ms) seeds the RTT estimate.
    expect(a.endpoint.session(sa)?.rtt).toBe(10);
  });

  it('reports a decline with its reason, and answers a retried request with the same decline', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222);
    let declines = 0;
    net.filter = (from, _to, _data, message) => {
      // Lose b's first decline, so a retries its request.
      if (message?.type === 'decline' && from.port === 2222 && declines++ === 0) return false;
      return true;
    };
    const sa = a.endpoint.connect(b.address, 0);
    net.run(() => eventsOf(b, 'request').length > 0);
    b.endpoint.decline(eventsOf(b, 'request')[0]?.session ?? -1, net.now, 'busy', 'in another chat');
    net.run(() => eventsOf(a, 'declined').length > 0, 10_000);
    expect(eventsOf(a, 'declined')).toEqual([
      expect.objectContaining({ session: sa, reason: 'busy', detail: 'in another chat' }),
    ]);
    expect(eventsOf(b, 'request')).toHaveLength(1);
    expect(a.endpoint.session(sa)).toBeUndefined();
  });

  it('retries the handshake with doubling backoff (up to 2 s) and reports no answer at the connect timeout', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const nobody = { host: '127.0.0.9', port: 9 };
    a.endpoint.connect(nobody, 0);
    net.run(() => eventsOf(a, 'no_answer').length > 0);
    const initTimes = a.sent.filter((s) => packetType(s.data) === 'handshake_init').map((s) => s.at);
    expect(initTimes.slice(0, 6)).toEqual([0, 500, 1500, 3500, 5500, 7500]);
    expect(initTimes.at(-1)).toBe(29500);
    expect(eventsOf(a, 'no_answer')[0]?.at).toBe(30_000);
    // Nothing was ever said in a session: no channel opened.
    expect(typesSent(a.sent)).toEqual([]);
    expect(a.endpoint.busy).toBe(false);
  });

  it('honours a custom connect timeout', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111, { connectTimeout: 2_000 });
    a.endpoint.connect({ host: '127.0.0.9', port: 9 }, 0);
    net.run(() => eventsOf(a, 'no_answer').length > 0);
    expect(eventsOf(a, 'no_answer')[0]?.at).toBe(2_000);
  });

  it('tells the peer when a request is withdrawn before it is answered', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222);
    const sa = a.endpoint.connect(b.address, 0);
    net.run(() => eventsOf(b, 'request').length > 0);
    a.endpoint.close(sa, net.now);
    net.run(() => eventsOf(b, 'closed').length > 0, 1_000);
    expect(eventsOf(b, 'closed')).toHaveLength(1);
    expect(b.endpoint.listSessions()).toEqual([]);
    // The withdrawal is answered with disconnect_ack, as every disconnect is (PROTOCOL.md, Connecting).
    expect(typesSent(b.sent)).toEqual(['disconnect_ack']);
  });

  it('drops an unanswered request once the requester must have given up', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222);
    a.endpoint.connect(b.address, 0);
    net.filter = (_f, _t, _data, message) => message?.type !== 'disconnect';
    net.run(() => eventsOf(b, 'request_expired').length > 0);
    expect(eventsOf(a, 'no_answer')[0]?.at).toBe(30_000);
    // The request went once the handshake was done, then was retried 0.5, 1.5, 3.5, 5.5, 7.5 ... s
    // after that; b waits connect timeout + max retry gap after the last.
    const requests = a.sent.filter((s) => s.message?.type === 'connect_request').map((s) => s.at);
    expect(requests.slice(0, 5).map((t) => t - (requests[0] ?? 0))).toEqual([0, 500, 1500, 3500, 5500]);
    expect(eventsOf(b, 'request_expired')).toEqual([
      expect.objectContaining({ at: (requests.at(-1) ?? 0) + 5 + 32_000, peer: a.address }),
    ]);
    // A request that expires is no lost peer: b says nothing of a loss.
    expect(eventsOf(b, 'lost')).toEqual([]);
    expect(b.endpoint.busy).toBe(false);
  });

  it('sends a second request while the first is unanswered over the same channel, and ends neither', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const b = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const first = a.endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length === 1, net.now + 10_000);
    b.endpoint.accept(eventsOf(b, 'request')[0]?.session ?? -1, net.now);
    // Before the accept arrives: a second handshake would prove a's key again from its address,
    // which b must take for a restart of a (and a, once it completes, for one of b).
    const second = a.endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length === 2, net.now + 10_000);
    b.endpoint.accept(eventsOf(b, 'request')[1]?.session ?? -1, net.now);
    net.run(() => eventsOf(a, 'accepted').length === 2, net.now + 10_000);
    a.endpoint.send(first, 'one', net.now);
    a.endpoint.send(second, 'two', net.now);
    net.runFor(1_000);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['one', 'two']);
    expect([...eventsOf(a, 'closed'), ...eventsOf(b, 'closed')]).toEqual([]);
    expect(a.endpoint.secureStats.handshakesCompleted + b.endpoint.secureStats.handshakesCompleted).toBe(2);
  });

  it('picks a free session id even when randomness repeats itself (an injected source): the next free one', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111, { nick: 'alice' }, 1111, { randomU32: () => 7 });
    const b = net.add('127.0.0.2', 2222, { nick: 'bob' }, 2222);
    const sessions = [0, 1, 2].map(() => a.endpoint.connect(b.address, net.now));
    net.run(() => eventsOf(b, 'request').length === 3, net.now + 10_000);
    for (const r of eventsOf(b, 'request')) b.endpoint.accept(r.session, net.now);
    net.run(() => eventsOf(a, 'accepted').length === 3, net.now + 10_000);
    for (const [i, s] of sessions.entries()) a.endpoint.send(s, `line ${i}`, net.now);
    net.runFor(1_000);
    expect(
      eventsOf(b, 'message')
        .map((e) => e.text)
        .sort(),
    ).toEqual(['line 0', 'line 1', 'line 2']);
    expect(new Set(eventsOf(b, 'message').map((e) => e.session)).size).toBe(3);
  });

  it('picks a session id no session on the channel has, whichever side made that one', () => {
    const net = new VirtualNetwork();
    /** Session ids from a list, then counting up: the list makes the clashes. */
    const ids = (list: number[]) => {
      let next = 1_000;
      return () => list.shift() ?? next++;
    };
    const a = net.add('127.0.0.1', 1111, { nick: 'alice' }, 1111, { randomU32: ids([7, 7]) });
    const b = net.add('127.0.0.2', 2222, { nick: 'bob' }, 2222, { randomU32: ids([7]) });
    const accept = (node: typeof a, count: number) => {
      net.run(() => eventsOf(node, 'request').length === count, net.now + 10_000);
      const request = eventsOf(node, 'request')[count - 1];
      if (request) node.endpoint.accept(request.session, net.now);
      return request?.session ?? -1;
    };
    const first = a.endpoint.connect(b.address, net.now);
    const firstAtB = accept(b, 1);
    net.run(() => eventsOf(a, 'accepted').length === 1, net.now + 10_000);
    // a's second request over the same channel: 7 again would be the first session's id.
    const second = a.endpoint.connect(b.address, net.now);
    const secondAtB = accept(b, 2);
    // And b's own request to a: 7 is the id of a's first session on that channel.
    const third = b.endpoint.connect(a.address, net.now);
    const thirdAtA = accept(a, 1);
    net.run(
      () => eventsOf(b, 'accepted').length === 1 && eventsOf(a, 'accepted').length === 2,
      net.now + 10_000,
    );
    a.endpoint.send(first, 'one', net.now);
    a.endpoint.send(second, 'two', net.now);
    b.endpoint.send(third, 'three', net.now);
    net.runFor(1_000);
    expect(eventsOf(b, 'message').map((e) => [e.session, e.text])).toEqual([
      [firstAtB, 'one'],
      [secondAtB, 'two'],
    ]);
    expect(eventsOf(a, 'message').map((e) => [e.session, e.text])).toEqual([[thirdAtA, 'three']]);
    expect(new Set([firstAtB, secondAtB]).size).toBe(2);
  });

  it('makes exactly one session when two peers ask each other at the same moment', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const net = new VirtualNetwork(seed);
      const a = net.add('127.0.0.1', 1111, {}, seed);
      const b = net.add('127.0.0.2', 2222, {}, seed + 100);
      const sa = a.endpoint.connect(b.address, 0);
      const sb = b.endpoint.connect(a.address, 0);
      net.runFor(2_000);
      expect(eventsOf(a, 'accepted').map((e) => e.session)).toEqual([sa]);
      expect(eventsOf(b, 'accepted').map((e) => e.session)).toEqual([sb]);
      expect(eventsOf(a, 'request')).toEqual([]);
      expect(eventsOf(b, 'request')).toEqual([]);
      expect(a.endpoint.listSessions()).toHaveLength(1);
      expect(b.endpoint.listSessions()).toHaveLength(1);
      a.endpoint.send(sa, 'hi b', net.now);
      b.endpoint.send(sb, 'hi a', net.now);
      net.runFor(1_000);
      expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['hi b']);
      expect(eventsOf(a, 'message').map((e) => e.text)).toEqual(['hi a']);
    }
  });

  it('accepts a waiting request when the application connects to the same peer', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222);
    a.endpoint.connect(b.address, 0);
    net.run(() => eventsOf(b, 'request').length > 0);
    const sb = b.endpoint.connect(a.address, net.now);
    net.runFor(1_000);
    expect(sb).toBe(eventsOf(b, 'request')[0]?.session);
    expect(eventsOf(b, 'accepted')).toHaveLength(1);
    expect(eventsOf(a, 'accepted')).toHaveLength(1);
    expect(b.endpoint.listSessions()).toHaveLength(1);
  });

  it('declines requests past maxSessions without keeping any state for them', () => {
    const net = new VirtualNetwork();
    const b = net.add('127.0.0.2', 2222, { maxSessions: 2 });
    const askers = [1, 2, 3].map((i) => net.add('127.0.0.1', 1000 + i));
    for (const asker of askers) asker.endpoint.connect(b.address, 0);
    net.runFor(100);
    expect(eventsOf(b, 'request')).toHaveLength(2);
    const third = askers[2];
    if (!third) throw new Error('three askers expected');
    expect(eventsOf(third, 'declined')[0]).toMatchObject({ reason: 'too_many_sessions' });
    expect(b.endpoint.stats.refusedOverLimit).toBe(1);
  });
});

describe('limits', () => {
  it('bounds the sessions one peer address can hold, whatever session ids it makes up', () => {
    const net = new VirtualNetwork();
    const b = net.add('127.0.0.2', 2222, { maxSessionsPerPeer: 4 });
    const attacker = net.attach(new RawPeer(), '127.0.0.1', 6666);
    attacker.endpoint.connect(b.address, 0);
    net.run(() => attacker.endpoint.channel !== undefined, 1_000);
    for (let id = 1; id <= 50; id++) {
      attacker.endpoint.send({ type: 'connect_request', session: id, heartbeatMs: 25_000, nick: '' });
    }
    net.runFor(100);
    expect(b.endpoint.listSessions()).toHaveLength(4);
    expect(b.endpoint.stats.refusedOverLimit).toBe(46);
    // Another peer still gets through.
    const friend = net.add('127.0.0.3', 3333);
    friend.endpoint.connect(b.address, net.now);
    net.runFor(100);
    expect(eventsOf(b, 'request').map((e) => e.peer)).toContainEqual(friend.address);
  });
});

describe('heartbeats and liveness', () => {
  it('sends a heartbeat every interval to the millisecond', () => {
    const net = new VirtualNetwork();
    const { a } = openPair(net);
    const openedAt = eventsOf(a, 'accepted')[0]?.at ?? 0;
    net.runFor(100_000);
    const times = eventsOf(a, 'heartbeat_sent').map((e) => e.at - openedAt);
    expect(times).toEqual([25_000, 50_000, 75_000, 100_000]);
    expect(eventsOf(a, 'heartbeat_missed')).toEqual([]);
  });

  it('honours a custom interval (0.2 s) and miss limit', () => {
    const net = new VirtualNetwork();
    const { a, b } = openPair(net, { heartbeatInterval: 200, missLimit: 5 });
    const silentFrom = net.now;
    net.filter = (from) => from.port !== b.address.port;
    net.run(() => eventsOf(a, 'lost').length > 0);
    // Each interval counts as missed half an interval (the margin) after it ended.
    expect(eventsOf(a, 'heartbeat_missed').map((e) => [e.count, e.at - silentFrom])).toEqual([
      [1, 300],
      [2, 500],
      [3, 700],
      [4, 900],
      [5, 1_100],
    ]);
    expect(eventsOf(a, 'lost')[0]).toMatchObject({ missed: 5, at: silentFrom + 1_100 });
  });

  it('reports each missed interval and loses a peer silent for three intervals and the margin, failing its messages', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net);
    const lastHeard = a.endpoint.session(sa)?.lastHeard ?? 0;
    net.filter = (from) => from.port !== b.address.port; // b goes silent
    const id = a.endpoint.send(sa, 'are you there?', net.now);
    net.run(() => eventsOf(a, 'lost').length > 0);
    expect(eventsOf(a, 'heartbeat_missed').map((e) => [e.count, e.at - lastHeard])).toEqual([
      [1, 37_500],
      [2, 62_500],
      [3, 87_500],
    ]);
    expect(eventsOf(a, 'lost')).toEqual([expect.objectContaining({ missed: 3, at: lastHeard + 87_500 })]);
    expect(eventsOf(a, 'failed')).toEqual([expect.objectContaining({ messageId: id, reason: 'lost' })]);
    expect(a.endpoint.listSessions()).toEqual([]);
  });

  it('counts any valid datagram as proof of life, and starts counting again after it', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net, { heartbeatInterval: 1_000 });
    net.filter = (from) => from.port !== b.address.port;
    net.runFor(1_500);
    expect(eventsOf(a, 'heartbeat_missed').map((e) => e.count)).toEqual([1]);
    net.filter = () => true;
    net.runFor(1_000);
    net.filter = (from) => from.port !== b.address.port;
    net.run(() => eventsOf(a, 'lost').length > 0);
    expect(eventsOf(a, 'heartbeat_missed').map((e) => e.count)).toEqual([1, 1, 2, 3]);
    expect(a.endpoint.session(sa)).toBeUndefined();
  });
});

describe('liveness on real links', () => {
  it('never reports a missed heartbeat on a healthy link with jitter', () => {
    const net = new VirtualNetwork(3);
    const { a, b } = openPair(net, { heartbeatInterval: 300 });
    net.conditions = { latency: 5, jitter: 40, loss: 0, duplicate: 0 };
    net.runFor(20_000);
    expect(eventsOf(a, 'heartbeat_sent').length).toBeGreaterThanOrEqual(60);
    expect([...eventsOf(a, 'heartbeat_missed'), ...eventsOf(b, 'heartbeat_missed')]).toEqual([]);
  });

  it('keeps an idle session alive for 60 s at 30% loss each way with 0.2 s heartbeats', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const net = new VirtualNetwork(seed);
      const { a, b } = openPair(net, { heartbeatInterval: 200 });
      net.conditions = { latency: 10, jitter: 5, loss: 0.3, duplicate: 0 };
      net.runFor(60_000);
      expect([...eventsOf(a, 'lost'), ...eventsOf(b, 'lost')], `seed ${seed}`).toEqual([]);
      // It was a real test: heartbeats were missed and probes sent, yet nobody was lost.
      expect(eventsOf(a, 'heartbeat_missed').length, `seed ${seed}`).toBeGreaterThan(0);
    }
  });

  it('loses a frozen peer within miss limit x interval + margin, probing it every interval / 8', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net, { heartbeatInterval: 200 });
    net.runFor(1_000);
    const lastHeard = a.endpoint.session(sa)?.lastHeard ?? 0;
    net.filter = (from) => from.port !== b.address.port; // b freezes: nothing it sends arrives
    net.run(() => eventsOf(a, 'lost').length > 0);
    expect(eventsOf(a, 'lost')[0]?.at).toBeLessThanOrEqual(lastHeard + 3 * 200 + 100);
    expect(eventsOf(a, 'lost')[0]?.at).toBe(lastHeard + 700);
    // After the first miss (at 300 ms of silence) heartbeats go every 25 ms, not every 200.
    const probes = a.sent
      .filter((s) => s.message?.type === 'heartbeat' && s.at >= lastHeard + 300)
      .map((s) => s.at - lastHeard);
    expect(probes.slice(0, 4)).toEqual([300, 325, 350, 375]);
  });

  it('answers every heartbeat with an ack, and never answers an ack', () => {
    const net = new VirtualNetwork();
    const { a, b } = openPair(net, { heartbeatInterval: 1_000 });
    const from = net.now;
    net.runFor(10_020); // 10 intervals, and time for the last answers to arrive
    const sentBy = (node: typeof a, type: string) =>
      node.sent.filter((s) => s.at >= from && s.message?.type === type).length;
    expect(sentBy(a, 'heartbeat')).toBe(10);
    expect(sentBy(b, 'ack')).toBe(sentBy(a, 'heartbeat'));
    expect(sentBy(a, 'ack')).toBe(sentBy(b, 'heartbeat'));
  });

  it('keeps heartbeating while lingering, so a slow close does not look like a lost peer', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net, { heartbeatInterval: 200 });
    // a's text never arrives, but b answers everything else: a lingers while b is alive, until its
    // retransmission timer has expired 16 times in a row with nothing taken (3 s, then 3.2 s each
    // at the capped backoff: 41.4 s), 207 intervals without a missed heartbeat on either side.
    net.filter = (from, _t, _d, message) => from.port !== a.address.port || message?.type !== 'text';
    const sentAt = net.now;
    const id = a.endpoint.send(sa, 'stuck', net.now);
    a.endpoint.close(sa, net.now);
    expect(a.endpoint.session(sa)?.state).toBe('lingering');
    net.runFor(41_399);
    expect(a.endpoint.session(sa)?.state).toBe('lingering');
    expect([...eventsOf(a, 'heartbeat_missed'), ...eventsOf(b, 'heartbeat_missed')]).toEqual([]);
    net.runFor(1_000);
    expect(eventsOf(a, 'failed')).toEqual([
      expect.objectContaining({ messageId: id, reason: 'closed', at: sentAt + 41_400 }),
    ]);
    expect(eventsOf(b, 'closed')).toEqual([expect.objectContaining({ reason: 'peer_closed' })]);
    expect(eventsOf(b, 'lost')).toEqual([]);
  });
});

describe('reliable text', () => {
  it('delivers in order, exactly once, and tells the sender', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net);
    const ids = ['one', 'two', 'three'].map((t) => a.endpoint.send(sa, t, net.now));
    net.runFor(1_000);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['one', 'two', 'three']);
    expect(eventsOf(a, 'delivered').map((e) => e.messageId)).toEqual(ids);
  });

  it('delivers a text that starts with U+FEFF as it was sent: the mark is a character, not a BOM to strip', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net);
    a.endpoint.send(sa, '\ufeffhi', net.now);
    a.endpoint.send(sa, '\ufeff\ufeff', net.now);
    net.runFor(1_000);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['\ufeffhi', '\ufeff\ufeff']);
  });

  it('survives 30% loss, duplication and reordering each way: 1,000 messages exactly once, in order', () => {
    const net = new VirtualNetwork(42);
    const { a, b, sa, sb } = openPair(net);
    net.conditions = { latency: 20, jitter: 30, loss: 0.3, duplicate: 0.1 };
    const sent: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      sent.push(`message ${i}`);
      a.endpoint.send(sa, `message ${i}`, net.now);
      b.endpoint.send(sb, `reply ${i}`, net.now);
      net.runFor(7);
    }
    net.run(() => eventsOf(a, 'delivered').length === 1_000 && eventsOf(b, 'delivered').length === 1_000);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(sent);
    expect(eventsOf(a, 'message').map((e) => e.text)).toEqual(sent.map((s) => s.replace('message', 'reply')));
    expect(eventsOf(a, 'failed')).toEqual([]);
    expect(a.endpoint.stats.malformed + b.endpoint.stats.malformed).toBe(0);
  });

  it('retransmits on timeout with exponential backoff until the peer is heard again', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net, { minRto: 200 });
    // One message first, so the round trip is measured whatever the handshake reported.
    a.endpoint.send(sa, 'warm-up', net.now);
    net.run(() => eventsOf(a, 'delivered').length > 0);
    net.filter = (from, _to, _data, message) => from.port !== a.address.port || message?.type !== 'text';
    const sentAt = net.now;
    a.endpoint.send(sa, 'hello?', net.now);
    net.runFor(20_000);
    const textTimes = a.sent
      .filter((s) => s.at >= sentAt && typesSent([s])[0] === 'text')
      .map((s) => Math.round(s.at - sentAt));
    // RTO = srtt + max(4 rttvar, 1) + max ack delay (10) is well below minRto: 200, then doubling.
    expect(textTimes.slice(0, 6)).toEqual([0, 200, 600, 1400, 3000, 6200]);
    net.filter = () => true;
    net.run(() => eventsOf(b, 'message').length > 1);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['warm-up', 'hello?']);
  });

  it('measures the round trip and derives the timeout from it', () => {
    const net = new VirtualNetwork();
    net.conditions.latency = 50;
    const { a, sa } = openPair(net, { minRto: 10 });
    for (let i = 0; i < 20; i++) {
      a.endpoint.send(sa, `m${i}`, net.now);
      net.runFor(300);
    }
    expect(a.endpoint.session(sa)?.rtt).toBeGreaterThanOrEqual(100);
    // Delayed acks add at most ackDelay (10 ms) to a sample.
    expect(a.endpoint.session(sa)?.rtt).toBeLessThanOrEqual(110);
  });

  it('splits and reassembles a 64 KiB message, and refuses a larger one clearly', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net);
    net.conditions = { latency: 5, jitter: 10, loss: 0.2, duplicate: 0.05 };
    const big = 'é'.repeat(32 * 1024); // 64 KiB of UTF-8, two bytes a character
    a.endpoint.send(sa, big, net.now);
    net.run(() => eventsOf(b, 'message').length > 0);
    expect(eventsOf(b, 'message')[0]?.text).toBe(big);
    expect(() => a.endpoint.send(sa, `${big}x`, net.now)).toThrow(/exceeds the maximum of 65536 bytes/);
    expect(() => a.endpoint.send(sa, '', net.now)).toThrow(/empty/);
  });

  it('refuses to send on a session that is not open', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const sa = a.endpoint.connect({ host: '127.0.0.9', port: 9 }, 0);
    expect(() => a.endpoint.send(sa, 'too early', 0)).toThrow(
      expect.objectContaining({ code: 'SESSION_NOT_OPEN' }),
    );
    expect(() => a.endpoint.send(999, 'x', 0)).toThrow(expect.objectContaining({ code: 'NO_SUCH_SESSION' }));
  });

  it('bounds what one peer may queue', () => {
    const net = new VirtualNetwork();
    const { a, sa } = openPair(net, { maxQueuedBytes: 3_000 });
    net.filter = () => false;
    a.endpoint.send(sa, 'x'.repeat(2_000), net.now);
    expect(() => a.endpoint.send(sa, 'x'.repeat(2_000), net.now)).toThrow(
      expect.objectContaining({ code: 'SEND_QUEUE_FULL' }),
    );
  });
});

describe('closing', () => {
  it('lets messages in flight arrive before it disconnects (send, then close at once)', () => {
    const net = new VirtualNetwork();
    net.conditions = { latency: 20, jitter: 0, loss: 0, duplicate: 0 };
    const { a, b, sa } = openPair(net);
    const id = a.endpoint.send(sa, 'last words', net.now);
    a.endpoint.close(sa, net.now);
    net.runFor(1_000);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['last words']);
    expect(eventsOf(a, 'delivered').map((e) => e.messageId)).toEqual([id]);
    expect(eventsOf(a, 'failed')).toEqual([]);
    // The disconnect went after the acknowledgement, so b saw the message before the close.
    expect(b.events.findIndex((e) => e.type === 'message')).toBeLessThan(
      b.events.findIndex((e) => e.type === 'closed'),
    );
    expect(a.endpoint.busy || b.endpoint.busy).toBe(false);
  });

  it('fails what the peer takes none of for 16 timeouts in a row, then tells the peer it closed', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net);
    net.filter = (from, _t, _data, message) => from.port !== a.address.port || message?.type !== 'text';
    const id = a.endpoint.send(sa, 'never arrives', net.now);
    const closedAt = net.now;
    a.endpoint.close(sa, net.now);
    net.runFor(45_000);
    // RTO 200 ms (the handshake's 10 ms round trip is below minRto), doubling up to 2^4: the 16th
    // expiry is 41.4 s after the message went. b heard a's heartbeats all along: never lost.
    expect(eventsOf(a, 'failed')).toEqual([
      expect.objectContaining({ messageId: id, reason: 'closed', at: closedAt + 41_400 }),
    ]);
    expect(eventsOf(b, 'message')).toEqual([]);
    expect(eventsOf(b, 'closed')).toHaveLength(1);
    expect(a.endpoint.busy).toBe(false);
    expect(b.endpoint.busy).toBe(false);
  });

  it('retries a lost disconnect a bounded number of times', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net, { disconnectAttempts: 4 });
    net.filter = (from) => from.port !== a.address.port; // everything a sends is lost
    a.endpoint.close(sa, net.now);
    const closedAt = net.now;
    net.runFor(10_000);
    expect(typesSent(a.sent.filter((s) => s.at >= closedAt)).filter((t) => t === 'disconnect')).toHaveLength(
      4,
    );
    expect(a.endpoint.busy).toBe(false);
    net.runFor(80_000);
    // b never heard: it loses a after three silent intervals and the margin.
    expect(eventsOf(b, 'lost')).toHaveLength(1);
  });

  it('lets go at once of a declined request when closed (nothing to wait for at shutdown)', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222);
    a.endpoint.connect(b.address, 0);
    net.run(() => eventsOf(b, 'request').length > 0);
    b.endpoint.decline(eventsOf(b, 'request')[0]?.session ?? -1, net.now);
    net.collect(); // the decline goes out
    expect(b.endpoint.busy).toBe(true); // draining, to answer retried requests
    b.endpoint.closeAll(net.now);
    expect(b.endpoint.busy).toBe(false);
  });

  it('ends a session both sides close at once', () => {
    const net = new VirtualNetwork();
    const { a, b, sa, sb } = openPair(net);
    a.endpoint.close(sa, net.now);
    b.endpoint.close(sb, net.now);
    net.runFor(5_000);
    expect(a.endpoint.busy || b.endpoint.busy).toBe(false);
  });

  it('loses a peer that restarted: its new instance cannot read, or answer, the old channel', () => {
    const net = new VirtualNetwork();
    const { a, sa } = openPair(net);
    const restarted = net.add('127.0.0.2', 2222); // replaces b at the same address, with new keys
    a.endpoint.send(sa, 'still there?', net.now);
    net.run(() => eventsOf(a, 'lost').length > 0);
    expect(eventsOf(a, 'failed')).toEqual([expect.objectContaining({ reason: 'lost' })]);
    // An unauthenticated "I don't know that channel" could be forged to kill any session: silence.
    expect(restarted.endpoint.secureStats.unknownChannel).toBeGreaterThan(0);
    expect(restarted.sent).toEqual([]);
  });
});

describe('hostile and broken input', () => {
  it('drops garbage, counts it, and the session carries on', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net);
    const garbage = [
      new Uint8Array(0),
      new Uint8Array([0x4e]),
      new Uint8Array([0x4e, 0x43, 1, 99]),
      new Uint8Array(2000),
    ];
    for (const g of garbage) net.inject(b, a.address, g);
    expect(b.endpoint.secureStats.malformedPackets).toBe(garbage.length);
    a.endpoint.send(sa, 'after the garbage', net.now);
    net.runFor(500);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['after the garbage']);
  });

  it('counts fragments that do not form a message, without throwing', () => {
    const { net, b, raw, fragment } = rawSession();
    raw.send(fragment(0, 1, 2, 'starts in the middle'));
    raw.send(fragment(1, 0, 1, 'whole'));
    net.runFor(50);
    expect(b.endpoint.stats.protocolErrors).toBe(1);
    const cut = encodeDatagram(fragment(2, 0, 1, '\u{1F600}')).subarray(0, -1); // cut inside a character: not UTF-8
    raw.sendRaw(cut);
    net.runFor(50);
    expect(b.endpoint.stats.protocolErrors).toBe(2);
    expect(b.endpoint.stats.malformed).toBe(0);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['whole']);
  });
});

describe('the application API', () => {
  it('refuses a decline detail that could not go on the wire', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222);
    a.endpoint.connect(b.address, 0);
    net.run(() => eventsOf(b, 'request').length > 0);
    const id = eventsOf(b, 'request')[0]?.session ?? -1;
    expect(() => b.endpoint.decline(id, net.now, 'busy', 'x'.repeat(201))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => b.endpoint.decline(id, net.now, 'busy', 'bell\u0007')).toThrow(/control characters/);
    b.endpoint.decline(id, net.now, 'busy', 'ok');
    net.runFor(100);
    expect(eventsOf(a, 'declined')[0]).toMatchObject({ detail: 'ok' });
  });

  it('changes the nick sent with later requests, and refuses one that cannot go on the wire', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111, { nick: 'old' });
    const b = net.add('127.0.0.2', 2222);
    a.endpoint.setNick('new name');
    expect(() => a.endpoint.setNick('x'.repeat(40))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    a.endpoint.connect(b.address, 0);
    net.run(() => eventsOf(b, 'request').length > 0);
    expect(eventsOf(b, 'request')[0]?.nick).toBe('new name');
  });

  it('rejects invalid options with one clear line', () => {
    const net = new VirtualNetwork();
    expect(() => net.add('127.0.0.1', 1, { heartbeatInterval: -1 })).toThrow(/heartbeatInterval/);
    expect(() => net.add('127.0.0.1', 1, { nick: 'x'.repeat(33) })).toThrow(/nick/);
  });
});

describe('agreeing on the heartbeat interval', () => {
  it('uses the smaller interval on both sides, so neither thinks the other silent', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111, { heartbeatInterval: 1_000 });
    const b = net.add('127.0.0.2', 2222, { heartbeatInterval: 25_000 });
    a.endpoint.connect(b.address, 0);
    net.run(() => eventsOf(b, 'request').length > 0);
    b.endpoint.accept(eventsOf(b, 'request')[0]?.session ?? -1, net.now);
    net.runFor(10_000);
    expect(eventsOf(a, 'heartbeat_missed')).toEqual([]);
    expect(eventsOf(b, 'heartbeat_sent').length).toBeGreaterThanOrEqual(9);
    expect(eventsOf(a, 'lost')).toEqual([]);
  });

  it('is the requester offer when that is smaller, and the responder setting otherwise', () => {
    for (const [mine, theirs, agreed] of [
      [300, 900, 300],
      [900, 300, 300],
    ] as const) {
      const net = new VirtualNetwork();
      const x = net.add('127.0.0.3', 3333, { heartbeatInterval: mine });
      const y = net.add('127.0.0.4', 4444, { heartbeatInterval: theirs });
      x.endpoint.connect(y.address, net.now);
      net.run(() => eventsOf(y, 'request').length > 0);
      y.endpoint.accept(eventsOf(y, 'request')[0]?.session ?? -1, net.now);
      const openedAt = net.now;
      net.runFor(agreed * 2 + 50);
      expect(eventsOf(x, 'heartbeat_sent').map((e) => Math.round(e.at - openedAt))).toEqual([
        agreed + 5,
        2 * agreed + 5,
      ]); // x opens when the accept lands, 5 ms later
    }
  });
});

describe('reassembly after a protocol error', () => {
  it('keeps delivering fragments that were already waiting behind the bad one', () => {
    const { net, b, raw, fragment } = rawSession();
    // Seq 1 and 2 arrive early; seq 0 then arrives and is bad (starts mid-message).
    raw.send(fragment(1, 0, 1, 'after'));
    raw.send(fragment(2, 0, 1, 'the bad one'));
    raw.send(fragment(0, 1, 2, 'bad'));
    net.runFor(100);
    expect(b.endpoint.stats.protocolErrors).toBe(1);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['after', 'the bad one']);
    // A retransmission of a fragment already delivered is a duplicate, and nothing stalls.
    raw.send(fragment(1, 0, 1, 'after'));
    raw.send(fragment(3, 0, 1, 'and later'));
    net.runFor(100);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['after', 'the bad one', 'and later']);
  });
});
