// README's sans-IO example, a program: the datagrams and times the fragment leaves to its caller are
// made up here (one datagram that is not netchat's, dropped and counted), and what it did is printed.
import type { Address, NetchatEvent } from '../../src/index.js';

const now = performance.now();
const bytes = new Uint8Array([1, 2, 3]);
const from: Address = { host: '127.0.0.1', port: 6666 };
const sent: Address[] = [];
// ---- README ----
import { Endpoint } from '../../src/index.js';

const endpoint = new Endpoint({ nick: 'alice' });
const session = endpoint.connect({ host: '127.0.0.1', port: 6666 }, now);
endpoint.handleDatagram(bytes, from, now);   // every datagram received
endpoint.handleTimeout(now);                 // when nextTimeout() is reached
for (let t = endpoint.pollTransmit(); t; t = endpoint.pollTransmit()) send(t.data, t.to);
for (let e = endpoint.pollEvent(); e; e = endpoint.pollEvent()) handle(e);
const wakeAt = endpoint.nextTimeout();       // undefined: nothing scheduled
// ---- end README ----
function send(_data: Uint8Array, to: Address): void {
  sent.push(to);
}
function handle(e: NetchatEvent): void {
  console.log(`event ${e.type}`);
}
console.log(`session ${session}: ${sent.length} datagram(s) sent to ${sent.map((a) => `${a.host}:${a.port}`)}`);
console.log(`dropped ${endpoint.stats.malformed + endpoint.secureStats.malformedPackets}; next deadline in ${Math.round((wakeAt ?? now) - now)} ms`);
