import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from '../src/deadline-queue.js';
import { seededRandom } from './support/random.js';

/** Items whose current deadline the test controls, as sessions' are. */
function queueOf() {
  const deadline = new Map<string, number | undefined>();
  const queue = new DeadlineQueue<string>((item) => deadline.get(item));
  const schedule = (item: string, at: number | undefined) => {
    deadline.set(item, at);
    if (at !== undefined) queue.push(item, at);
  };
  return { queue, schedule, deadline };
}

describe('DeadlineQueue', () => {
  it('hands out items in deadline order, each once, whatever order they came in', () => {
    const { queue, schedule, deadline } = queueOf();
    const random = seededRandom(5);
    for (let i = 0; i < 500; i++) schedule(`s${i}`, Math.floor(random() * 10_000));
    const expected = [...deadline.entries()]
      .sort((a, b) => (a[1] as number) - (b[1] as number))
      .map(([, at]) => at);
    const taken: number[] = [];
    for (let now = 0; now <= 10_000; now += 250) {
      for (const item of queue.takeDue(now)) {
        const at = deadline.get(item) as number;
        expect(at).toBeLessThanOrEqual(now);
        taken.push(at);
        deadline.set(item, undefined); // as a session whose timers are done
      }
    }
    expect(taken).toEqual(expected);
    expect(queue.peek()).toBeUndefined();
    expect(queue.size).toBe(0);
  });

  it('skips an entry whose item has moved its deadline since, and one with no deadline left', () => {
    const { queue, schedule } = queueOf();
    schedule('moved', 10);
    schedule('moved', 30); // the entry at 10 is now stale
    schedule('gone', 20);
    schedule('gone', undefined);
    schedule('steady', 25);
    expect(queue.size).toBe(4);
    expect(queue.peek()).toBe(25);
    expect(queue.takeDue(24)).toEqual([]);
    expect(queue.takeDue(30)).toEqual(['steady', 'moved']);
    expect(queue.size).toBe(0);
  });

  it('gives back an item moved earlier at its new deadline', () => {
    const { queue, schedule } = queueOf();
    schedule('a', 100);
    schedule('b', 50);
    schedule('a', 10);
    expect(queue.takeDue(10)).toEqual(['a']);
    expect(queue.takeDue(99)).toEqual(['b']);
    // a's old entry at 100 is stale (a's deadline is 10, already taken): nothing more.
    expect(queue.takeDue(1_000)).toEqual([]);
  });

  it('keeps equal deadlines apart and hands out all of them', () => {
    const { queue, schedule } = queueOf();
    for (const item of ['x', 'y', 'z']) schedule(item, 7);
    expect(queue.takeDue(7).sort()).toEqual(['x', 'y', 'z']);
  });
});
