/**
 * Many datagrams with forged sources in one go (testkit's sendForgedUdp starts python once a
 * datagram: too slow for a flood): one python3 process reads `src sport hexpayload` lines and
 * sends each through a raw IPv4 socket with a hand-built header. Root and python3 are needed
 * (testkit's forgedUdpUnavailable says why not). IPv4 loopback only, to and from.
 */
import { spawn } from 'node:child_process';
import type { UdpEndpoint } from '@netchat/testkit';

const SEND_ALL = `
import socket, struct, sys
dst, dport = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
for line in sys.stdin:
    src, sport, hexpayload = line.split()
    payload = bytes.fromhex(hexpayload)
    udp = struct.pack('!HHHH', int(sport), dport, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    s.sendto(ip + udp, (dst, 0))
`;

export interface ForgedDatagram {
  from: UdpEndpoint;
  payload: Uint8Array;
}

/** Sends every datagram to `to`, each from its forged source; resolves when all went (at most 60 s). */
export function sendForgedFlood(to: UdpEndpoint, datagrams: readonly ForgedDatagram[]): Promise<void> {
  const outside = datagrams.find((d) => !d.from.host.startsWith('127.'));
  if (!to.host.startsWith('127.') || outside)
    return Promise.reject(new Error('forged datagrams go to and from IPv4 loopback only'));
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', SEND_ALL, to.host, String(to.port)], {
      stdio: ['pipe', 'ignore', 'pipe'],
      timeout: 60_000,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`forged flood not sent (${code}): ${stderr}`)),
    );
    const lines = datagrams.map(
      (d) => `${d.from.host} ${d.from.port} ${Buffer.from(d.payload).toString('hex')}\n`,
    );
    child.stdin.end(lines.join(''));
  });
}
