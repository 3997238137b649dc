/**
 * The handshake on its own (two SecureTransports, no sessions), on virtual time: connects that
 * recover from loss, cookies only under load, limits per host, the channel limit, floods.
 */
import { describe, expect, it } from 'vitest';
import { SecureNet } from './support/secure-net.js';

/** Both sides hold the channel, and the initiator knows the responder has it. */
function connectOnce(seed: number, loss: number) {
  const net = new SecureNet(seed);
  net.loss = loss;
  const a = net.add('10.0.0.1', 1111, {}, seed * 2 + 1);
  const b = net.add('10.0.0.2', 2222, {}, seed * 2 + 2);
  const channel = a.transport.connect(b.address, 0);
  const done = () =>
    channel.isOpen &&
    b.opened.some((o) => o.channel.remoteIndex === channel.id && o.channel.isOpen) &&
    a.transport.nextTimeout() === undefined;
  const ok = net.run(done, 30_000);
  return { ok, at: net.now, net, a, b, channel };
}

describe('connects that recover', () => {
  it('at 50% loss each way at least 18 of 20 seeded connects complete; at 30%, all 20', () => {
    const at50 = Array.from({ length: 20 }, (_, i) => connectOnce(i + 1, 0.5));
    const at30 = Array.from({ length: 20 }, (_, i) => connectOnce(i + 1, 0.3));
    console.log(
      'connect at 50%:',
      at50.filter((r) => r.ok).length,
      'of 20; at 30%:',
      at30.filter((r) => r.ok).length,
      'of 20; restarts',
      at50.reduce((n, r) => n + r.a.transport.stats.handshakesRestarted, 0),
    );
    expect(at50.filter((r) => r.ok).length).toBeGreaterThanOrEqual(18);
    expect(at30.filter((r) => r.ok).length).toBe(20);
  });
});
