/**
 * The stranger against the fresh registration's asking again (rendezvous/introductions.ts,
 * FRESH_REGISTRATION_MS): within 10 s of registering, an `unavailable` answer is asked again each
 * second until the request's timeout. A stranger that is registered nowhere opens chats with us
 * in those 10 s and falls silent: each silent chat is refound (rendezvous/refinds.ts, 2 a second
 * in all, in bursts of 4, "well under what a rendezvous reads from one host (5 a second, bursts of
 * 10), so our own user's requests are not refused for it"), and each refind is answered
 * `unavailable`. Measured on the virtual network: the introduce requests we send our rendezvous
 * in the window, the ones it refused for its rate, and how our user's own lookup of a registered
 * friend, made in the window, is answered.
 */
import { describe, expect, it } from 'vitest';
import { FRESH_REGISTRATION_MS, INTRODUCE_TIMEOUT_MS, REFIND_RATE } from '../src/rendezvous/client.js';
import { encodeRendezvous } from '../src/rendezvous/messages.js';
import { hostOf, RendezvousLab } from './support/rendezvous-lab.js';
import { eventsOf, type Node } from './support/virtual-network.js';

const STRANGER_CHATS = 12;

describe('a fresh registration and a stranger whose chats fall silent', () => {
  it(`${STRANGER_CHATS} silent chats of an unregistered stranger: refinds stay within their budget, and our own lookup is not refused for the rendezvous's rate`, () => {
    const lab = new RendezvousLab();
    const victim = lab.client('198.51.100.10', 4000);
    const friend = lab.client('198.51.100.20', 4000);
    expect(lab.run(() => lab.registered(victim, friend))).toBe(true);
    const registeredAt = lab.net.now;
    // The stranger: plain endpoints on one host (no rendezvous client), each asking the victim directly.
    const strangers: Node[] = [];
    for (let i = 0; i < STRANGER_CHATS; i++) {
      const node = lab.net.add('192.0.2.66', 7000 + i, { nick: `stranger${i}` });
      node.endpoint.connect(victim.node.address, lab.net.now);
      strangers.push(node);
    }
    const requests = () => eventsOf(victim.node, 'request');
    expect(lab.run(() => requests().length === STRANGER_CHATS, 5_000)).toBe(true);
    for (const r of requests()) victim.node.endpoint.accept(r.session, lab.net.now);
    expect(lab.run(() => strangers.every((s) => eventsOf(s, 'accepted').length > 0), 5_000)).toBe(true);
    // From now on the stranger answers nothing; the victim says something in each chat.
    lab.net.filter = (from) => from.host !== '192.0.2.66';
    const asked = () =>
      lab.server.stats.introductions + lab.server.stats.refused + lab.server.stats.rateLimited;
    const askedBefore = asked();
    const limitedBefore = lab.server.stats.rateLimited;
    for (const r of requests()) victim.node.endpoint.send(r.session, 'hello?', lab.net.now);
    // Our user looks a friend up while the window is still open.
    lab.runFor(Math.max(0, registeredAt + FRESH_REGISTRATION_MS / 2 - lab.net.now));
    const lookup = victim.client.introduce(friend.fingerprint, lab.net.now);
    const settled = () =>
      [...lab.updatesOf(victim, 'ready'), ...lab.updatesOf(victim, 'failed')].find(
        (u) => u.request === lookup,
      );
    expect(lab.run(() => settled() !== undefined, 10_000)).toBe(true);
    lab.runFor(Math.max(0, registeredAt + FRESH_REGISTRATION_MS - lab.net.now));
    const windowSeconds = (lab.net.now - registeredAt) / 1000;
    // The requests the rendezvous read from the victim since the stranger fell silent (the victim
    // is the only client on its host, and asks nothing else).
    const introduces = asked() - askedBefore;
    const refinds = victim.client.stats.refinds;
    const limited = lab.server.stats.rateLimited - limitedBefore;
    console.log(
      `[fresh registration] ${STRANGER_CHATS} silent stranger chats, ${windowSeconds.toFixed(1)} s after registering: ${refinds} refinds, ${introduces} introduce requests to the rendezvous, ${limited} refused for its rate; our lookup: ${settled()?.type} ${(settled() as { reason?: string })?.reason ?? ''}`,
    );
    expect(settled()).toMatchObject({ type: 'ready' });
    expect(limited).toBe(0);
    // Each refind one request (plus our user's lookup): nothing asked again outside the budget.
    expect(introduces).toBeLessThanOrEqual(REFIND_RATE.burst + REFIND_RATE.perSecond * windowSeconds + 1);
  });

  it('a rendezvous that floods `unavailable` for our lookup (50 a second) gets no more requests for it than the 5 a quiet one gets, and the lookup fails within its timeout', () => {
    const lab = new RendezvousLab();
    const victim = lab.client('198.51.100.10', 4000);
    expect(lab.run(() => lab.registered(victim))).toBe(true);
    const asked = () =>
      lab.server.stats.introductions + lab.server.stats.refused + lab.server.stats.rateLimited;
    const askedBefore = asked();
    const rendezvous = hostOf(lab.rendezvous.endpoint);
    const session = lab.rendezvous.endpoint.listSessions().find((s) => s.peer.host === '198.51.100.10');
    const channel = session && rendezvous.channelOf(session.id);
    if (!channel) throw new Error('no session with the victim');
    const askedAt = lab.net.now;
    const request = victim.client.introduce('AAAA-BBBB-CCCC-DDDD', lab.net.now);
    const settled = () => lab.updatesOf(victim, 'failed').find((u) => u.request === request);
    let forged = 0;
    for (let i = 0; i < 400 && settled() === undefined; i++) {
      rendezvous.sendControl(
        channel.id,
        encodeRendezvous({ type: 'introduce_failed', request, reason: 'unavailable' }),
        lab.net.now,
      );
      forged++;
      lab.runFor(20);
    }
    const requests = asked() - askedBefore;
    console.log(
      `[fresh registration] ${forged} forged unavailable answers in ${((lab.net.now - askedAt) / 1000).toFixed(1)} s: ${requests} requests for the lookup, settled ${JSON.stringify(settled()?.reason)} after ${(settled()?.at ?? Number.NaN) - askedAt} ms`,
    );
    expect(settled()).toMatchObject({ type: 'failed', reason: 'unavailable' });
    expect((settled()?.at ?? 0) - askedAt).toBeLessThanOrEqual(INTRODUCE_TIMEOUT_MS);
    // The first ask, and at most one a second after it (each answer only moves the next one).
    expect(requests).toBeLessThanOrEqual(INTRODUCE_TIMEOUT_MS / 1_000);
  });

  it('8 users behind one address, each looking up a friend who registers 2 s later: all found, though the rendezvous reads 5 requests a second from their host', () => {
    const USERS = 8;
    const lab = new RendezvousLab();
    const office = Array.from({ length: USERS }, (_, i) => lab.client('198.51.100.30', 4000 + i));
    const friends = Array.from({ length: USERS }, (_, i) => lab.client(`198.51.100.${100 + i}`, 4000));
    // The friends' programs are not running yet: their clients send nothing until they are.
    for (const friend of friends) friend.node.frozen = true;
    expect(lab.run(() => lab.registered(...office))).toBe(true);
    const requests = office.map((user, i) =>
      user.client.introduce(friends[i]?.fingerprint ?? '', lab.net.now),
    );
    lab.runFor(2_000);
    for (const friend of friends) friend.node.frozen = false;
    const outcome = (i: number) => {
      const user = office[i];
      if (!user) return undefined;
      const u = [...lab.updatesOf(user, 'ready'), ...lab.updatesOf(user, 'failed')].find(
        (x) => x.request === requests[i],
      );
      return u && (u.type === 'ready' ? 'ready' : u.reason);
    };
    expect(lab.run(() => office.every((_, i) => outcome(i) !== undefined), 10_000)).toBe(true);
    const outcomes = office.map((_, i) => outcome(i));
    console.log(
      `[fresh registration] ${USERS} users behind one address: ${outcomes.join(', ')}; ${lab.server.stats.rateLimited} requests refused for the rate on the way`,
    );
    // Asked again after rate_limited too: before, all 8 failed rate_limited (4 users: 2 of them).
    expect(outcomes).toEqual(office.map(() => 'ready'));
  });

  it('a client that floods 30 lookups in its fresh window: each asked at most once a second, the introductions within the rate, the punches bounded', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    const b = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    const asked = () =>
      lab.server.stats.introductions + lab.server.stats.refused + lab.server.stats.rateLimited;
    const askedBefore = asked();
    const startedAt = lab.net.now;
    for (let i = 0; i < 30; i++) a.client.introduce(b.fingerprint, lab.net.now);
    lab.run(() => lab.updatesOf(a, 'failed').length + lab.updatesOf(a, 'ready').length >= 30);
    const seconds = (lab.net.now - startedAt) / 1000;
    console.log(
      `[fresh registration] 30 lookups at once: ${asked() - askedBefore} requests read in ${seconds.toFixed(1)} s, ${lab.server.stats.introductions} introductions, ${b.client.stats.punches} punches by the peer named`,
    );
    // Each request asked at most once a second within its 5 s; introductions within the rate
    // (bursts of 10, then 5 a second); the introduced side's punches within its own bound.
    expect(asked() - askedBefore).toBeLessThanOrEqual(30 * (INTRODUCE_TIMEOUT_MS / 1_000));
    expect(lab.server.stats.introductions).toBeLessThanOrEqual(10 + 5 * Math.ceil(seconds));
    expect(b.client.stats.punches).toBeLessThanOrEqual(16);
  });
});
