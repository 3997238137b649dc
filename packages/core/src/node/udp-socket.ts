/** Opening the one UDP socket a peer uses: dual-stack by default, with a clear error if the port is taken. */
import dgram from 'node:dgram';
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { normalizeHost } from '../address.js';

export class BindError extends Error {
  override readonly name = 'BindError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let lastAddress = '';
let lastVersion = 0;

/**
 * Every address the adapter sends to is numeric. Node's default lookup sends even those through
 * dns.lookup and a process.nextTick before each datagram goes out; this answers them at once.
 * Names still go to dns.lookup.
 */
export function numericLookup(
  address: string,
  family: number,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  // A peer's replies go to the same host string again and again: skip isIP's regex for it.
  if (address === lastAddress) {
    callback(null, address, lastVersion);
    return;
  }
  const version = isIP(address);
  if (version !== 0) {
    lastAddress = address;
    lastVersion = version;
  }
  if (version !== 0) callback(null, address, version);
  else lookup(address, { family }, (error, found, foundFamily) => callback(error, found, foundFamily));
}

/**
 * One socket takes every peer's datagrams, and the event loop reads them only between other work
 * (a handshake's Diffie-Hellman, a burst of sends): a burst of requests or a full send window
 * overflows the kernel's default buffer (about 200 KB, some 200 small datagrams on loopback),
 * and every datagram lost there costs a retransmission timeout. The kernel caps what is asked
 * (net.core.rmem_max); a refusal is not an error.
 */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

function enlargeReceiveBuffer(socket: dgram.Socket): void {
  try {
    if (socket.getRecvBufferSize() < RECEIVE_BUFFER_BYTES) socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
  } catch {
    // Not permitted here: the default buffer still works, with more loss under bursts.
  }
}

function bind(type: 'udp4' | 'udp6', port: number, host: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    // ipv6Only false: one '::' socket also serves IPv4 peers (as ::ffff:a.b.c.d).
    const socket = dgram.createSocket({ type, ipv6Only: false, lookup: numericLookup as never });
    const onError = (error: NodeJS.ErrnoException) => {
      socket.close();
      reject(error);
    };
    socket.once('error', onError);
    try {
      socket.bind(port, host, () => {
        socket.off('error', onError);
        enlargeReceiveBuffer(socket);
        resolve(socket);
      });
    } catch (error) {
      // bind throws at once on what it checks itself (ERR_SOCKET_BAD_PORT and the like).
      onError(error as NodeJS.ErrnoException);
    }
  });
}

function describe(error: NodeJS.ErrnoException, port: number, host: string): BindError {
  const code = error.code ?? 'EBIND';
  if (code === 'EADDRINUSE') {
    // UDP said, as people look for the holder with `ss -lun` (a TCP port of that number is no
    // clash); the address too when one was asked for, as another may be free on it.
    const on = host === '::' || host === '0.0.0.0' ? '' : ` on ${host}`;
    return new BindError(
      code,
      `UDP port ${port}${on} is already in use (pick another, or 0 for any free port)`,
    );
  }
  if (code === 'EACCES')
    return new BindError(
      code,
      `not allowed to listen on port ${port} (ports below 1024 need privileges: pick one from 1024 up, or 0)`,
    );
  if (code === 'EADDRNOTAVAIL') return new BindError(code, `address ${host} is not on this machine`);
  return new BindError(code, `cannot listen on ${host} port ${port}: ${error.message}`);
}

/**
 * Binds `host` (a numeric address) or, without one, every interface: IPv6 and IPv4 on one
 * socket where the machine has IPv6, else IPv4 alone.
 */
export async function openUdpSocket(port: number, host?: string): Promise<dgram.Socket> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new BindError('EINVAL', `cannot listen on port ${port}: a port is 0 (any free one) to 65535`);
  if (host !== undefined) {
    // An IPv4-mapped address (::ffff:a.b.c.d) is its IPv4 address: bound as udp6, the socket
    // reported itself as a.b.c.d (addresses are normalised), took IPv4 addresses to send to, and
    // the kernel sent none of them (test/udp.test.ts).
    host = normalizeHost(host);
    try {
      return await bind(isIP(host) === 6 ? 'udp6' : 'udp4', port, host);
    } catch (error) {
      throw describe(error as NodeJS.ErrnoException, port, host);
    }
  }
  try {
    return await bind('udp6', port, '::');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL' && code !== 'EINVAL') {
      throw describe(error as NodeJS.ErrnoException, port, '::');
    }
  }
  try {
    return await bind('udp4', port, '0.0.0.0');
  } catch (error) {
    throw describe(error as NodeJS.ErrnoException, port, '0.0.0.0');
  }
}
