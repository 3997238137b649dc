/** json-session-ends.ts: which engine events still reach a script after this side ended a session. */
import type { NetchatEvent, SessionState } from '@netchat/core';
import { describe, expect, it } from 'vitest';
import { JsonSessionEnds } from '../src/json-session-ends.js';

const peer = { host: '127.0.0.1', port: 7 } as NetchatEvent['peer'];

describe('JsonSessionEnds', () => {
  it("after a local close or decline, drops the session's events but its messages' fates", () => {
    const states: Record<number, SessionState> = { 1: 'lingering', 2: 'draining', 3: 'closed' };
    const ends = new JsonSessionEnds((id) => states[id]);
    ends.noteLocal({ type: 'closed', session: 1, peer, reason: 'local' });
    ends.noteLocal({
      type: 'declined',
      session: 2,
      peer,
      reason: 'busy',
      detail: 'in another chat',
      by: 'local',
    });
    ends.noteLocal({ type: 'cancelled', target: 'bob', session: 4, peer });
    expect(ends.tells({ type: 'lost', session: 1, peer, missed: 3 })).toBe(false);
    expect(ends.tells({ type: 'heartbeat_missed', session: 1, peer, count: 2 })).toBe(false);
    expect(ends.tells({ type: 'closed', session: 2, peer, reason: 'peer_restarted' })).toBe(false);
    expect(ends.tells({ type: 'delivered', session: 1, peer, messageId: 4 })).toBe(true);
    expect(ends.tells({ type: 'failed', session: 1, peer, messageId: 5, reason: 'lost' })).toBe(true);
    // Withdrawing our request ends its session in the engine at once: nothing to hold back.
    expect(ends.tells({ type: 'no_answer', session: 4, peer })).toBe(true);
    expect(ends.tells({ type: 'lost', session: 9, peer, missed: 3 })).toBe(true);
  });

  it('a session the engine had already ended when netchat closed it keeps its own end (lost)', () => {
    const ends = new JsonSessionEnds(() => 'closed');
    ends.noteLocal({ type: 'closed', session: 3, peer, reason: 'local' });
    expect(ends.tells({ type: 'lost', session: 3, peer, missed: 3 })).toBe(true);
    const gone = new JsonSessionEnds(() => undefined);
    gone.noteLocal({ type: 'closed', session: 3, peer, reason: 'local' });
    expect(gone.tells({ type: 'lost', session: 3, peer, missed: 3 })).toBe(true);
  });

  it('forgets ended sessions the engine has let go of, and only those', () => {
    const held = new Set([5]);
    const ends = new JsonSessionEnds((id) => (held.has(id) ? 'closing' : undefined));
    for (let id = 1; id <= 200; id++) {
      held.add(id);
      ends.noteLocal({ type: 'closed', session: id, peer, reason: 'local' });
      if (id !== 5) held.delete(id);
    }
    expect(ends.tells({ type: 'lost', session: 5, peer, missed: 3 })).toBe(false);
    expect(ends.tells({ type: 'lost', session: 200, peer, missed: 3 })).toBe(false);
    // The rest were let go of and forgotten (ids are never reused, so none can come back).
    expect((ends as unknown as { ended: Set<number> }).ended.size).toBeLessThan(70);
  });
});
