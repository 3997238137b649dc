/**
 * The rendezvous roles on a NetchatPeer: `RendezvousLink` (a client: registration, finding a
 * peer by fingerprint) and `serveRendezvous` (the rendezvous itself). The protocol is in
 * ../rendezvous/; this only turns its updates into promises and events on the real clock.
 */
import { EventEmitter } from 'node:events';
import type { Address } from '../address.js';
import { errors } from '../errors.js';
import {
  type RendezvousClient,
  RendezvousClient as Client,
  type RendezvousUpdate,
} from '../rendezvous/client.js';
import type { AcceptFrom } from '../rendezvous/messages.js';
import {
  DEFAULT_RENDEZVOUS_SERVER_OPTIONS,
  RendezvousServer,
  type RendezvousServerOptions,
} from '../rendezvous/server.js';
import { isFingerprint } from '../rendezvous/fingerprint.js';
import { canReach } from './local-address.js';
import type { NetchatPeer } from './netchat-peer.js';

export interface RendezvousLinkOptions {
  /** The rendezvous peer's address (resolved). */
  server: Address;
  acceptFrom: AcceptFrom;
  /** Keys (32 bytes each) accepted when acceptFrom is `listed`. */
  listedKeys: readonly Uint8Array[];
}

/** Words for a failed introduction, for people. */
const FAILURES: Record<string, string> = {
  unavailable: 'unknown to the rendezvous, or not accepting you',
  rate_limited: 'the rendezvous is limiting our requests; try again in a few seconds',
  timeout: 'the rendezvous did not answer',
  not_registered: 'not registered with the rendezvous yet (is it reachable?)',
  full: 'the rendezvous is full and does not register us',
  wrong_key: 'the rendezvous named a key with another fingerprint',
  bad_address: 'the rendezvous named an address that cannot be used',
};

export class RendezvousLink extends EventEmitter<{ update: [RendezvousUpdate] }> {
  readonly client: RendezvousClient;
  /** While `find` asks: an answer that comes at once is read after its waiter is in place. */
  private holding = false;
  private readonly waiting = new Map<number, { resolve: (a: Address) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly peer: NetchatPeer,
    options: RendezvousLinkOptions,
  ) {
    super();
    // Introductions naming an address of an IP version this socket cannot send to are ignored.
    const local = peer.udpSocket.address();
    const binding = { host: local.address, port: local.port };
    const dualStack = local.family === 'IPv6' && local.address === '::';
    this.client = peer.endpoint.use(
      (host) =>
        new Client(host, { ...options, canReach: (address) => canReach(address, binding, dualStack) }),
    );
    peer.on('pumped', () => this.drain());
    peer.run((_endpoint, now) => this.client.start(now));
  }

  /**
   * Resolves with the peer's address at the moment to connect to it; rejects with a one-line
   * reason, a NetchatError: INVALID_ARGUMENT if the text is not a fingerprint, PEER_NOT_FOUND if
   * the rendezvous does not introduce the peer (unknown, refused, rate limited, no answer).
   */
  find(fingerprint: string): Promise<Address> {
    if (!isFingerprint(fingerprint))
      return Promise.reject(errors.invalidArgument('fingerprint', `"${fingerprint}" is not a fingerprint`));
    return new Promise((resolve, reject) => {
      this.holding = true;
      let request: number;
      try {
        request = this.peer.run((_endpoint, now) => this.client.introduce(fingerprint, now));
      } finally {
        this.holding = false;
      }
      this.waiting.set(request, { resolve, reject });
      this.drain();
    });
  }

  /** Resolves when registered (true), or false after `timeoutMs`. */
  whenRegistered(timeoutMs: number): Promise<boolean> {
    if (this.client.isRegistered) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const onUpdate = (u: RendezvousUpdate) => {
        if (u.type === 'registered') done(true);
      };
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.off('update', onUpdate);
        resolve(ok);
      };
      this.on('update', onUpdate);
    });
  }

  private drain(): void {
    if (this.holding) return;
    for (let u = this.client.pollUpdate(); u; u = this.client.pollUpdate()) {
      if (u.type === 'ready' || u.type === 'failed') {
        const waiter = this.waiting.get(u.request);
        this.waiting.delete(u.request);
        if (u.type === 'ready') waiter?.resolve(u.address);
        else waiter?.reject(errors.peerNotFound(FAILURES[u.reason] ?? u.reason));
      }
      this.emit('update', u);
    }
  }
}

/** Makes `peer` a rendezvous for others. Its sessions are accepted by its own program (the bot). */
export function serveRendezvous(
  peer: NetchatPeer,
  options: Partial<RendezvousServerOptions> = {},
): RendezvousServer {
  return peer.endpoint.use(
    (host) => new RendezvousServer(host, { ...DEFAULT_RENDEZVOUS_SERVER_OPTIONS, ...options }),
  );
}
