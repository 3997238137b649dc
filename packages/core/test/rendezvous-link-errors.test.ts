/**
 * What `RendezvousLink.find` rejects with, on real sockets on loopback: a NetchatError with a
 * stable code (errors.ts), so a program can tell "that is not a fingerprint" (its user's typing)
 * from "the rendezvous does not introduce that peer" without matching the words.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatError, NetchatPeer, RendezvousLink, serveRendezvous } from '../src/index.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A rendezvous and a client registered with it, each on its own socket on loopback. */
async function registered(): Promise<RendezvousLink> {
  const server = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'rendezvous' });
  closers.push(() => server.close(100));
  serveRendezvous(server);
  server.on('request', (e) => server.accept(e.session));
  const client = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'client' });
  closers.push(() => client.close(100));
  const link = new RendezvousLink(client, { server: server.address, acceptFrom: 'anyone', listedKeys: [] });
  expect(await link.whenRegistered(10_000)).toBe(true);
  return link;
}

/** The error `promise` rejects with (the test fails if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`resolved with ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

describe('RendezvousLink.find rejects with a NetchatError', () => {
  it('INVALID_ARGUMENT for a text that is not a fingerprint, before asking the rendezvous', async () => {
    const link = await registered();
    const error = await rejection(link.find('../../x'));
    expect(error).toBeInstanceOf(NetchatError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((error as Error).message).toBe('invalid fingerprint: "../../x" is not a fingerprint');
  });

  it('PEER_NOT_FOUND, with the reason in words, for a fingerprint the rendezvous does not know', async () => {
    const link = await registered();
    const error = await rejection(link.find('AAAQ-EAYE-AUDA-OCAJ'));
    expect(error).toBeInstanceOf(NetchatError);
    expect(error).toMatchObject({ code: 'PEER_NOT_FOUND' });
    expect((error as Error).message).toBe(
      'cannot find the peer: unknown to the rendezvous, or not accepting you',
    );
    // The link still works: the client stays registered.
    expect(link.client.isRegistered).toBe(true);
  });
});
