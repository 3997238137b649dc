/**
 * A UDP datagram with a forged source, such as port 0, which no ordinary socket can send from
 * (binding port 0 picks a free port): what a stranger on the network can send. It goes through a
 * raw IPv4 socket with a hand-built IP header (`IP_HDRINCL`), which needs root; node has no raw
 * sockets without a native addon, so python3's standard library builds and sends it. Only to
 * loopback: tests never send anywhere else.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { encodePacket } from '@netchat/core';

const SEND = `
import socket, struct, sys
src, sport, dst, dport, payload = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), bytes.fromhex(sys.argv[5])
udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload  # checksum 0: none (IPv4)
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, socket.IPPROTO_UDP, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))  # the kernel fills in id and checksum
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
s.sendto(ip + udp, (dst, 0))
`;

function checkForgery(): string | undefined {
  if (process.platform !== 'linux') return 'forging a UDP source needs Linux raw sockets';
  if (process.getuid?.() !== 0) return 'forging a UDP source needs root (a raw socket)';
  const probe = spawnSync(
    'python3',
    ['-c', 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW).close()'],
    { encoding: 'utf8' },
  );
  if (probe.error) return 'forging a UDP source needs python3, which is not installed';
  if (probe.status !== 0) return `no raw socket here: ${probe.stderr.trim().split('\n').at(-1)}`;
  return undefined;
}

/** Why a forged datagram cannot be sent here (for `it.skipIf`), or undefined when it can. */
export const forgedUdpUnavailable: string | undefined = checkForgery();

export interface UdpEndpoint {
  host: string;
  port: number;
}

/** Sends `payload` to `to` as if from `from` (any port, 0 included); IPv4 loopback only. */
export function sendForgedUdp(from: UdpEndpoint, to: UdpEndpoint, payload: Uint8Array): Promise<void> {
  if (!from.host.startsWith('127.') || !to.host.startsWith('127.'))
    return Promise.reject(new Error('forged datagrams go to and from IPv4 loopback only'));
  const args = [String(from.port), to.host, String(to.port), Buffer.from(payload).toString('hex')];
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', SEND, from.host, ...args], { timeout: 10_000 }, (error, _out, stderr) =>
      error ? reject(new Error(`forged datagram not sent: ${stderr || error.message}`)) : resolve(),
    );
  });
}

/**
 * A stranger's first handshake message: well formed, with a random ephemeral key (as good as any
 * initiator's), so a responder that is not under load answers it.
 */
export function strangersInit(): Uint8Array {
  const senderIndex = randomBytes(4).readUInt32BE(0) || 1;
  return encodePacket({
    type: 'handshake_init',
    senderIndex,
    cookie: new Uint8Array(16),
    noise: randomBytes(32),
  });
}
