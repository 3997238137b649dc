/**
 * Independent peers (packages/core/test/interop, written from PROTOCOL.md alone) registered with
 * a running bot's rendezvous, each counting the bytes that cross between it and the bot: the
 * bystander what the bot sends it, the attacker what it sends the bot. The attack tests weigh
 * one against the other (amplification).
 */
import { IndependentPeer, RendezvousClient } from '../../../../packages/core/test/interop/index.mjs';

type Server = { host: string; port: number };

export interface Counted {
  readonly peer: IndependentPeer;
  readonly client: RendezvousClient;
  /** Bytes so far: from the bot (the bystander) or to it (the attacker). */
  readonly bytes: () => number;
  /** Counts bytes the test sent around the peer (on its socket directly). */
  readonly add: (bytes: number) => void;
}

/** Starts the peer and its registration; the caller waits for `client.whenRegistered` and stops the peer. */
async function registered(
  server: Server,
  direction: 'in' | 'out',
  acceptFrom: 'anyone' | 'listed',
): Promise<Counted> {
  let bytes = 0;
  const count = (address: { port: number }, data: Uint8Array) => {
    if (address.port === server.port) bytes += data.length;
    return true;
  };
  const peer = await IndependentPeer.listen({
    host: '127.0.0.1',
    ...(direction === 'in' ? { inbound: count } : { outbound: count }),
  });
  const client = new RendezvousClient(peer, { server, acceptFrom, listedKeys: [] });
  peer.rendezvous = client;
  client.start();
  return {
    peer,
    client,
    bytes: () => bytes,
    add: (more) => {
      bytes += more;
    },
  };
}

/** A registered peer introduced to anyone, counting what the bot sends it. */
export function registeredBystander(server: Server): Promise<Counted> {
  return registered(server, 'in', 'anyone');
}

/** A registered peer counting what it sends the bot; `acceptFrom` whom it lets be introduced to it. */
export function registeredAttacker(
  server: Server,
  acceptFrom: 'anyone' | 'listed' = 'anyone',
): Promise<Counted> {
  return registered(server, 'out', acceptFrom);
}
