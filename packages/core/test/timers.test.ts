import { describe, expect, it } from 'vitest';
import { TIMER_NAMES, Timers } from '../src/session/timers.js';

describe('Timers', () => {
  it('has one deadline per name, and the next deadline is the smallest set', () => {
    const timers = new Timers();
    expect(timers.next()).toBeUndefined();
    timers.set('heartbeat', 300);
    timers.set('ack', 105);
    timers.set('liveness', 450);
    expect(timers.next()).toBe(105);
    timers.set('ack', 500); // setting again replaces
    expect(timers.next()).toBe(300);
    expect(timers.get('ack')).toBe(500);
    timers.clear('heartbeat');
    expect(timers.get('heartbeat')).toBeUndefined();
    expect(timers.next()).toBe(450);
    timers.clearAll();
    expect(timers.next()).toBeUndefined();
  });

  it('takes a timer only when it is due, returning the deadline it had', () => {
    const timers = new Timers();
    timers.set('heartbeat', 1_000);
    expect(timers.take('heartbeat', 999)).toBeUndefined();
    expect(timers.get('heartbeat')).toBe(1_000);
    expect(timers.take('heartbeat', 1_234)).toBe(1_000);
    expect(timers.get('heartbeat')).toBeUndefined();
    expect(timers.take('heartbeat', 5_000)).toBeUndefined();
    expect(timers.take('drain', 5_000)).toBeUndefined();
  });

  it('keeps every name apart', () => {
    const timers = new Timers();
    TIMER_NAMES.forEach((name, i) => {
      timers.set(name, 100 + i);
    });
    expect(new Set(TIMER_NAMES).size).toBe(TIMER_NAMES.length);
    TIMER_NAMES.forEach((name, i) => {
      expect(timers.get(name)).toBe(100 + i);
    });
    expect(timers.next()).toBe(100);
    expect(timers.take(TIMER_NAMES[0], 100)).toBe(100);
    expect(timers.next()).toBe(101);
  });
});
