/**
 * Two NetchatPeers on loopback that take files, each with a FileLink (`la` sends, `lb` receives),
 * `b` accepting every chat; what they hold is closed by the cleanup pushed on `cleanups`, which a
 * test file runs after each test. `chat()` opens one and resolves with a's session.
 */
import { FileLink, type FileLinkOptions, NetchatPeer } from '../../src/index.js';

export type Cleanups = (() => Promise<void> | void)[];

export async function linkPair(
  cleanups: Cleanups,
  receiver: FileLinkOptions = {},
  sender: FileLinkOptions = {},
) {
  const options = { port: 0, host: '127.0.0.1', streams: true, files: true } as const;
  const a = await NetchatPeer.listen(options);
  const b = await NetchatPeer.listen(options);
  const la = new FileLink(a, sender);
  const lb = new FileLink(b, receiver);
  cleanups.push(async () => {
    await la.close();
    await lb.close();
    await a.close();
    await b.close();
  });
  b.on('request', (e) => b.accept(e.session));
  const chat = () =>
    new Promise<number>((resolve) => {
      a.on('features', (e) => resolve(e.session));
      a.connectTo(b.address);
    });
  return { a, b, la, lb, chat };
}
