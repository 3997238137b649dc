/**
 * A chat whose peer's `features` was lost as it opened (PROTOCOL.md, Capabilities): the chat takes
 * the peer for text only and asks again. An offer made at once waits for the answer instead of
 * failing FILES_UNSUPPORTED (the NAT lab saw it about once in 25 runs under 5 % loss); an older,
 * text-only peer is still refused, after a short wait. Loopback, port 0.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FEATURES_WAIT_MS, FileLink, NetchatPeer } from '../src/index.js';
import { randomData, temporaryFolder } from './support/partial-files.js';

/** The sealed `features` that goes right before an `accept` (32 bytes of packet around 21). */
const FEATURES_DATAGRAM_BYTES = 53;

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Drops the first `count` sealed `features` `b` sends (as the network would); how many so far. */
function dropFeatures(b: NetchatPeer, count: number): () => number {
  let dropped = 0;
  const socket = b.udpSocket as unknown as { send: (data: Uint8Array, ...rest: unknown[]) => void };
  const send = socket.send.bind(socket);
  socket.send = (data, ...rest) => {
    if (dropped < count && data.length === FEATURES_DATAGRAM_BYTES) {
      dropped++;
      return;
    }
    send(data, ...rest);
  };
  return () => dropped;
}

async function peers(bOptions: { streams?: boolean; files?: boolean } = { streams: true, files: true }) {
  const src = temporaryFolder('features-src');
  const dst = temporaryFolder('features-dst');
  cleanup.push(
    () => src.remove(),
    () => dst.remove(),
  );
  const a = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
  const b = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', ...bOptions });
  cleanup.push(
    () => b.close(0),
    () => a.close(0),
  );
  const la = new FileLink(a);
  cleanup.push(() => la.close());
  return { a, b, la, src, dst };
}

describe('an offer at once to a peer whose features were lost as the chat opened', () => {
  // 1: b's features before its accept is lost, the first ask's answer comes. 3: so are the
  // answers to the first two asks (at the open and an RTO later, 200 ms here): only the third
  // ask's, 600 ms after the open, comes (an offer waiting 250 ms was refused).
  it.each([1, 3])(
    'waits for the features an ask brings (the first %i lost), and the file goes',
    async (lost) => {
      const { a, b, la, src, dst } = await peers();
      const lb = new FileLink(b, { downloadFolder: dst.folder });
      cleanup.push(() => lb.close());
      const dropped = dropFeatures(b, lost);
      b.on('request', (e) => b.accept(e.session));
      lb.on('file_offer', (e) => void lb.accept(e.transfer));
      const accepted = new Promise<number>((resolve) => a.on('accepted', (e) => resolve(e.session)));
      a.connectTo(b.address);
      const session = await accepted;
      expect(dropped()).toBe(1);
      expect(a.session(session)?.peerFeaturesHeard).toBe(false);
      expect(a.session(session)?.peerFeatures?.files).toBe(false);
      const data = randomData(100_000);
      writeFileSync(join(src.folder, 'f.bin'), data);
      const received = new Promise((resolve) => lb.on('file_received', resolve));
      await la.offer(session, [join(src.folder, 'f.bin')]);
      await received;
      expect(dropped()).toBe(lost);
      expect(a.session(session)?.peerFeatures?.files).toBe(true);
    },
    20_000,
  );

  it('an offer made as the chat opens (in the accepted handler, as --send-file) is not answered by the text-only features the open tells', async () => {
    const { a, b, la, src, dst } = await peers();
    const lb = new FileLink(b, { downloadFolder: dst.folder });
    cleanup.push(() => lb.close());
    const dropped = dropFeatures(b, 1);
    b.on('request', (e) => b.accept(e.session));
    lb.on('file_offer', (e) => void lb.accept(e.transfer));
    writeFileSync(join(src.folder, 'f.bin'), randomData(10_000));
    const received = new Promise((resolve) => lb.on('file_received', resolve));
    // The `features` event (text only, for want of b's word) comes right after `accepted`: the
    // offer's wait begins before it is delivered (the netns lab's 10 % loss caught that).
    const offered = new Promise<unknown>((resolve) =>
      a.on('accepted', (e) => {
        la.offer(e.session, [join(src.folder, 'f.bin')]).then(resolve, resolve);
      }),
    );
    a.connectTo(b.address);
    expect(await offered).toEqual(expect.any(Number));
    await received;
    expect(dropped()).toBe(1);
  }, 20_000);

  it('an older, text-only peer is still refused FILES_UNSUPPORTED, within the wait', async () => {
    const { a, b, la, src } = await peers({});
    b.on('request', (e) => b.accept(e.session));
    const accepted = new Promise<number>((resolve) => a.on('accepted', (e) => resolve(e.session)));
    a.connectTo(b.address);
    const session = await accepted;
    writeFileSync(join(src.folder, 'f.bin'), 'x');
    const started = performance.now();
    await expect(la.offer(session, [join(src.folder, 'f.bin')])).rejects.toMatchObject({
      code: 'FILES_UNSUPPORTED',
    });
    expect(performance.now() - started).toBeLessThan(FEATURES_WAIT_MS[1] + 1_000);
  }, 20_000);
});
