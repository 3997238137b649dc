/**
 * The adapter's way out: sends the datagrams the endpoint queued through the socket, and never
 * throws, because a destination may come from the network (a peer's roaming, a rendezvous's
 * introduction). A destination the socket cannot send to is counted and reported instead
 * (`send_error`), and so is a send the socket refuses at once or fails later.
 */
import type dgram from 'node:dgram';
import { type Address, formatAddress, normalizeHost } from '../address.js';
import { errors } from '../errors.js';
import type { PeerAddresses } from './local-address.js';

/** What the adapter itself counted: datagrams that never reached the endpoint or the wire. */
export interface AdapterStats {
  /** Datagrams dropped on arrival: their source cannot be answered (see PeerAddresses). */
  unusableSources: number;
  /** Datagrams not sent: the endpoint named a destination the socket cannot send to. */
  unusableDestinations: number;
  /**
   * Sends that failed: thrown by the socket at once (always counted), or reported by its callback
   * (counted only while someone listens for `send_error`: only then is the callback asked for).
   */
  sendErrors: number;
}

export const UNUSABLE =
  'no datagram can go there (port 0, an unspecified, multicast or broadcast address, or an IP version the socket does not speak)';

/** Where a failed send is told: `listening` says whether anyone hears it (the socket's callback is asked for only then). */
export interface SendErrorReport {
  listening(): boolean;
  report(error: Error & { to: Address }): void;
}

export class DatagramOut {
  /** The socket is closing or closed: nothing more goes out. */
  closed = false;

  constructor(
    private readonly socket: dgram.Socket,
    private readonly peers: PeerAddresses,
    private readonly dualStack: boolean,
    private readonly counts: AdapterStats,
    private readonly errorsTo: SendErrorReport,
  ) {}

  /** Sends one datagram, or counts why not. */
  send(to: Address, data: Uint8Array): void {
    if (this.closed) return;
    if (!this.peers.usable(to.host, to.port)) {
      this.counts.unusableDestinations++;
      this.report(errors.invalidAddress(formatAddress(to), UNUSABLE), to);
      return;
    }
    // Hosts are numeric and normalised: no ':' means IPv4, which a dual-stack socket maps.
    const host = this.dualStack && !to.host.includes(':') ? `::ffff:${to.host}` : to.host;
    // A send callback costs a process.nextTick per datagram (≈0.5 µs a round trip): asked for
    // only while someone listens for send_error, the only thing it is for.
    try {
      this.socket.send(data, to.port, host, this.errorsTo.listening() ? this.onSent : undefined);
    } catch (error) {
      // Node throws at once on what it validates itself (a port, a closed socket): whatever
      // slipped past the checks above, the datagram is lost and the receive path goes on.
      this.counts.sendErrors++;
      this.report(error instanceof Error ? error : new Error(String(error)), to);
    }
  }

  private report(error: Error, to: Address): void {
    if (this.errorsTo.listening()) this.errorsTo.report(Object.assign(error, { to }));
  }

  /**
   * One callback for every datagram, not a closure per send. Node's send errors carry the
   * address and port the datagram was for, as given to `send`.
   */
  private readonly onSent = (error: Error | null): void => {
    if (!error) return;
    this.counts.sendErrors++;
    const { address, port } = error as Error & { address?: string; port?: number };
    this.report(error, { host: normalizeHost(address ?? ''), port: port ?? 0 });
  };
}
