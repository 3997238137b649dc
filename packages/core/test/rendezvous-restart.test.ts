/**
 * A rendezvous killed and started again at once (same key, same address, nothing remembered):
 * its clients' channels are gone on its side, and it answers nothing on them. A client finds
 * out at its first request that gets no answer (it probes its session, as a key seen from a new
 * address is probed) or at its next heartbeat, and registers anew: the rendezvous serves again
 * within seconds, not after the 87.5 s the heartbeats alone take.
 */
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_ANSWER_MS, RECONNECT_INITIAL_MS } from '../src/rendezvous/client.js';
import { chat, RendezvousLab } from './support/rendezvous-lab.js';

function registeredPair() {
  const lab = new RendezvousLab();
  const a = lab.home('endpoint-independent');
  const b = lab.home('endpoint-independent');
  expect(lab.run(() => lab.registered(a, b))).toBe(true);
  lab.runFor(10_000); // round trips measured, heartbeats on their grid
  return { lab, a, b };
}

describe('rendezvous restarted', () => {
  it('a lookup that gets no answer makes the client register anew within a few seconds', () => {
    const { lab, a, b } = registeredPair();
    lab.restartRendezvous();
    const restartedAt = lab.net.now;
    const request = a.client.introduce(b.fingerprint, lab.net.now);
    // No answer in a second: a probes its session, finds it dead, and registers with the new rendezvous.
    expect(lab.run(() => lab.server.size >= 1, 10_000)).toBe(true);
    const back = lab.net.now - restartedAt;
    expect(back).toBeLessThan(4_000);
    expect(a.client.stats.probes).toBeGreaterThanOrEqual(1);
    // The request is answered within its 5 s (b, not back yet, is unavailable): never "did not answer".
    expect(
      lab.run(
        () =>
          lab.updatesOf(a, 'failed').some((u) => u.request === request) ||
          lab.updatesOf(a, 'ready').some((u) => u.request === request),
      ),
    ).toBe(true);
    expect(lab.updatesOf(a, 'failed').find((u) => u.request === request)?.reason).not.toBe('timeout');
    console.log(`[rendezvous restart] the asker was registered again ${back} ms after the restart`);
  });

  it('a client with nothing to ask finds out at its next heartbeat; then lookups work again', () => {
    const { lab, a, b } = registeredPair();
    lab.restartRendezvous();
    const restartedAt = lab.net.now;
    // Each is back within one heartbeat interval (25 s), its answer time, a probe and the first reconnect gap.
    const bound = 25_000 + HEARTBEAT_ANSWER_MS + 2_000 + RECONNECT_INITIAL_MS + 1_000;
    expect(lab.run(() => lab.server.size === 2 && lab.registered(a, b), bound)).toBe(true);
    const back = lab.net.now - restartedAt;
    expect(back).toBeLessThanOrEqual(bound);
    expect(lab.updatesOf(a, 'unregistered')[0]).toMatchObject({
      wasRegistered: true,
      retryIn: RECONNECT_INITIAL_MS,
    });
    expect(chat(lab, a, b).accepted).toBeDefined();
    console.log(`[rendezvous restart] both clients were registered again ${back} ms after the restart`);
  });

  it('a live rendezvous that answers is never doubted: no probe, no new registration', () => {
    const { lab, a, b } = registeredPair();
    lab.runFor(200_000);
    for (let i = 0; i < 3; i++) expect(chat(lab, a, b).accepted).toBeDefined();
    expect(a.client.stats.probes).toBe(0);
    expect(lab.updatesOf(a, 'unregistered')).toHaveLength(0);
    expect(lab.updatesOf(a, 'registered')).toHaveLength(1);
  });
});
