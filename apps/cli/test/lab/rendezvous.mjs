// The rendezvous of nat-lab.test.ts: a NetchatPeer that serves rendezvous and accepts every
// registration (as `netchat-bot --rendezvous` does). Prints one JSON line when listening.
import { NetchatPeer, serveRendezvous } from '@netchat/core';

const [host, port, marker = ''] = process.argv.slice(2);
const peer = await NetchatPeer.listen({ port: Number(port), host, nick: 'rendezvous', heartbeatInterval: 2000 });
const server = serveRendezvous(peer);
// The test's check that the relay never carries plaintext: every datagram in is searched for it.
const needle = Buffer.from(marker);
let plaintextSeen = 0;
if (marker) peer.udpSocket.on('message', (data) => { if (data.includes(needle)) plaintextSeen++; });
peer.on('request', (e) => peer.accept(e.session));
process.stdout.write(`${JSON.stringify({ type: 'listening', port: peer.address.port })}\n`);
process.stdin.setEncoding('utf8').on('data', () => {
  process.stdout.write(`${JSON.stringify({ type: 'stats', ...server.stats, plaintextSeen, datagramsIn: peer.stats.datagramsIn })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
