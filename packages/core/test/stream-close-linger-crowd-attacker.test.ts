/**
 * Many closes lingering at once (PROTOCOL.md, Closing), each held by a stranger that acknowledges
 * 1 stream_ack in 100 and, while we linger, opens streams, writes on them and resets them as fast
 * as its limits let it. Measured on the virtual network: when the sessions are gone, the bytes we
 * send meanwhile, that nothing of theirs reaches the application, and that no state or timer is
 * left after.
 */
import { describe, expect, it } from 'vitest';
import type { SessionId } from '../src/index.js';
import { STREAM_LINGER_MS } from '../src/streams/stream-set.js';
import { randomData } from './support/partial-files.js';
import { eventsOf, type Node, VirtualNetwork } from './support/virtual-network.js';

const STRANGERS = 60;
const WRITTEN = 20_000;

describe('many closes lingering at once, attacked', () => {
  it(`${STRANGERS} strangers acking 1 stream_ack in 100 and opening, writing and resetting streams while we linger: all gone within STREAM_LINGER_MS, bounded bytes, nothing delivered, no timer left`, () => {
    const net = new VirtualNetwork(17);
    net.conditions = { latency: 10, jitter: 0, loss: 0, duplicate: 0 };
    const victim = net.add('10.0.0.1', 1000, { nick: 'victim', streams: true, maxSessions: 1000 });
    const strangers: Node[] = [];
    const theirs: SessionId[] = [];
    for (let i = 0; i < STRANGERS; i++) {
      const s = net.add(`10.1.0.${i + 1}`, 2000 + i, { nick: `s${i}`, streams: true });
      theirs.push(s.endpoint.connect(victim.address, net.now));
      strangers.push(s);
    }
    expect(net.run(() => eventsOf(victim, 'request').length === STRANGERS, net.now + 20_000)).toBe(true);
    for (const r of eventsOf(victim, 'request')) victim.endpoint.accept(r.session, net.now);
    const ours = eventsOf(victim, 'request').map((r) => r.session);
    const ready = () =>
      ours.every((id) => victim.endpoint.session(id)?.peerFeatures !== undefined) &&
      strangers.every((s, i) => s.endpoint.session(theirs[i] as SessionId)?.peerFeatures !== undefined);
    expect(net.run(ready, net.now + 20_000)).toBe(true);

    const strangerPorts = new Set(strangers.map((s) => s.address.port));
    let acks = 0;
    net.filter = (from, _to, _data, message) =>
      !(strangerPorts.has(from.port) && message?.type === 'stream_ack' && acks++ % 100 !== 0);
    for (const id of ours) {
      const stream = victim.endpoint.openStream(id, net.now, { lingers: true });
      victim.endpoint.writeStream(id, stream, randomData(WRITTEN, id), net.now);
    }
    const openedBefore = eventsOf(victim, 'stream_opened').length;
    const closedAt = net.now;
    for (const id of ours) victim.endpoint.close(id, net.now);
    expect(ours.every((id) => victim.endpoint.session(id)?.state === 'lingering')).toBe(true);

    let opened = 0;
    let reset = 0;
    for (let round = 0; round < 1_000 && victim.endpoint.listSessions().length > 0; round++) {
      strangers.forEach((s, i) => {
        const id = theirs[i] as SessionId;
        if (s.endpoint.session(id)?.state !== 'open') return;
        try {
          const stream = s.endpoint.openStream(id, net.now);
          opened++;
          s.endpoint.writeStream(id, stream, randomData(1_000, round), net.now);
          s.endpoint.cancelStream(id, stream, net.now, 7);
          reset++;
        } catch {
          // At its stream limit until the victim raises it: it tries again next round.
        }
      });
      net.runFor(20);
    }
    const gone = net.now - closedAt;
    const out = victim.sent.filter((s) => s.at >= closedAt).reduce((n, s) => n + s.data.length, 0);
    console.log(
      `${STRANGERS} lingering closes: gone ${gone} ms after the close; the strangers opened ${opened} streams and reset ${reset} meanwhile; ${out} bytes sent (${(out / STRANGERS).toFixed(0)} a session for ${WRITTEN} written)`,
    );
    expect(victim.endpoint.listSessions()).toEqual([]);
    expect(gone).toBeLessThan(STREAM_LINGER_MS + 5_000);
    expect(opened).toBeGreaterThan(STRANGERS); // they did open streams during the linger
    expect(eventsOf(victim, 'stream_opened')).toHaveLength(openedBefore);
    // What was written, each byte sent a few times at most, the probes, and answers to their resets.
    expect(out / STRANGERS).toBeLessThan(4 * WRITTEN + 2 * 8 * 1452 + 5_000);
    net.filter = () => true;
    net.runFor(30_000);
    expect(victim.endpoint.nextTimeout()).toBeUndefined();
  });
});
