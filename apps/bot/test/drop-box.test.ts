/**
 * `--accept-files DIR`: the bot as a drop box, as a real process on loopback. Peers send with
 * core's FileLink; the bot's JSON log and DIR are checked.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventOf, FileLink, type LinkEvent, NetchatPeer } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function folder(): string {
  const made = mkdtempSync(join(tmpdir(), 'netchat-drop-'));
  cleanup.push(() => rmSync(made, { recursive: true, force: true }));
  return made;
}

function bot(...args: string[]): BotProcess {
  const process = new BotProcess(['0', '--host', '127.0.0.1', ...args]);
  cleanup.push(() => process.kill());
  return process;
}

/** A peer that sends files (core's FileLink), connected to the bot at `port`. */
async function sender(port: number) {
  const peer = await NetchatPeer.listen({
    port: 0,
    host: '127.0.0.1',
    streams: true,
    files: true,
    nick: 'ana',
  });
  const link = new FileLink(peer);
  cleanup.push(async () => {
    await link.close();
    await peer.close(100);
  });
  const events: LinkEvent[] = [];
  link.on('event', (e) => events.push(e));
  const features = new Promise<number>((resolve) => peer.on('features', (e) => resolve(e.session)));
  const declined = new Promise<EventOf<'declined'>>((resolve) => peer.on('declined', resolve));
  await peer.connect('127.0.0.1', port);
  const session = await Promise.race([features, declined.then(() => -1)]);
  /** Offers `paths`; resolves with the transfer's end event (done or declined). */
  const send = async (paths: string[]) => {
    const transfer = await link.offer(session, paths);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const end = events.find(
        (e) =>
          e.transfer === transfer &&
          (e.type === 'file_done' || e.type === 'file_declined' || e.type === 'file_cancelled'),
      );
      if (end) return end;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`transfer ${transfer} did not end`);
  };
  return { peer, link, session, send, events };
}

describe('the bot as a drop box (--accept-files DIR)', () => {
  it('takes a file into DIR and logs the transfer: offer, accepted, received (path, size, hash), done', async () => {
    const dir = folder();
    const src = folder();
    const data = randomBytes(700_000);
    writeFileSync(join(src, 'photo 🎉.jpg'), data);
    const b = bot('--accept-files', dir);
    const ana = await sender(await b.port());
    expect(ana.session).toBeGreaterThan(0);
    expect(await ana.send([join(src, 'photo 🎉.jpg')])).toMatchObject({
      type: 'file_done',
      files: 1,
      verified: 1,
    });
    expect(readFileSync(join(dir, 'photo 🎉.jpg')).equals(data)).toBe(true);
    const [received] = await b.waitForLogs((l) => l.event === 'file_received');
    expect(received).toMatchObject({
      path: join(dir, 'photo 🎉.jpg'),
      size: 700_000,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    await b.waitForLogs((l) => l.event === 'file_done');
    const events = b.logs().map((l) => l.event);
    for (const e of ['file_offer', 'file_accepted', 'file_received', 'file_done'])
      expect(events).toContain(e);
    expect(b.logs()[0]).toMatchObject({ event: 'listening', acceptFiles: dir, filesQuota: 1_000_000_000 });
  });

  it('declines a file over --max-file-size (too_large) and offers past --files-quota (no_room, logged quota)', async () => {
    const dir = folder();
    const src = folder();
    writeFileSync(join(src, 'a.bin'), randomBytes(60_000));
    writeFileSync(join(src, 'b.bin'), randomBytes(60_000));
    writeFileSync(join(src, 'big.bin'), randomBytes(200_000));
    const b = bot('--accept-files', dir, '--max-file-size', '100k', '--files-quota', '100k');
    const ana = await sender(await b.port());
    expect(await ana.send([join(src, 'big.bin')])).toMatchObject({
      type: 'file_declined',
      reason: 'too_large',
    });
    expect(await ana.send([join(src, 'a.bin')])).toMatchObject({ type: 'file_done', verified: 1 });
    // 60 kB held, 40 kB left of the quota: 60 kB more is refused.
    expect(await ana.send([join(src, 'b.bin')])).toMatchObject({
      type: 'file_declined',
      reason: 'no_room',
    });
    expect(readdirSync(dir)).toEqual(['a.bin']);
    const refused = await b.waitForLogs((l) => l.event === 'file_refused', 2);
    expect(refused.map((l) => l.reason)).toEqual(['too_large', 'quota']);
    expect(refused[1]?.detail).toBe('quota: 60000 bytes offered, 40000 left of 100000');
  });

  it('counts what DIR held at start against the quota (a restart does not reset it)', async () => {
    const dir = folder();
    const src = folder();
    writeFileSync(join(dir, 'old.bin'), randomBytes(90_000));
    writeFileSync(join(src, 'new.bin'), randomBytes(20_000));
    const b = bot('--accept-files', dir, '--files-quota', '100k');
    const ana = await sender(await b.port());
    expect(await ana.send([join(src, 'new.bin')])).toMatchObject({
      type: 'file_declined',
      reason: 'no_room',
    });
    expect(readdirSync(dir)).toEqual(['old.bin']);
  });

  it('a peer its access policy does not allow gets no session, so no file: DIR stays empty', async () => {
    const dir = folder();
    const b = bot('--accept-files', dir, '--allow', '127.0.0.1:1');
    const ana = await sender(await b.port());
    expect(ana.session).toBe(-1);
    const [decline] = await b.waitForLogs((l) => l.event === 'decline');
    expect(decline).toMatchObject({ reason: 'not_allowed', detail: 'not on the allow list' });
    expect(b.logs().some((l) => l.event === 'file_offer')).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('bad drop-box arguments: a message and exit 2', async () => {
    const file = join(folder(), 'a-file');
    writeFileSync(file, 'x');
    for (const [args, message] of [
      [['--max-file-size', '10M'], /--max-file-size needs --accept-files DIR/],
      [['--accept-files', file], /--accept-files: the download folder .* is not a folder/],
      [['--accept-files', folder(), '--files-quota', 'lots'], /--files-quota must be a size/],
    ] as const) {
      const p = bot(...args);
      expect(await p.exited).toBe(2);
      expect(p.stderr).toMatch(message);
    }
  });
});
