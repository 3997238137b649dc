/**
 * A sender (alice) and a receiver run as two programs with one key (oldBob, then newBob: the
 * receiver restarted, or back from another port), each with a FileLink into one download folder,
 * on loopback. oldBob's chat with alice is open, his link accepting every offer, when this returns.
 * For the tests of a receiver that comes back to an offer left unfinished.
 */
import { FileLink, generateKeyPair, NetchatPeer, type PartialStoreOptions } from '../../src/index.js';

export async function returningReceiver(
  downloadFolder: string,
  oldStore: PartialStoreOptions,
  cleanups: (() => Promise<void> | void)[],
) {
  const options = { port: 0, host: '127.0.0.1', streams: true, files: true } as const;
  const identity = generateKeyPair();
  const alice = await NetchatPeer.listen(options);
  const oldBob = await NetchatPeer.listen({ ...options, identity });
  const newBob = await NetchatPeer.listen({ ...options, identity });
  const sending = new FileLink(alice);
  const oldLink = new FileLink(oldBob, { downloadFolder, partialStore: oldStore });
  const newLink = new FileLink(newBob, { downloadFolder });
  cleanups.push(async () => {
    await Promise.all([sending.close(), oldLink.close(), newLink.close()]);
    await Promise.all([alice.close(100), oldBob.close(100), newBob.close(100)]);
  });
  alice.on('request', (e) => alice.accept(e.session));
  oldLink.on('file_offer', (e) => void oldLink.accept(e.transfer));
  const first = new Promise<number>((resolve) => alice.once('features', (e) => resolve(e.session)));
  oldBob.connectTo(alice.address);
  return { identity, alice, oldBob, newBob, sending, oldLink, newLink, firstSession: await first };
}
