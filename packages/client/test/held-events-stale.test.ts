/**
 * The client hears an event after the engine already forgot its session: NetchatPeer holds every
 * event of a batch of datagrams behind a stream that became readable in it (core's
 * node/held-events.ts), so a `delivered` may be told after the peer's disconnect of the same
 * batch was handled. Texts held back (the send queue was full) are handed over on `delivered`:
 * the send then finds no session. Virtual time, the events held by hand as a batch would hold them.
 */
import type { NetchatEvent } from '@netchat/core';
import { VirtualNetwork } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { ChatClient, type ClientUpdate } from '../src/index.js';
import { openChat } from './support/open-chat.js';

describe('an event told after its session was forgotten', () => {
  it('a delivered that hands held-back texts to a session already gone: no throw, they are reported not sent', async () => {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const a = new ChatClient(alice, alice.knownPeers, { clock: () => net.now });
    const b = new ChatClient(bob, bob.knownPeers, { clock: () => net.now });
    const updates: ClientUpdate[] = [];
    a.subscribe((u) => updates.push(u));
    let held: NetchatEvent[] | undefined;
    alice.onEvent((e) => (held ? held.push(e) : a.handle(e)));
    bob.onEvent((e) => b.handle(e));
    const { mine, theirs } = await openChat(net, a, b, bob.address);
    const sent = Array.from({ length: 150 }, (_, i) => a.send(mine, `${i} ${'y'.repeat(10_000)}`));
    expect(a.hasRoom(mine)).toBe(false);
    // From now on alice's events wait, as behind a readable stream of the same batch.
    held = [];
    const events = held;
    expect(net.run(() => events.some((e) => e.type === 'delivered'), 30_000)).toBe(true);
    b.close(theirs);
    expect(net.run(() => alice.session(mine.session ?? -1) === undefined, 30_000)).toBe(true);
    held = undefined;
    const thrown: unknown[] = [];
    for (const e of events) {
      try {
        a.handle(e);
      } catch (error) {
        thrown.push(error);
      }
    }
    expect(thrown).toEqual([]);
    expect(mine.state).toBe('ended');
    expect(sent.every((m) => m.status !== 'pending')).toBe(true);
    expect(sent.some((m) => m.status === 'not_sent')).toBe(true);
  });
});
