/**
 * One Session driven by hand (no endpoint, no channel): its transition table, timers, liveness,
 * the calls the endpoint makes on restarts, and the acknowledgement rules.
 */
import { describe, expect, it } from 'vitest';
import { type Datagram, MAX_FRAGMENT_BYTES, NetchatError } from '../src/index.js';
import { Session } from '../src/session/session.js';
import { SESSION_STATES, type SessionState, TRANSITIONS } from '../src/session/transitions.js';
import { textFragment } from '../src/testing/fragments.js';
import { ackDelayToWire } from '../src/wire/messages.js';
import { seededRandom } from './support/random.js';
import {
  ackOf,
  advance,
  eventTypes,
  harness,
  openResponder,
  receive,
  typesOf,
  WIRE_ID,
} from './support/session-harness.js';

const text = (seq: number, body: string | Uint8Array, index = 0, count = 1): Datagram =>
  textFragment(WIRE_ID, seq, body, index, count);
type ConnectRequestLike = Extract<Datagram, { type: 'connect_request' }>;
const heartbeat: Datagram = { type: 'heartbeat', session: WIRE_ID, ack: 0, sack: 0, ackDelay: 0 };

describe('the transition table', () => {
  it('names only real states, ends nowhere but closed, and lets every live state end', () => {
    for (const state of SESSION_STATES) {
      for (const next of Object.values(TRANSITIONS[state])) expect(SESSION_STATES).toContain(next);
      if (state !== 'closed') expect(TRANSITIONS[state].peer_restarted).toBe('closed');
    }
    expect(TRANSITIONS.closed).toEqual({});
    // Every state but the two a session is born in is reached by some transition.
    const reached = new Set(SESSION_STATES.flatMap((s) => Object.values(TRANSITIONS[s])));
    expect(SESSION_STATES.filter((s) => !reached.has(s))).toEqual(['connecting', 'requested']);
  });

  it('refuses the application calls a state does not allow, and ignores a repeated close', () => {
    const h = harness();
    const session = openResponder(h);
    expect(() => session.accept(h.now)).toThrow(expect.objectContaining({ code: 'NOT_A_REQUEST' }));
    expect(() => session.decline(h.now, 'busy', '')).toThrow(
      expect.objectContaining({ code: 'NOT_A_REQUEST' }),
    );
    session.send(1, 'in flight', h.now);
    session.close(h.now);
    expect(session.state).toBe('lingering');
    expect(() => session.send(2, 'too late', h.now)).toThrow(
      expect.objectContaining({ code: 'SESSION_NOT_OPEN' }),
    );
    const sentBefore = h.sent.length;
    session.close(h.now);
    expect(session.state).toBe('lingering');
    expect(h.sent.length).toBe(sentBefore);
  });

  it('goes open → lingering → closing → closed as the messages are acknowledged', () => {
    const h = harness();
    const session = openResponder(h);
    const states: SessionState[] = [session.state];
    session.send(1, 'last words', h.now);
    session.close(h.now);
    states.push(session.state);
    h.now = 10;
    receive(h, session, ackOf(1));
    states.push(session.state);
    h.now = 20;
    receive(h, session, { type: 'disconnect_ack', session: WIRE_ID });
    states.push(session.state);
    expect(states).toEqual(['open', 'lingering', 'closing', 'closed']);
    expect(eventTypes(h)).toEqual(['request', 'delivered']);
    expect(typesOf(h)).toEqual(['accept', 'text', 'disconnect']);
  });

  it('closes an open session with nothing in flight straight to closing', () => {
    const h = harness();
    const session = openResponder(h);
    session.close(h.now);
    expect(session.state).toBe('closing');
    expect(typesOf(h).at(-1)).toBe('disconnect');
  });
});

describe('any sequence of calls, datagrams and timeouts', () => {
  it('only ever throws the caller-misuse errors, and a closed session holds no timer', () => {
    const peerSays: Datagram[] = [
      { type: 'connect_request', session: WIRE_ID, heartbeatMs: 200, nick: 'p' },
      { type: 'accept', session: WIRE_ID, heartbeatMs: 200, nick: 'p' },
      { type: 'decline', session: WIRE_ID, reason: 'busy', detail: '' },
      { type: 'disconnect', session: WIRE_ID },
      { type: 'disconnect_ack', session: WIRE_ID },
      heartbeat,
      ackOf(0),
      ackOf(1),
      ackOf(3, 2),
      text(0, 'a'),
      text(1, 'b', 0, 2),
      text(2, 'c', 1, 2),
      text(500, 'far'),
    ];
    for (let seed = 1; seed <= 300; seed++) {
      const random = seededRandom(seed);
      const pick = (n: number) => Math.floor(random() * n);
      const h = harness({ heartbeatInterval: 200, closeLinger: 500, connectTimeout: 3_000 });
      const session =
        random() < 0.5
          ? Session.outgoing(h.ctx, 1, WIRE_ID, h.route, 0)
          : Session.incoming(h.ctx, 1, peerSays[0] as ConnectRequestLike, h.route, 0);
      let messageId = 1;
      for (let step = 0; step < 60 && session.state !== 'closed'; step++) {
        h.now += pick(300);
        const calls = [
          () => session.routeOpened(h.now),
          () => session.accept(h.now),
          () => session.decline(h.now, 'declined', ''),
          () => session.send(messageId++, 'x'.repeat(1 + pick(3_000)), h.now),
          () => session.close(h.now),
          () => session.probe(h.now),
          () => (random() < 0.1 ? session.supersede(h.now) : undefined),
          () => session.handle(peerSays[pick(peerSays.length)] as Datagram, h.now),
          () => session.handleTimeout(h.now),
          () => advance(h, session, h.now + pick(2_000)),
        ];
        try {
          (calls[pick(calls.length)] as () => void)();
        } catch (error) {
          expect(error, `seed ${seed} step ${step}`).toBeInstanceOf(NetchatError);
        }
        expect(SESSION_STATES).toContain(session.state);
      }
      advance(h, session, h.now + 120_000);
      expect(session.state, `seed ${seed}`).toBe('closed');
      expect(session.nextDeadline()).toBeUndefined();
    }
  });
});

describe('heartbeats on a fixed grid', () => {
  it('keeps to the grid when its timer fires late, and skips ahead after a long stall', () => {
    const h = harness();
    const session = openResponder(h, 1_000);
    const heartbeatTimes = () => h.sent.filter((d) => d.type === 'heartbeat').map((d) => d.at);
    // Fire 7 ms late each time: the next heartbeat is still due on the grid.
    for (let k = 1; k <= 5; k++) {
      h.now = k * 1_000 + 7;
      receive(h, session, ackOf(0)); // keep the peer alive
      session.handleTimeout(h.now);
      expect(session.nextDeadline()).toBeLessThanOrEqual((k + 1) * 1_000);
    }
    expect(heartbeatTimes()).toEqual([1_007, 2_007, 3_007, 4_007, 5_007]);
    // A 3.4-interval stall (a suspended laptop): one heartbeat now, the next at the next grid point.
    h.now = 9_400;
    receive(h, session, ackOf(0));
    session.handleTimeout(h.now);
    expect(heartbeatTimes().at(-1)).toBe(9_400);
    advance(h, session, 10_000);
    expect(heartbeatTimes().at(-1)).toBe(10_000);
  });
});

describe('liveness', () => {
  it('reports each missed interval once, even when its timer fires late', () => {
    const h = harness({ missLimit: 5 });
    const session = openResponder(h, 1_000);
    // Silent from 0; the first check is due at 1.5 s. Wake only at 3.6 s: three intervals are missed.
    h.now = 3_600;
    session.handleTimeout(h.now);
    const missed = () => h.events.filter((e) => e.type === 'heartbeat_missed').map((e) => e.count);
    expect(missed()).toEqual([1, 2, 3]);
    advance(h, session, 4_400);
    expect(missed()).toEqual([1, 2, 3]);
    advance(h, session, 4_500);
    expect(missed()).toEqual([1, 2, 3, 4]);
    expect(session.info().missedHeartbeats).toBe(4);
  });

  it('probes every interval / 8 after a miss, and stops once the peer is heard', () => {
    const h = harness();
    const session = openResponder(h, 800);
    advance(h, session, 1_200); // first miss at 800 + 400
    advance(h, session, 1_400);
    const heartbeats = h.sent.filter((d) => d.type === 'heartbeat').map((d) => d.at);
    expect(heartbeats).toEqual([800, 1_200, 1_300, 1_400]);
    receive(h, session, ackOf(0));
    advance(h, session, 2_399);
    expect(h.sent.filter((d) => d.type === 'heartbeat').map((d) => d.at)).toEqual([
      800, 1_200, 1_300, 1_400, 1_600,
    ]);
    expect(session.state).toBe('open');
  });

  it('never probes faster than 10 ms apart, even at the smallest interval', () => {
    const h = harness({ heartbeatInterval: 50 });
    const session = openResponder(h, 50);
    advance(h, session, 75 + 45);
    const probes = h.sent.filter((d) => d.type === 'heartbeat' && d.at >= 75).map((d) => d.at);
    expect(probes).toEqual([75, 85, 95, 100, 105, 115]);
  });
});

describe('the calls the endpoint makes when a peer restarts or moves', () => {
  it('supersede ends an open session at once, failing what was not delivered', () => {
    const h = harness();
    const session = openResponder(h);
    session.send(7, 'lost in the restart', h.now);
    const sentBefore = h.sent.length;
    session.supersede(h.now);
    expect(session.state).toBe('closed');
    expect(session.nextDeadline()).toBeUndefined();
    expect(h.events.slice(1)).toEqual([
      expect.objectContaining({ type: 'failed', messageId: 7, reason: 'peer_restarted' }),
      expect.objectContaining({ type: 'closed', reason: 'peer_restarted' }),
    ]);
    // Nothing goes to the dead channel.
    expect(h.sent.length).toBe(sentBefore);
  });

  it('supersede tells the application in every live state, and does nothing once closed', () => {
    const make: Record<Exclude<SessionState, 'closed'>, (h: ReturnType<typeof harness>) => Session> = {
      connecting: (h) => {
        const s = Session.outgoing(h.ctx, 1, WIRE_ID, h.route, h.now);
        s.routeOpened(h.now);
        return s;
      },
      requested: (h) =>
        Session.incoming(
          h.ctx,
          1,
          { type: 'connect_request', session: WIRE_ID, heartbeatMs: 25_000, nick: '' },
          h.route,
          h.now,
        ),
      open: (h) => openResponder(h),
      lingering: (h) => {
        const s = openResponder(h);
        s.send(1, 'x', h.now);
        s.close(h.now);
        return s;
      },
      closing: (h) => {
        const s = openResponder(h);
        s.close(h.now);
        return s;
      },
      draining: (h) => {
        const s = make.requested(h);
        s.decline(h.now, 'busy', '');
        return s;
      },
    };
    for (const [state, build] of Object.entries(make)) {
      const h = harness();
      const session = build(h);
      expect(session.state).toBe(state);
      session.supersede(h.now);
      expect(session.state).toBe('closed');
      expect(h.events.filter((e) => e.type === 'closed')).toEqual([
        expect.objectContaining({ reason: 'peer_restarted' }),
      ]);
      session.supersede(h.now);
      expect(h.events.filter((e) => e.type === 'closed')).toHaveLength(1);
    }
  });

  it('probe sends a heartbeat at once and loses a peer that does not answer within 2 RTO', () => {
    const h = harness({}, { handshakeRtt: 20 });
    const session = openResponder(h);
    h.now = 1_000;
    session.probe(h.now);
    expect(h.sent.at(-1)).toMatchObject({ type: 'heartbeat', at: 1_000 });
    // RTO with srtt 20 is raised to minRto (200): the answer is due within 400 ms.
    advance(h, session, 1_399);
    expect(session.state).toBe('open');
    advance(h, session, 1_400);
    expect(session.state).toBe('closed');
    expect(h.events.at(-1)).toMatchObject({ type: 'lost', at: 1_400 });
  });

  it('probe keeps a peer that answers', () => {
    const h = harness({}, { handshakeRtt: 20 });
    const session = openResponder(h);
    h.now = 1_000;
    session.probe(h.now);
    h.now = 1_020;
    receive(h, session, ackOf(0));
    advance(h, session, 5_000);
    expect(session.state).toBe('open');
    expect(eventTypes(h)).not.toContain('lost');
  });

  it('probe is a no-op before a session is open and after it started closing', () => {
    const h = harness();
    const requested = Session.incoming(
      h.ctx,
      1,
      { type: 'connect_request', session: WIRE_ID, heartbeatMs: 25_000, nick: '' },
      h.route,
      0,
    );
    requested.probe(0);
    expect(h.sent).toEqual([]);
    requested.accept(0);
    requested.close(0);
    expect(requested.state).toBe('closing');
    const before = h.sent.length;
    requested.probe(0);
    expect(h.sent.length).toBe(before);
  });

  it('does not count a draining (declined) session toward the per-peer limit', () => {
    const h = harness();
    const session = Session.incoming(
      h.ctx,
      1,
      { type: 'connect_request', session: WIRE_ID, heartbeatMs: 25_000, nick: '' },
      h.route,
      0,
    );
    expect(session.countsTowardPeerLimit).toBe(true);
    session.decline(0, 'busy', '');
    expect(session.state).toBe('draining');
    expect(session.countsTowardPeerLimit).toBe(false);
    const open = openResponder(harness());
    expect(open.countsTowardPeerLimit).toBe(true);
  });
});

describe('simultaneous open', () => {
  it('adopts the winning request with its id and the channel it arrived on', () => {
    const h = harness();
    const ours = Session.outgoing(h.ctx, 1, 0x1000, h.route, 0);
    ours.routeOpened(0);
    const theirChannel = { ...h.route, id: 2 };
    const transmittedOn: number[] = [];
    const transmit = h.ctx.transmit;
    (h.ctx as { transmit: typeof transmit }).transmit = (route, datagram) => {
      transmittedOn.push(route.id);
      transmit(route, datagram);
    };
    ours.adoptPeerRequest(
      { type: 'connect_request', session: 0x2000, heartbeatMs: 25_000, nick: 'them' },
      theirChannel,
      5,
    );
    expect(ours.state).toBe('open');
    expect(ours.route).toBe(theirChannel);
    expect(ours.wireId).toBe(0x2000);
    expect(h.sent.at(-1)).toMatchObject({ type: 'accept', session: 0x2000 });
    expect(transmittedOn).toEqual([2]);
    expect(h.events.at(-1)).toMatchObject({ type: 'accepted', nick: 'them' });
  });
});

describe('round-trip time', () => {
  it('is known from the handshake for an accepted session before anything is sent', () => {
    const h = harness({}, { handshakeRtt: 0.3 });
    const session = openResponder(h);
    expect(session.info().rtt).toBe(0.3);
  });

  it('leaves out the delay the peer reports holding its acknowledgement', () => {
    const h = harness({}, { handshakeRtt: 0.3 });
    const session = openResponder(h);
    for (let i = 0; i < 20; i++) {
      session.send(i + 1, `m${i}`, h.now);
      h.now += 5.3; // 0.3 ms of path, 5 ms of deliberate delay
      receive(h, session, ackOf(i + 1, 5));
      h.now += 100;
    }
    expect(session.info().rtt).toBeCloseTo(0.3, 1);
  });

  it('is measured from the answer to a heartbeat', () => {
    const h = harness();
    const session = openResponder(h, 1_000);
    expect(session.info().rtt).toBeUndefined();
    advance(h, session, 1_000);
    h.now = 1_040;
    receive(h, session, ackOf(0, 300)); // an answer's own ack delay is about text, not this heartbeat
    expect(session.info().rtt).toBe(40);
  });
});

describe('acknowledgements', () => {
  it('answers a heartbeat at once with an ack, and never answers an ack', () => {
    const h = harness();
    const session = openResponder(h);
    h.now = 3;
    receive(h, session, heartbeat);
    expect(typesOf(h, 3)).toEqual(['ack']);
    receive(h, session, ackOf(0));
    expect(typesOf(h, 3)).toEqual(['ack']);
  });

  it('answers heartbeats while lingering and closing too, and keeps its own going', () => {
    const h = harness();
    const session = openResponder(h, 1_000);
    session.send(1, 'pending', h.now);
    session.close(h.now);
    h.now = 100;
    receive(h, session, heartbeat);
    expect(session.state).toBe('lingering');
    expect(typesOf(h, 100)).toEqual(['ack']);
    receive(h, session, ackOf(1));
    expect(session.state).toBe('closing');
    h.now = 200;
    receive(h, session, heartbeat);
    expect(typesOf(h, 200)).toEqual(['ack']);
    advance(h, session, 1_000);
    expect(typesOf(h, 201)).toContain('heartbeat');
  });

  it('acknowledges an in-order fragment within ackDelay (5 ms by default), reporting the delay', () => {
    const h = harness();
    const session = openResponder(h);
    h.now = 10;
    receive(h, session, text(0, 'hi'));
    expect(session.nextDeadline()).toBe(15);
    advance(h, session, 15);
    expect(h.sent.at(-1)).toMatchObject({ type: 'ack', ack: 1, ackDelay: ackDelayToWire(5), at: 15 });
  });

  it('drops a fragment beyond the receive window without acknowledging it', () => {
    const h = harness({ window: 128 });
    const session = openResponder(h);
    const before = h.sent.length;
    receive(h, session, text(128, 'too far')); // the window is seq 0 … 127
    expect(h.sent.length).toBe(before);
    expect(session.nextDeadline()).toBeGreaterThan(1_000); // no ack timer either
    receive(h, session, text(127, 'last in the window'));
    expect(h.sent.at(-1)).toMatchObject({ type: 'ack', ack: 0, sack: 0 }); // out of order: at once
  });

  it('acknowledges the fragments of a message it drops as invalid: the sender counts it delivered', () => {
    const h = harness();
    const session = openResponder(h);
    receive(h, session, text(0, new Uint8Array([0xc3, 0x28])));
    advance(h, session, 10);
    expect(h.protocolErrors).toEqual(['message is not valid UTF-8']);
    expect(h.sent.at(-1)).toMatchObject({ type: 'ack', ack: 1 });
    expect(eventTypes(h)).not.toContain('message');
  });

  it('sends the pending acknowledgement before the disconnect', () => {
    const h = harness();
    const session = openResponder(h);
    receive(h, session, text(0, 'bye then'));
    session.close(h.now);
    expect(typesOf(h).slice(-2)).toEqual(['ack', 'disconnect']);
    expect(h.sent.at(-2)).toMatchObject({ ack: 1 });
  });

  it('while lingering takes no new text, but acknowledges again what it already had', () => {
    const h = harness();
    const session = openResponder(h);
    receive(h, session, text(0, 'before'));
    session.send(1, 'mine', h.now);
    session.close(h.now);
    expect(session.state).toBe('lingering');
    const from = 50;
    h.now = from;
    receive(h, session, text(1, 'after close'));
    expect(typesOf(h, from)).toEqual([]);
    receive(h, session, text(0, 'before'));
    expect(h.sent.filter((d) => d.at >= from)).toEqual([expect.objectContaining({ type: 'ack', ack: 1 })]);
    expect(h.events.filter((e) => e.type === 'message').map((e) => e.type === 'message' && e.text)).toEqual([
      'before',
    ]);
  });

  it('fragments carry at most MAX_FRAGMENT_BYTES (1142) of text', () => {
    expect(MAX_FRAGMENT_BYTES).toBe(1142);
    const h = harness();
    const session = openResponder(h);
    session.send(1, 'x'.repeat(MAX_FRAGMENT_BYTES + 1), h.now);
    const fragments = h.sent.filter((d) => d.type === 'text');
    expect(fragments.map((d) => d.type === 'text' && d.payload.length)).toEqual([MAX_FRAGMENT_BYTES, 1]);
  });
});
