/**
 * Test helpers for the interop tests: a recorder of both peers' events with bounded waits for a
 * condition (never a fixed sleep), and the setup and teardown of a netchat peer on loopback.
 */
import { NetchatPeer, type PeerOptions } from '../../src/index.js';
import { IndependentPeer, type IndependentPeerOptions, type PeerEvent } from './index.mjs';

export interface Recorded {
  who: string;
  event: PeerEvent;
}

export class Recorder {
  readonly events: Recorded[] = [];
  private readonly waiters = new Set<() => void>();

  watch(who: string, emitter: { on(type: 'event', listener: (e: PeerEvent) => void): unknown }): void {
    emitter.on('event', (event: PeerEvent) => {
      this.events.push({ who, event });
      for (const w of [...this.waiters]) w();
    });
  }

  of(who: string, type: string, since = 0): PeerEvent[] {
    return this.events
      .slice(since)
      .filter((r) => r.who === who && r.event.type === type)
      .map((r) => r.event);
  }

  /** A mark for `of(…, since)`: only what is recorded after it. */
  mark(): number {
    return this.events.length;
  }

  /** Resolves with the first recorded event (past or future) that matches; rejects after timeoutMs. */
  waitFor(who: string, type: string, match: (e: PeerEvent) => boolean = () => true, timeoutMs = 15_000) {
    return this.until(
      () => this.of(who, type).find(match),
      timeoutMs,
      `${who} ${type}`,
    ) as Promise<PeerEvent>;
  }

  /** Resolves when `probe` gives a value other than undefined/false; checked on every event and every 20 ms. */
  until<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined || value === false) return;
        finish();
        resolve(value);
      };
      const poll = setInterval(check, 20);
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const finish = () => {
        clearInterval(poll);
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}

/** Everything a test made, closed at the end whatever happened. */
export class Stage {
  readonly recorder = new Recorder();
  private readonly cleanups: (() => Promise<unknown>)[] = [];

  async netchat(name: string, options: Partial<PeerOptions> = {}): Promise<NetchatPeer> {
    const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: name, ...options });
    this.recorder.watch(name, peer as never);
    this.cleanups.push(() => peer.close(500));
    return peer;
  }

  async independent(name: string, options: IndependentPeerOptions = {}): Promise<IndependentPeer> {
    const peer = await IndependentPeer.listen({ nick: name, ...options });
    this.recorder.watch(name, peer);
    this.cleanups.push(() => peer.stop());
    return peer;
  }

  onCleanup(fn: () => Promise<unknown>): void {
    this.cleanups.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.cleanups.reverse()) await fn().catch(() => undefined);
  }
}

/** A text of `bytes` UTF-8 bytes with multi-byte characters across fragment boundaries. */
export function bigText(bytes: number): string {
  const unit = 'a🎉é漢'; // 1 + 4 + 2 + 3 bytes
  let text = '';
  while (Buffer.byteLength(text) + 10 <= bytes) text += unit;
  while (Buffer.byteLength(text) < bytes) text += 'z';
  return text;
}
