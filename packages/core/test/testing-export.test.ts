/**
 * `@netchat/core/testing` as its users see it (src/testing/index.ts): the README's example runs
 * as written, the virtual timers run in time order on the clock they are given, and the
 * simulated network keeps its promises (seeded: the same run twice; frozen stations read
 * nothing; the loop is bounded).
 */
import { describe, expect, it } from 'vitest';
import { Endpoint, type NetchatEvent } from '../src/index.js';
import { SimulatedNetwork, type Station, settle, VirtualClock, VirtualTimers } from '../src/testing/index.js';

type Peer = Station<Endpoint>;
class Net extends SimulatedNetwork<Peer> {
  readonly told_: string[] = [];
  protected override told(peer: Peer, event: NetchatEvent): void {
    this.told_.push(`${peer.address.port} ${event.type} ${this.now}`);
    if (event.type === 'request') peer.endpoint.accept(event.session, this.now);
  }
}

/** The README's example, returning what it saw. */
function readmeExample(seed = 7) {
  const net = new Net(seed);
  net.conditions.loss = 0.1;
  const a: Peer = net.place({ endpoint: new Endpoint({ nick: 'a' }), address: { host: '10.0.0.1', port: 1 } });
  const b: Peer = net.place({ endpoint: new Endpoint({ nick: 'b' }), address: { host: '10.0.0.2', port: 2 } });
  const session = a.endpoint.connect(b.address, net.now);
  const open = net.run(() => a.endpoint.session(session)?.state === 'open', net.now + 10_000);
  return { net, a, b, open };
}

describe('@netchat/core/testing', () => {
  it("runs the README's example: two endpoints open a chat through 10 % loss", () => {
    const { open, b, net } = readmeExample();
    expect(open).toBe(true);
    expect(b.endpoint.listSessions().map((s) => s.state)).toEqual(['open']);
    expect(net.told_.some((t) => t.startsWith('2 request'))).toBe(true);
  });

  it('is seeded: the same seed gives the same events at the same times', () => {
    const first = readmeExample(3);
    const second = readmeExample(3);
    expect(second.net.told_).toEqual(first.net.told_);
    expect(second.net.now).toBe(first.net.now);
  });

  it('a frozen station reads nothing and its deadlines wait; thawed, it goes on', () => {
    const { net, b } = readmeExample();
    const received = b.endpoint.stats.datagramsIn;
    b.frozen = true;
    net.runFor(20_000);
    expect(b.endpoint.stats.datagramsIn).toBe(received);
    b.frozen = false;
    net.run(() => b.endpoint.stats.datagramsIn > received, net.now + 10_000);
    expect(b.endpoint.stats.datagramsIn).toBeGreaterThan(received);
  });

  it("runs programs' timers on its clock, between datagrams, in time order", () => {
    const net = new SimulatedNetwork();
    const fired: string[] = [];
    net.timers.set(() => fired.push(`b ${net.now}`), 200);
    net.timers.set(() => fired.push(`a ${net.now}`), 100);
    const cleared = net.timers.set(() => fired.push('never'), 150);
    net.timers.clear(cleared);
    // A timer set by a timer runs at its own time.
    net.timers.set(() => net.timers.set(() => fired.push(`c ${net.now}`), 50), 300);
    net.runFor(1_000);
    expect(fired).toEqual(['a 100', 'b 200', 'c 350']);
    expect(net.timers.size).toBe(0);
  });

  it('VirtualClock.advance stops at each timer, and is bounded', () => {
    const clock = new VirtualClock(1_000);
    const fired: number[] = [];
    const again = () => {
      fired.push(clock.now);
      clock.timers.set(again, 10);
    };
    clock.timers.set(again, 10);
    clock.advance(35);
    expect(fired).toEqual([1_010, 1_020, 1_030]);
    expect(clock.now).toBe(1_035);
    clock.advance(1_000_000, 5);
    expect(fired).toHaveLength(8);
  });

  it('VirtualTimers take any clock, and settle lets promise callbacks run', async () => {
    let now = 0;
    const timers = new VirtualTimers(() => now);
    let ran = false;
    timers.set(() => {
      ran = true;
    }, 10);
    now = 9;
    expect(timers.fire()).toBe(0);
    now = 10;
    expect(timers.fire()).toBe(1);
    expect(ran).toBe(true);
    let resolved = false;
    void Promise.resolve()
      .then(() => undefined)
      .then(() => {
        resolved = true;
      });
    await settle();
    expect(resolved).toBe(true);
  });

  it('throws rather than loop for ever when something is always due', () => {
    const net = new SimulatedNetwork();
    const busy = {
      handleDatagram: () => {},
      handleTimeout: () => {},
      nextTimeout: () => net.now,
      pollTransmit: () => undefined,
    };
    net.place({ endpoint: busy, address: { host: '10.0.0.9', port: 9 } });
    expect(() => net.run(() => false, Number.POSITIVE_INFINITY, 1_000)).toThrow(/still busy after 1000 steps/);
  });
});
