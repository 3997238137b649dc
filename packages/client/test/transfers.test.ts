/**
 * The client's file transfers on the virtual network: core's real engine on real streams,
 * virtual time as the client's clock, storage in memory (support/virtual-files.ts).
 */

import { settle, VirtualNetwork, type VirtualPeer } from '@netchat/testkit';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import {
  allVerified,
  ChatClient,
  type Transfer,
  Transfers,
  type TransfersSettings,
  type TransferUpdate,
  texts,
} from '../src/index.js';
import { openChat } from './support/open-chat.js';
import { VirtualFileLink } from './support/virtual-files.js';

function sideOf(net: VirtualNetwork, peer: VirtualPeer, settings: TransfersSettings = {}) {
  const client = new ChatClient(peer, peer.knownPeers, { clock: () => net.now });
  peer.onEvent((e) => client.handle(e));
  const link = new VirtualFileLink(net, peer);
  const transfers = new Transfers(link, () => client.conversations, { clock: () => net.now, ...settings });
  link.onEvent((e) => transfers.handle(e));
  const updates: (TransferUpdate & { at: number })[] = [];
  transfers.subscribe((u) => updates.push({ ...u, at: net.now }));
  const of = <T extends TransferUpdate['type']>(type: T) =>
    updates.filter((u): u is Extract<TransferUpdate, { type: T }> & { at: number } => u.type === type);
  return { client, link, transfers, updates, of };
}

async function setUp(options: { bobFiles?: boolean; bob?: TransfersSettings; latency?: number } = {}) {
  const net = new VirtualNetwork();
  if (options.latency !== undefined) net.latency = options.latency;
  const files = options.bobFiles ?? true;
  const alice = net.add('127.0.0.1', 1111, { nick: 'alice', streams: true, files: true });
  const bob = net.add('127.0.0.2', 2222, { nick: 'bob', streams: files, files });
  const a = sideOf(net, alice);
  const b = sideOf(net, bob, options.bob);
  const { mine, theirs } = await openChat(net, a.client, b.client, bob.address);
  // The capability exchange follows the open.
  net.run(() => alice.endpoint.session(mine.session ?? -1)?.peerFeatures !== undefined, 5_000);
  return { net, a, b, mine, theirs };
}

function data(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 7) & 0xff;
  return bytes;
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}

describe('Transfers', () => {
  it('offers a file, the peer accepts, progress comes about four a second, both sides end verified', async () => {
    const { net, a, b, mine } = await setUp({ latency: 20 });
    a.link.files.set('report.pdf', data(2_400_000));
    const offered = await a.transfers.offer(mine, ['report.pdf']);
    expect(offered.ok).toBe(true);
    const sent = offered.ok ? offered.transfer : must<Transfer>(undefined);
    expect(a.of('offered').map((u) => u.transfer)).toEqual([sent]);
    expect(texts.offeredText(sent)).toBe(
      'Offered "report.pdf" (2.4 MB) to bob: waiting for an answer (transfer 1).',
    );
    expect(net.run(() => b.transfers.waiting().length === 1, 5_000)).toBe(true);
    const offer = must(b.transfers.waiting()[0]);
    expect(b.of('offer')).toMatchObject([{ auto: false }]);
    expect(texts.offerQuestion(offer)).toBe('Accept file "report.pdf" (2.4 MB) from alice? (y/n)');
    // The line said when the accept is told names the folder (the link tells it before accept settles).
    const acceptedLines: string[] = [];
    b.transfers.subscribe((u) => {
      if (u.type === 'accepted') acceptedLines.push(texts.acceptedText(u.transfer));
    });
    expect(await b.transfers.accept(offer, { folder: '/dl' })).toEqual({ ok: true });
    expect(acceptedLines).toEqual(['Receiving "report.pdf" into /dl (transfer 1).']);
    expect(net.run(() => offer.phase === 'done' && sent.phase === 'done', 120_000)).toBe(true);
    expect(Buffer.from(must(b.link.placed.get('report.pdf'))).equals(Buffer.from(data(2_400_000)))).toBe(
      true,
    );
    expect(allVerified(offer) && allVerified(sent)).toBe(true);
    expect(b.of('file_received')[0]?.outcome).toMatchObject({ path: '/dl/report.pdf', size: 2_400_000 });
    expect(a.of('file_sent')[0]?.outcome).toMatchObject({ path: 'report.pdf', size: 2_400_000 });
    expect(texts.endedText(sent)).toBe('Transfer 1 done: the file verified.');
    // Progress: at most four a second per transfer, the figures rising, a rate and a time left.
    const progress = b.of('progress');
    expect(progress.length).toBeGreaterThan(0);
    for (const [i, u] of progress.entries()) {
      const before = progress[i - 1];
      if (!before) continue;
      expect(u.at - before.at).toBeGreaterThanOrEqual(250);
      expect(u.progress.bytes).toBeGreaterThanOrEqual(before.progress.bytes);
    }
    const last = must(progress.at(-1)).progress;
    expect(last.rate).toBeGreaterThan(0);
    expect(b.transfers.progress(offer)?.bytes).toBe(2_400_000);
    expect(offer.bytes).toBe(2_400_000);
    expect(sent.relayed).toBe(false);
  });

  it('several files: the figures are of the whole transfer and never pass its size (core gives whole-transfer bytes)', async () => {
    const { net, a, b, mine } = await setUp({ latency: 20 });
    const sizes = [600_000, 3, 900_000, 1_200_000];
    for (const [i, size] of sizes.entries()) a.link.files.set(`f${i}.bin`, data(size, i + 1));
    const total = sizes.reduce((x, y) => x + y, 0);
    const offered = await a.transfers.offer(
      mine,
      sizes.map((_, i) => `f${i}.bin`),
    );
    const sent = offered.ok ? offered.transfer : must<Transfer>(undefined);
    expect(net.run(() => b.transfers.waiting().length === 1, 5_000)).toBe(true);
    const offer = must(b.transfers.waiting()[0]);
    expect(await b.transfers.accept(offer, { folder: '/dl' })).toEqual({ ok: true });
    // Sampled after every step of the network: what a progress line or /transfers would show then.
    let most = 0;
    const watched = net.run(() => {
      most = Math.max(most, offer.bytes, sent.bytes);
      for (const t of [offer, sent]) {
        const shown = a.transfers.progress(t)?.bytes ?? b.transfers.progress(t)?.bytes ?? 0;
        most = Math.max(most, shown);
      }
      return offer.phase === 'done' && sent.phase === 'done';
    }, 120_000);
    expect(watched).toBe(true);
    expect(b.of('progress').length).toBeGreaterThan(1);
    for (const u of [...a.of('progress'), ...b.of('progress')])
      expect(u.progress.bytes).toBeLessThanOrEqual(total);
    expect(most).toBeLessThanOrEqual(total);
    expect(offer.bytes).toBe(total);
    expect(sent.bytes).toBe(total);
  });

  it('a cancel after some files of several arrived says how many arrived, verified, on both sides', async () => {
    const { net, a, b, mine } = await setUp({ latency: 20 });
    a.link.files.set('one.bin', data(1000, 1));
    a.link.files.set('two.bin', data(2000, 2));
    a.link.files.set('three.bin', data(4_000_000, 3));
    const offered = await a.transfers.offer(mine, ['one.bin', 'two.bin', 'three.bin']);
    const sent = offered.ok ? offered.transfer : must<Transfer>(undefined);
    expect(net.run(() => b.transfers.waiting().length === 1, 5_000)).toBe(true);
    const offer = must(b.transfers.waiting()[0]);
    expect(await b.transfers.accept(offer, { folder: '/dl' })).toEqual({ ok: true });
    expect(net.run(() => offer.received.length === 2 && sent.sent.length === 2, 60_000)).toBe(true);
    expect(offer.phase).toBe('moving');
    expect(b.transfers.cancel(offer)).toBe(true);
    expect(net.run(() => offer.phase === 'cancelled' && sent.phase === 'cancelled', 10_000)).toBe(true);
    expect(texts.endedText(offer)).toBe(
      'Transfer 1 cancelled: 2 of the 3 files had arrived, verified, and stay.',
    );
    expect(texts.endedText(sent)).toBe(
      'bob cancelled transfer 1 (3 files): 2 of the 3 files had arrived, verified, and stay.',
    );
  });

  it('a peer without files: the offer fails at once with a clear message, nothing is offered', async () => {
    const { a, mine } = await setUp({ bobFiles: false });
    a.link.files.set('a.txt', data(10));
    const result = await a.transfers.offer(mine, ['a.txt']);
    expect(result).toEqual({
      ok: false,
      message:
        "bob's netchat cannot receive files (an older version, or started without them): nothing was offered.",
    });
    expect(a.transfers.list()).toEqual([]);
  });

  it('a name with spaces typed bare: the line says to put it in quotes, only when several names were read', async () => {
    const { a, mine } = await setUp();
    a.link.files.set('my photo.jpg', data(10));
    const bare = await a.transfers.offer(mine, ['my', 'photo.jpg']);
    expect(bare).toEqual({
      ok: false,
      message:
        'Nothing was offered: cannot read my: no such file or folder. If that was one name with spaces, put it in quotes: /send "my photo.jpg"',
    });
    const odd = await a.transfers.offer(mine, ['say', '"hi".txt']);
    expect(odd.ok || odd.message).toMatch(/put it in quotes: \/send say\\ \\"hi\\"\.txt$/);
    const one = await a.transfers.offer(mine, ['missing.txt']);
    expect(one).toEqual({
      ok: false,
      message: 'Nothing was offered: cannot read missing.txt: no such file or folder',
    });
    const quoted = await a.transfers.offer(mine, ['my photo.jpg']);
    expect(quoted.ok).toBe(true);
  });

  it('a ninth offer before bob answered waits (said so, not failed), and goes when bob answers one', async () => {
    const { net, a, b, mine } = await setUp();
    const sent: Transfer[] = [];
    for (let i = 0; i < 9; i++) {
      a.link.files.set(`f${i}.txt`, data(100, i));
      const offered = await a.transfers.offer(mine, [`f${i}.txt`]);
      sent.push(offered.ok ? offered.transfer : must<Transfer>(undefined));
    }
    expect(net.run(() => b.transfers.waiting().length === 8, 5_000)).toBe(true);
    const ninth = must(sent[8]);
    expect(ninth.phase).toBe('offered');
    expect(ninth.waiting).toEqual({ why: 'earlier_offers', tries: 0, retryInMs: undefined });
    expect(a.of('waiting').map((u) => u.transfer)).toEqual([ninth]);
    // Not "Offered" for the ninth: it has not gone (its waiting line says so).
    expect(a.of('offered').map((u) => u.transfer)).toEqual(sent.slice(0, 8));
    expect(texts.waitingText(ninth)).toBe(
      'Transfer 9 ("f8.txt") waits for bob to answer earlier offers: it goes as soon as bob answers one.',
    );
    expect(texts.transferLine(ninth, undefined)).toMatch(/waiting for earlier offers to be answered$/);
    expect(b.transfers.decline(must(b.transfers.waiting()[0]))).toBe(true);
    expect(net.run(() => b.transfers.waiting().length === 8 && ninth.waiting === undefined, 5_000)).toBe(
      true,
    );
    expect(texts.waitingText(ninth)).toBe('Transfer 9 ("f8.txt") offered to bob now: waiting for an answer.');
    expect(b.transfers.waiting().at(-1)?.files[0]?.path).toBe('f8.txt');
    expect(sent.filter((t) => t.phase === 'declined')).toEqual([sent[0]]);
  });

  it('decline: both sides end declined, nothing is written', async () => {
    const { net, a, b, mine } = await setUp();
    a.link.files.set('a.txt', data(1000));
    a.link.files.set('b.txt', data(2000));
    const offered = await a.transfers.offer(mine, ['a.txt', 'b.txt']);
    const sent = offered.ok ? offered.transfer : must<Transfer>(undefined);
    expect(net.run(() => b.transfers.waiting().length === 1, 5_000)).toBe(true);
    const offer = must(b.transfers.waiting()[0]);
    expect(texts.offerQuestion(offer)).toBe('Accept 2 files (3 kB) from alice? (y/n)');
    expect(b.transfers.decline(offer)).toBe(true);
    expect(net.run(() => sent.phase === 'declined', 5_000)).toBe(true);
    expect(offer.phase).toBe('declined');
    expect(texts.endedText(sent)).toBe('bob declined 2 files.');
    expect(texts.endedText(offer)).toBe('You declined 2 files from alice.');
    expect(b.link.placed.size).toBe(0);
  });

  it('declineOnClose then close: the sender hears "declined", not "interrupted" (and offers nothing again)', async () => {
    const { net, a, b, mine, theirs } = await setUp();
    a.link.files.set('a.txt', data(1000));
    const offered = await a.transfers.offer(mine, ['a.txt']);
    const sent = offered.ok ? offered.transfer : must<Transfer>(undefined);
    expect(net.run(() => b.transfers.waiting().length === 1, 5_000)).toBe(true);
    expect(b.transfers.declineOnClose(theirs)).toHaveLength(1);
    b.client.close(theirs);
    expect(net.run(() => sent.phase !== 'offered', 15_000)).toBe(true);
    expect(texts.endedText(sent)).toBe('bob declined "a.txt".');
    expect(a.transfers.unfinishedOffersTo(mine)).toBe(0);
  });

  it('the chat ending before the person answered an offer says so: nothing of it was taken, no "what arrived is kept"', async () => {
    const { net, a, b, mine } = await setUp();
    a.link.files.set('a.txt', data(1000));
    await a.transfers.offer(mine, ['a.txt']);
    expect(net.run(() => b.transfers.waiting().length === 1, 5_000)).toBe(true);
    const offer = must(b.transfers.waiting()[0]);
    a.client.close(mine);
    expect(net.run(() => offer.phase === 'interrupted', 15_000)).toBe(true);
    expect(texts.endedText(offer)).toBe(
      'Transfer 1 interrupted (the chat ended) before you answered: nothing of "a.txt" was taken; alice offers it again when your next chat opens.',
    );
  });

  // Only the code travels: each says what it means to the person who offered.
  for (const [reason, said] of [
    // A read-only folder answers no_room too, and so does a drop box at its quota (netchat-bot).
    ['no_room', `no room for it at bob: its download folder is full or at its quota, or cannot be written`],
    // An access policy: unlike no_room, no smaller offer gets through.
    ['not_allowed', 'bob takes no files from you'],
    ['bad_offer', 'bob cannot take this offer: a name it refuses, two files at one path, or too many files'],
  ] as const)
    it(`a peer that answers ${reason} is said to mean what it means`, async () => {
      const { net, a, b, mine } = await setUp();
      a.link.files.set('big.bin', data(3000));
      const offered = await a.transfers.offer(mine, ['big.bin']);
      const sent = offered.ok ? offered.transfer : must<Transfer>(undefined);
      expect(net.run(() => b.transfers.waiting().length === 1, 5_000)).toBe(true);
      expect(b.transfers.decline(must(b.transfers.waiting()[0]), reason)).toBe(true);
      expect(net.run(() => sent.phase === 'declined', 5_000)).toBe(true);
      expect(texts.endedText(sent)).toBe(`bob declined "big.bin" (${said}).`);
    });

  it('an accept that declines instead (too large) ends once, saying why, never "You declined"', async () => {
    const { net, a, b, mine } = await setUp();
    a.link.files.set('big.bin', data(6000));
    const offered = await a.transfers.offer(mine, ['big.bin']);
    const sent = offered.ok ? offered.transfer : must<Transfer>(undefined);
    expect(net.run(() => b.transfers.waiting().length === 1, 5_000)).toBe(true);
    const offer = must(b.transfers.waiting()[0]);
    const answer = await b.transfers.accept(offer, { maxFileSize: 5000 });
    expect(answer).toMatchObject({ ok: false, told: true });
    // One ended update, made once the reason in words was known (it used to come first, bare).
    const ended = b.of('ended').map((u) => texts.endedText(u.transfer));
    expect(ended).toEqual([
      'Could not take "big.bin" from alice: big.bin is 6 kB, more than the 5 kB taken (alice was told: too large).',
    ]);
    expect(net.run(() => sent.phase === 'declined', 5_000)).toBe(true);
    expect(texts.endedText(sent)).toBe('bob declined "big.bin" (too large).');
  });

  it('cancel from the receiver while bytes move: both sides end cancelled', async () => {
    const { net, a, b, mine } = await setUp({ latency: 20 });
    a.link.files.set('big.bin', data(20_000_000));
    const offered = await a.transfers.offer(mine, ['big.bin']);
    const sent = offered.ok ? offered.transfer : must<Transfer>(undefined);
    net.run(() => b.transfers.waiting().length === 1, 5_000);
    const offer = must(b.transfers.waiting()[0]);
    await b.transfers.accept(offer);
    expect(net.run(() => offer.bytes > 100_000, 60_000)).toBe(true);
    expect(b.transfers.cancel(offer)).toBe(true);
    expect(net.run(() => sent.phase === 'cancelled', 5_000)).toBe(true);
    expect(offer).toMatchObject({ phase: 'cancelled', cancelledBy: 'local' });
    expect(sent.cancelledBy).toBe('peer');
    expect(texts.endedText(sent)).toBe('bob cancelled transfer 1 (big.bin).'.replace('big.bin', '"big.bin"'));
    expect(b.transfers.cancel(offer)).toBe(false);
    expect(b.link.placed.size).toBe(0);
  });

  it('maxFileSize without acceptAll: a file over it is declined with the sizes, nobody asked', async () => {
    const { net, a, b, mine } = await setUp({ bob: { maxFileSize: 5000, downloadFolder: '/in' } });
    a.link.files.set('large.bin', data(6000));
    const large = await a.transfers.offer(mine, ['large.bin']);
    const l = large.ok ? large.transfer : must<Transfer>(undefined);
    expect(net.run(() => l.phase === 'declined', 30_000)).toBe(true);
    await settle();
    expect(b.of('offer')).toEqual([]);
    expect(l.declined).toMatchObject({ reason: 'too_large', by: 'peer' });
    expect(must(b.transfers.list()[0]).declined?.message).toMatch(
      /large\.bin is 6 kB, more than the 5 kB taken/,
    );
  });

  it('acceptAll with maxFileSize: a small file is taken at once, a large one declined as too large', async () => {
    const { net, a, b, mine } = await setUp({
      bob: { acceptAll: true, maxFileSize: 5000, downloadFolder: '/in' },
    });
    a.link.files.set('small.txt', data(4000));
    a.link.files.set('large.bin', data(6000));
    const small = await a.transfers.offer(mine, ['small.txt']);
    const large = await a.transfers.offer(mine, ['large.bin']);
    const [s, l] = [small, large].map((r) => (r.ok ? r.transfer : must<Transfer>(undefined)));
    expect(net.run(() => s?.phase === 'done' && l?.phase === 'declined', 30_000)).toBe(true);
    await settle(); // the accept's answer
    // The large one was never put as an offer (nobody asked, nothing "Accepting"): declined at once.
    expect(b.of('offer').map((u) => u.auto)).toEqual([true]);
    expect(l?.declined).toMatchObject({ reason: 'too_large', by: 'peer' });
    expect(must(b.transfers.list()[1]).declined?.message).toMatch(
      /large\.bin is 6 kB, more than the 5 kB taken/,
    );
    expect(b.of('file_received')[0]?.outcome.path).toBe('/in/small.txt');
    expect([...b.link.placed.keys()]).toEqual(['small.txt']);
  });

  it('a chat that ends mid-transfer interrupts it on both sides; the list keeps it', async () => {
    const { net, a, b, mine } = await setUp({ latency: 20 });
    a.link.files.set('big.bin', data(20_000_000));
    const offered = await a.transfers.offer(mine, ['big.bin']);
    const sent = offered.ok ? offered.transfer : must<Transfer>(undefined);
    net.run(() => b.transfers.waiting().length === 1, 5_000);
    const offer = must(b.transfers.waiting()[0]);
    await b.transfers.accept(offer);
    net.run(() => offer.bytes > 100_000, 60_000);
    a.client.close(mine);
    expect(net.run(() => sent.phase === 'interrupted' && offer.phase === 'interrupted', 30_000)).toBe(true);
    expect(texts.endedText(sent)).toMatch(/offered again when the chat with this peer opens/);
    expect(a.transfers.of(mine)).toEqual([sent]);
    expect(a.transfers.running()).toEqual([]);
  });

  it('an offer the link made again by itself (left unfinished before) says so; a /send says "Offered"', async () => {
    const { a, net, mine } = await setUp();
    a.link.files.set('big.bin', data(1000));
    // As the node link does when a chat opens with our offers to that peer left unfinished (its
    // file_offer says `resuming`). Before, its line was the same as a /send's.
    await a.link.offerAgain(must(mine.session), ['big.bin']);
    net.run(() => a.of('offered').length === 1, 5_000);
    const again = must(a.of('offered')[0]).transfer;
    expect(texts.offeredText(again)).toBe(
      `Offering again "big.bin" (1 kB) to bob, left unfinished in an earlier chat: waiting for an answer (transfer ${again.id}).`,
    );
    const typed = await a.transfers.offer(mine, ['big.bin']);
    const sent = typed.ok ? typed.transfer : must<Transfer>(undefined);
    expect(texts.offeredText(sent)).toBe(
      `Offered "big.bin" (1 kB) to bob: waiting for an answer (transfer ${sent.id}).`,
    );
  });

  it('texts: sizes, durations, a progress line that fits 40 columns, hostile names made safe', async () => {
    expect(texts.sizeText(0)).toBe('0 bytes');
    expect(texts.sizeText(1)).toBe('1 byte');
    expect(texts.sizeText(2_400_000)).toBe('2.4 MB');
    expect(texts.sizeText(999_999)).toBe('1 MB');
    expect(texts.sizeText(1_500_000_000)).toBe('1.5 GB');
    expect(texts.durationText(3725)).toBe('1:02:05');
    expect(texts.durationText(undefined)).toBe('--:--');
    // A resumed file's average counts what moved this time, not what the receiver held before,
    // and the line says how much that was: its time and average are this run's.
    const resumed = { file: 0, path: '/d/big.bin', size: 300e6, hash: 'ab', seconds: 4, moved: 180e6 };
    expect(texts.receivedText(resumed)).toBe(
      'Received /d/big.bin (300 MB, 180 MB of it this time) in 0:04, 45 MB/s average, verified.',
    );
    expect(texts.receivedText({ ...resumed, moved: 300e6 })).toBe(
      'Received /d/big.bin (300 MB) in 0:04, 75 MB/s average, verified.',
    );
    // A name with a newline or a tab stays one line.
    expect(texts.receivedText({ ...resumed, path: '/d/new\nline\t.txt' })).toMatch(
      /^Received \/d\/new\uFFFDline\uFFFD\.txt \(300 MB, /,
    );
    const { a, net, b, mine } = await setUp();
    a.link.files.set('evil\u001b[2Jname.txt', data(10));
    await a.transfers.offer(mine, ['evil\u001b[2Jname.txt']);
    net.run(() => b.transfers.waiting().length === 1, 5_000);
    const offer = must(b.transfers.waiting()[0]);
    expect(texts.offerQuestion(offer).includes(String.fromCharCode(27))).toBe(false);
    expect(texts.sentText(offer, resumed)).toMatch(
      /^Sent \/d\/big\.bin \(300 MB, 180 MB of it this time\) in 0:04, 45 MB\/s average: \S+ verified it\.$/,
    );
    const snapshot = {
      bytes: 1_000_000,
      size: 2_400_000,
      fraction: 0.416,
      rate: 3_100_000,
      eta: 1,
      elapsed: 1,
      averageRate: 1,
    };
    for (const width of [20, 40, 80])
      expect(stringWidth(texts.progressLine(offer, snapshot, width))).toBeLessThanOrEqual(width);
    expect(texts.progressLine(offer, snapshot, 40)).toMatch(/41%/);
    expect(texts.progressLine(offer, snapshot, 80)).toMatch(
      /^\[1\] {3}41% {2}1 MB\/2\.4 MB {2}3\.1 MB\/s {2}ETA 0:01 {2}evil/,
    );
    // Wide characters count two columns: the name is cut to fit 40.
    const wide = {
      ...offer,
      files: [{ ...must(offer.files[0]), path: '照片照片照片照片照片照片照片 🎉.bin' }],
    };
    const line = texts.progressLine(wide, snapshot, 40);
    expect(stringWidth(line)).toBeLessThanOrEqual(40);
    expect(line).toMatch(/^\[1\] {2}41% 3\.1 MB\/s ETA 0:01 照片.*…$/);
  });
});
