/**
 * A lookup made just after registering: the rendezvous may have just started (or restarted), so
 * it knows only who registered so far, and the peer asked for may register a moment later (the
 * NAT lab: both peers waiting for a rendezvous not yet up, or a new peer asking right after a
 * restart, got `cannot find the peer` and exit 3 while the peer registered 1 to 5 s later). Within
 * FRESH_REGISTRATION_MS of its registration a client asks again each second after `unavailable`,
 * until the request's timeout; later, `unavailable` fails the request at once.
 */
import { describe, expect, it } from 'vitest';
import { FRESH_REGISTRATION_MS, INTRODUCE_TIMEOUT_MS } from '../src/rendezvous/client.js';
import { chat, type Peer, RendezvousLab } from './support/rendezvous-lab.js';

/** How the request settled, and when (ms after it was asked). */
function lookup(lab: RendezvousLab, a: Peer, fingerprint: string) {
  const request = a.client.introduce(fingerprint, lab.net.now);
  const askedAt = lab.net.now;
  const settled = () =>
    [...lab.updatesOf(a, 'ready'), ...lab.updatesOf(a, 'failed')].find((u) => u.request === request);
  lab.run(() => settled() !== undefined, 20_000);
  const answer = settled();
  return { answer, after: (answer?.at ?? Number.NaN) - askedAt };
}

describe('rendezvous: a lookup just after registering', () => {
  it('finds a peer that registers two seconds after the asker asked (its program slower to start)', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a))).toBe(true);
    // b's program is not running yet: its client sends nothing until it is.
    const b = lab.home('endpoint-independent');
    b.node.frozen = true;
    const request = a.client.introduce(b.fingerprint, lab.net.now);
    lab.runFor(2_000);
    b.node.frozen = false;
    const settled = () =>
      [...lab.updatesOf(a, 'ready'), ...lab.updatesOf(a, 'failed')].find((u) => u.request === request);
    expect(lab.run(() => settled() !== undefined, 10_000)).toBe(true);
    expect(settled()).toMatchObject({ type: 'ready' });
    // The rendezvous answered each time: a never doubted its session.
    expect(a.client.stats.probes).toBe(0);
  });

  it('an unknown fingerprint and a peer that refuses the asker are answered alike: unavailable at the timeout', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    const strict = lab.home('endpoint-independent', 'listed', []);
    expect(lab.run(() => lab.registered(a, strict))).toBe(true);
    const unknown = lookup(lab, a, 'AAAA-BBBB-CCCC-DDDD');
    const refusedBefore = lab.server.stats.refused;
    const refusing = lookup(lab, a, strict.fingerprint);
    for (const { answer, after } of [unknown, refusing]) {
      expect(answer).toMatchObject({ type: 'failed', reason: 'unavailable' });
      expect(after).toBeGreaterThan(INTRODUCE_TIMEOUT_MS - 1_500);
      expect(after).toBeLessThanOrEqual(INTRODUCE_TIMEOUT_MS);
    }
    expect(Math.abs(unknown.after - refusing.after)).toBeLessThan(200);
    expect(lab.server.stats.refused - refusedBefore).toBe(refusedBefore);
    expect(lab.updatesOf(strict, 'punched')).toHaveLength(0);
  });

  it('long after registering, unavailable fails the request at once (one answer, nothing asked again)', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    const b = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    lab.runFor(FRESH_REGISTRATION_MS);
    const { answer, after } = lookup(lab, a, 'AAAA-BBBB-CCCC-DDDD');
    expect(answer).toMatchObject({ type: 'failed', reason: 'unavailable' });
    expect(after).toBeLessThan(1_000);
    expect(lab.server.stats.refused).toBe(1);
    expect(chat(lab, a, b).accepted).toBeDefined();
  });
});
