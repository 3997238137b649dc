/**
 * Rendezvous figures. Time from asking for a fingerprint to an open chat, direct (hole punching
 * through endpoint-independent NATs) and relayed (port-randomising NATs), on virtual time with
 * 20 ms one-way links: protocol time, the same on any machine. The relay's cost per message:
 * the rendezvous's CPU time per relayed packet (sans-IO: handleDatagram to the packet out: the
 * sender's MAC checked, the receiver's computed), beside the runtime's limit for the same
 * forwarding done bare (read the tag, look up, copy), in the same run; and the bytes it adds.
 * Then the rendezvous at scale, on loopback (rendezvous-scale.ts): 100,000 registrations coming
 * and going, and 100,000 held, with their goals. `BENCH_RV_CLIENTS=0` leaves the scale part out.
 */
import { RELAY_OVERHEAD_BYTES } from '../src/rendezvous/relay.js';
import { RendezvousLab } from '../test/support/rendezvous-lab.js';
import { eventsOf } from '../test/support/virtual-network.js';
import { rendezvousScale } from './rendezvous-scale.js';
import { report, round } from './util.js';

const BATCHES = 20;
const PER_BATCH = 2_000;

function openTime(kind: 'endpoint-independent' | 'port-randomising') {
  const lab = new RendezvousLab({}, { relayBytesPerSecond: 1e12, relayBurstBytes: 1e12 });
  lab.net.conditions = { latency: 20, jitter: 0, loss: 0, duplicate: 0 };
  const a = lab.home(kind);
  const b = lab.home(kind);
  lab.run(() => lab.registered(a, b), 10_000);
  lab.runFor(1_000); // round trips measured
  const start = lab.net.now;
  const request = a.client.introduce(b.fingerprint, lab.net.now);
  lab.run(() => lab.updatesOf(a, 'ready').some((u) => u.request === request));
  const ready = lab.updatesOf(a, 'ready')[0];
  if (!ready) throw new Error('no introduction');
  const session = a.node.endpoint.connect(ready.address, lab.net.now);
  lab.run(() => eventsOf(b.node, 'request').length > 0, 20_000);
  const incoming = eventsOf(b.node, 'request')[0];
  if (!incoming) throw new Error('no request');
  b.node.endpoint.accept(incoming.session, lab.net.now);
  lab.run(() => eventsOf(a.node, 'accepted').length > 0, 20_000);
  const accepted = eventsOf(a.node, 'accepted')[0];
  if (!accepted) throw new Error('not accepted');
  return {
    lab,
    a,
    b,
    session,
    ms: accepted.at - start,
    relayed: accepted.peer,
    isRelayed: accepted.peer.host === 'relay',
  };
}

const direct = openTime('endpoint-independent');
const relayed = openTime('port-randomising');

// Relay packets as the relayed chat sends them: a's text, sealed, wrapped for b. Each under its
// own counter (a copy would be dropped), made beforehand.
const { lab, a } = relayed;
a.node.endpoint.send(relayed.session, 'x'.repeat(64), lab.net.now);
lab.net.collect();
const packet = a.node.sent.filter((s) => s.data[3] === 6).at(-1);
if (!packet) throw new Error('no relay packet');
const inner = packet.data.subarray(RELAY_OVERHEAD_BYTES);
// The address a's packets reach the rendezvous from (its NAT's port for that destination).
const rendezvous = lab.rendezvous.endpoint;
const aAtRendezvous = rendezvous.listSessions().find((s) => s.peer.host === '203.0.113.1')?.peer;
if (!aAtRendezvous) throw new Error('a has no session at the rendezvous');

function perPacketUs(forward: () => void): number[] {
  const samples: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = performance.now();
    for (let i = 0; i < PER_BATCH; i++) forward();
    samples.push(((performance.now() - start) * 1000) / PER_BATCH);
  }
  return samples.sort((x, y) => x - y);
}

const packets: Uint8Array[] = [];
for (let i = 0; i < BATCHES * PER_BATCH; i++)
  packets.push(a.client.wrap(relayed.relayed, inner)?.data as Uint8Array);
let next = 0;
const before = lab.server.stats.relayed;
const netchat = perPacketUs(() => {
  rendezvous.handleDatagram(packets[next++] as Uint8Array, aAtRendezvous, lab.net.now);
  while (rendezvous.pollTransmit()) {}
});
const forwarded = lab.server.stats.relayed - before;

// The same forwarding done bare: read the tag, look it up, copy the packet with the sender's tag.
const table = new Map([[2, { host: '203.0.113.2', port: 1 }]]);
const out: Uint8Array[] = [];
const bare = perPacketUs(() => {
  const view = new DataView(packet.data.buffer, packet.data.byteOffset, packet.data.byteLength);
  const to = table.get(view.getUint32(4));
  const copy = Uint8Array.from(packet.data);
  new DataView(copy.buffer).setUint32(4, 1);
  if (to) out.push(copy);
  if (out.length > 1000) out.length = 0;
});

const median = (s: number[]) => round(s[Math.floor(s.length / 2)] as number, 3);
const figures = {
  openDirectMs: round(direct.ms, 0),
  openDirectRelayed: direct.isRelayed,
  openRelayedMs: round(relayed.ms, 0),
  openRelayedRelayed: relayed.isRelayed,
  oneWayLatencyMs: 20,
  relayUsPerPacket: median(netchat),
  bareForwardUsPerPacket: median(bare),
  forwardedInBench: forwarded,
  relayPacketBytes: packet.data.length,
  relayOverheadBytes: RELAY_OVERHEAD_BYTES,
};
console.log(
  `open, 20 ms links: direct ${figures.openDirectMs} ms, relayed ${figures.openRelayedMs} ms (virtual time); relay: ${figures.relayUsPerPacket} µs per packet at the rendezvous (bare forwarding: ${figures.bareForwardUsPerPacket} µs; ${forwarded} of ${BATCHES * PER_BATCH} forwarded), +${RELAY_OVERHEAD_BYTES} bytes (${figures.relayPacketBytes} B for a 64 B text)`,
);

const scale = Number(process.env.BENCH_RV_CLIENTS ?? 100_000) > 0 ? await rendezvousScale() : undefined;
if (scale) {
  const { base, churn, hold } = scale;
  const yes = (ok: boolean) => (ok ? 'met' : 'NOT MET');
  const lines = [
    `rendezvous at scale (loopback; ${base.addresses.toLocaleString('en-US')} client addresses, up to ${base.perAddressLimit} sessions each; load ${base.load.join(' ')}):`,
  ];
  if (churn) {
    const churnOk = Math.abs(churn.churnRssGrowthPercent) <= 20;
    lines.push(
      `  churn: ${churn.churnRegistrations.toLocaleString('en-US')} registrations came and went in ${churn.churnSeconds} s: RSS ${churn.churnRssBeforeMB} MB before, ${churn.churnRssAfterMB} MB after (${churn.churnRssGrowthPercent > 0 ? '+' : ''}${churn.churnRssGrowthPercent} %; goal within 20 %: ${yes(churnOk)}); tables after: ${JSON.stringify(churn.churnSizesAfter)}, sessions ${churn.churnSessionsAfter}`,
      `  churn memory (MB): before ${JSON.stringify(churn.churnMemoryBeforeMB)}; at the peak (${churn.churnPeakChannels} channels) ${JSON.stringify(churn.churnMemoryPeakMB)}; after ${JSON.stringify(churn.churnMemoryAfterMB)}`,
    );
  }
  if (hold) {
    const rssOk = hold.holdRssMB <= 1024 && hold.holdRegistrations >= base.clients;
    const cpuOk = hold.holdCpuPercent <= 30 && hold.holdRegistrations >= base.clients;
    lines.push(
      `  hold: ${hold.holdRegistrations.toLocaleString('en-US')} registrations (goal ${base.clients.toLocaleString('en-US')}, ${hold.holdRefused} refused), heartbeats ${hold.heartbeatSeconds} s: RSS ${hold.holdRssMB} MB (goal ≤ 1024 MB: ${yes(rssOk)}; ${base.rssEmptyMB} MB empty), CPU ${hold.holdCpuPercent} % of one core over ${hold.holdIdleSeconds} s (goal ≤ 30 %: ${yes(cpuOk)}); datagrams a second in ${hold.holdDatagramsInPerSecond}, out ${hold.holdDatagramsOutPerSecond}; the clients' process ${hold.clientsCpuPercent} % (same machine), ${hold.clientProbes} clients doubted it`,
    );
  }
  console.log(lines.join('\n'));
}
report('rendezvous', {
  ...figures,
  ...(scale ? { scale: { ...scale.base, ...scale.churn, ...scale.hold } } : {}),
});
