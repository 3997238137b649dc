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

export interface PeerOptions {
  /** The loopback address the peer binds (127.0.0.1 unless given). */
  host?: string;
  /** Whom it lets be introduced to it ('anyone' unless given). */
  acceptFrom?: 'anyone' | 'listed';
  /** Its heartbeat interval (ms), if not the independent peer's default. */
  heartbeatMs?: number;
  /** Told the size of each datagram it sends the bot, and of each it gets from the bot. */
  toBot?: (bytes: number) => void;
  fromBot?: (bytes: number) => void;
}

/**
 * An independent peer registering with the bot at `server`, its bytes to and from the bot told to
 * `toBot` and `fromBot`. The caller waits for `client.whenRegistered` and stops the peer.
 */
export async function startRegistering(
  server: Server,
  options: PeerOptions = {},
): Promise<{ peer: IndependentPeer; client: RendezvousClient }> {
  const counter =
    (tell: ((bytes: number) => void) | undefined) => (address: { port: number }, data: Uint8Array) => {
      if (address.port === server.port) tell?.(data.length);
      return true;
    };
  const peer = await IndependentPeer.listen({
    host: options.host ?? '127.0.0.1',
    inbound: counter(options.fromBot),
    outbound: counter(options.toBot),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
  });
  const client = new RendezvousClient(peer, {
    server,
    acceptFrom: options.acceptFrom ?? 'anyone',
    listedKeys: [],
  });
  peer.rendezvous = client;
  client.start();
  return { peer, client };
}

/** Starts the peer and its registration, counting one direction; the caller waits for `client.whenRegistered` and stops the peer. */
async function registered(
  server: Server,
  direction: 'in' | 'out',
  acceptFrom: 'anyone' | 'listed',
): Promise<Counted> {
  let bytes = 0;
  const count = (more: number) => {
    bytes += more;
  };
  const { peer, client } = await startRegistering(
    server,
    direction === 'in' ? { acceptFrom, fromBot: count } : { acceptFrom, toBot: count },
  );
  return { peer, client, bytes: () => bytes, add: count };
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
