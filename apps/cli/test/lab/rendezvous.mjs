// The rendezvous of nat-lab.test.ts: a NetchatPeer that serves rendezvous and accepts every
// registration (as `netchat-bot --rendezvous` does). Prints one JSON line when listening.
// usage: rendezvous.mjs HOST PORT [MARKER] [RELAY_BYTES_PER_SECOND] (the operator's --relay-rate;
// the default budget, 64 KiB/s, would make a file test through the relay take minutes).
import { NetchatPeer, relayRate, serveRendezvous } from '@netchat/core';

const [host, port, marker = '', rate = ''] = process.argv.slice(2);
const peer = await NetchatPeer.listen({ port: Number(port), host, nick: 'rendezvous', heartbeatInterval: 2000 });
const server = serveRendezvous(peer, rate ? relayRate(Number(rate)) : {});
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
