/**
 * Closing does not give up on a live peer (PROTOCOL.md, Closing): a close lingers while the peer
 * is alive and takes our text, however long that is; it gives up only when the peer is lost or
 * takes nothing for 16 retransmission timeouts in a row; the application may still close at once
 * or bound the linger. On virtual time.
 */
import { describe, expect, it } from 'vitest';
import { eventsOf, type Node, openPair, VirtualNetwork } from './support/virtual-network.js';

/**
 * What a piping script does (`printf … | netchat --connect`): every line sent as soon as it can
 * be, then the session closed at once, over a lossy path like the loss lab's relay (30 % loss
 * each way, 5 % duplicates, reordering). Runs until the sender has forgotten the session.
 */
function pipeThenClose(seed: number, messages: number) {
  const net = new VirtualNetwork(seed);
  const { a, b, sa } = openPair(net, { heartbeatInterval: 1_000 });
  net.conditions = { latency: 40, jitter: 40, loss: 0.3, duplicate: 0.05 };
  const texts = Array.from({ length: messages }, (_, i) => `line ${i} of the script`);
  const ids = texts.map((text) => a.endpoint.send(sa, text, net.now));
  const closedAt = net.now;
  a.endpoint.close(sa, net.now);
  net.run(() => a.endpoint.session(sa) === undefined, net.now + 600_000);
  return { net, a, b, sa, texts, ids, closedAt };
}

/** Every message `sender` reported delivered had reached `receiver`'s application by then. */
function deliveredLies(sender: Node, receiver: Node, textOf: Map<number, string>) {
  const arrived = new Map(eventsOf(receiver, 'message').map((m) => [m.text, m.at]));
  return eventsOf(sender, 'delivered').filter((d) => {
    const at = arrived.get(textOf.get(d.messageId) ?? '');
    return at === undefined || at > d.at;
  });
}

describe('a lingering close', () => {
  it('delivers everything a script piped through 30 % loss before it disconnects, whatever the seed', () => {
    const longest: number[] = [];
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const { net, a, b, texts, ids, closedAt } = pipeThenClose(seed, 300);
      const why = `seed ${seed}`;
      expect(
        eventsOf(b, 'message').map((m) => m.text),
        why,
      ).toEqual(texts);
      expect(
        eventsOf(a, 'delivered').map((d) => d.messageId),
        why,
      ).toEqual(ids);
      expect(eventsOf(a, 'failed'), why).toEqual([]);
      expect(deliveredLies(a, b, new Map(ids.map((id, i) => [id, texts[i] ?? '']))), why).toEqual([]);
      // b heard the close after the last message, and said goodbye properly.
      expect(eventsOf(b, 'closed'), why).toEqual([expect.objectContaining({ reason: 'peer_closed' })]);
      expect(eventsOf(a, 'lost'), why).toEqual([]);
      longest.push((eventsOf(a, 'delivered').at(-1)?.at ?? 0) - closedAt);
      net.runFor(10_000);
      expect(b.endpoint.busy, why).toBe(false);
    }
    // The point of lingering by progress: a fixed 3 s (the old closeLinger) was not enough here.
    expect(Math.max(...longest)).toBeGreaterThan(3_000);
  });

  it('ends when the peer is lost while lingering: what is left fails as lost', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net, { heartbeatInterval: 200 });
    net.filter = (from) => from.port !== b.address.port; // b froze: it hears, but says nothing
    const id = a.endpoint.send(sa, 'into the void', net.now);
    const from = net.now;
    a.endpoint.close(sa, net.now);
    net.run(() => a.endpoint.session(sa) === undefined, net.now + 10_000);
    // Lost by the liveness rule (3 × 200 + 100 ms of silence), long before 16 timeouts.
    expect(eventsOf(a, 'lost')).toEqual([expect.objectContaining({ at: from + 700 })]);
    expect(eventsOf(a, 'failed')).toEqual([expect.objectContaining({ messageId: id, reason: 'lost' })]);
  });

  it('ends, bounded, when both sides close at once with text in flight that neither takes any more', () => {
    const net = new VirtualNetwork();
    const { a, b, sa, sb } = openPair(net, { heartbeatInterval: 200 });
    // Both texts are lost once, so both sides are lingering when the resends arrive: a lingering
    // side takes no new text, so neither is ever acknowledged.
    let dropped = 0;
    net.filter = (_f, _t, _d, message) => message?.type !== 'text' || dropped++ >= 2;
    a.endpoint.send(sa, 'from a', net.now);
    b.endpoint.send(sb, 'from b', net.now);
    a.endpoint.close(sa, net.now);
    b.endpoint.close(sb, net.now);
    net.run(() => !a.endpoint.busy && !b.endpoint.busy, net.now + 120_000);
    expect(a.endpoint.busy || b.endpoint.busy).toBe(false);
    for (const node of [a, b]) {
      expect(eventsOf(node, 'delivered')).toEqual([]);
      expect(eventsOf(node, 'message')).toEqual([]);
      expect(eventsOf(node, 'failed')).toEqual([expect.objectContaining({ reason: 'closed' })]);
    }
  });
});

describe('closing at once, or within a bound', () => {
  /** a has one message in flight that never arrives (b takes nothing a sends as text). */
  function stuckMessage() {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net);
    net.filter = (from, _t, _data, message) => from.port !== a.address.port || message?.type !== 'text';
    const id = a.endpoint.send(sa, 'stuck', net.now);
    return { net, a, b, sa, id, at: net.now };
  }

  it('closes at once with linger: false: what is in flight fails now, and the disconnect goes now', () => {
    const { net, a, b, sa, id, at } = stuckMessage();
    a.endpoint.close(sa, net.now, { linger: false });
    net.collect();
    expect(eventsOf(a, 'failed')).toEqual([expect.objectContaining({ messageId: id, reason: 'closed', at })]);
    expect(a.endpoint.session(sa)?.state).toBe('closing');
    expect(a.sent.at(-1)?.message?.type).toBe('disconnect');
    net.runFor(100);
    expect(eventsOf(b, 'closed')).toHaveLength(1);
    expect(a.endpoint.busy).toBe(false);
  });

  it('lingers at most the number of ms the close names', () => {
    const { net, a, sa, id, at } = stuckMessage();
    a.endpoint.close(sa, net.now, { linger: 1_000 });
    net.runFor(2_000);
    expect(eventsOf(a, 'failed')).toEqual([expect.objectContaining({ messageId: id, at: at + 1_000 })]);
  });

  it('lets a second close shorten a linger, never lengthen it', () => {
    const { net, a, sa, id, at } = stuckMessage();
    a.endpoint.close(sa, net.now, { linger: 1_000 });
    net.runFor(200);
    a.endpoint.close(sa, net.now, { linger: 5_000 }); // later: no effect
    net.runFor(300);
    a.endpoint.close(sa, net.now); // unbounded: no effect either
    expect(a.endpoint.session(sa)?.state).toBe('lingering');
    a.endpoint.close(sa, net.now, { linger: false }); // at once
    net.collect();
    expect(eventsOf(a, 'failed')).toEqual([expect.objectContaining({ messageId: id, at: at + 500 })]);
  });

  it('at shutdown (closeAll) lingers at most closeLinger (3 s by default)', () => {
    const { net, a, id, at } = stuckMessage();
    a.endpoint.closeAll(net.now);
    net.runFor(4_000);
    expect(eventsOf(a, 'failed')).toEqual([expect.objectContaining({ messageId: id, at: at + 3_000 })]);
    expect(a.endpoint.busy).toBe(false);
  });

  it('refuses a linger that is not a number of milliseconds', () => {
    const { net, a, sa } = stuckMessage();
    for (const linger of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => a.endpoint.close(sa, net.now, { linger })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    expect(a.endpoint.session(sa)?.state).toBe('open');
  });
});
