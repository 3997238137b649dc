/**
 * Connect time on 127.0.0.1, from `connectTo` to `accepted`, against the raw dgram round trip of
 * the same run. First contact: a fresh peer (new key, new socket) each time, so every connect
 * does the whole handshake; each from its own loopback address (127.3.x.y), so the responder's
 * per-host handshake rate limit, meant for floods, does not pace a benchmark. Again: a new
 * session with a peer we already have a channel with (no handshake).
 */
import { NetchatPeer } from '../src/index.js';
import { report, round, sleep, stats, udpPair } from './util.js';
import { PAYLOAD_BYTES } from './util.js';

const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 200);

function accepted(peer: NetchatPeer, session: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onAccepted = (e: { session: number }) => {
      if (e.session !== session) return;
      peer.off('accepted', onAccepted);
      resolve(performance.now());
    };
    peer.on('accepted', onAccepted);
    peer.once('declined', (e) => reject(new Error(`declined: ${e.reason}`)));
    peer.once('no_answer', () => reject(new Error('no answer')));
  });
}

async function rawRoundTrips(n: number): Promise<number[]> {
  const [a, b] = await udpPair();
  b.on('message', (data, rinfo) => b.send(data, rinfo.port, rinfo.address));
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await new Promise<void>((resolve) => {
      a.once('message', () => resolve());
      a.send(PAYLOAD_BYTES, b.address().port, '127.0.0.1');
    });
    samples.push(performance.now() - start);
  }
  a.close();
  b.close();
  return samples;
}

export async function connectTime() {
  const b = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', maxSessions: 10_000 });
  b.on('request', (e) => b.accept(e.session));
  const first: number[] = [];
  const again: number[] = [];
  for (let i = 0; i < CONNECTS + 10; i++) {
    const host = `127.3.${Math.floor(i / 254)}.${(i % 254) + 1}`;
    const a = await NetchatPeer.listen({ port: 0, host });
    const start = performance.now();
    const session = a.connectTo(b.address);
    const at = await accepted(a, session);
    // The first ten warm up.
    if (i >= 10) first.push(at - start);
    a.closeSession(session);
    const again0 = performance.now();
    const second = a.connectTo(b.address);
    const at2 = await accepted(a, second);
    if (i >= 10) again.push(at2 - again0);
    await a.close(200);
  }
  await b.close(200);
  await sleep(10);
  const raw = stats(await rawRoundTrips(2_000));
  const f = stats(first);
  const s = stats(again);
  return {
    connects: CONNECTS,
    firstContact: f,
    existingChannel: s,
    rawRoundTrip: raw,
    firstContactInRawRoundTrips: round(f.medianUs / raw.medianUs, 1),
    existingChannelInRawRoundTrips: round(s.medianUs / raw.medianUs, 1),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await connectTime();
  console.log(`Connect on loopback (connect → accepted), median of ${CONNECTS}`);
  console.log(
    `  first contact     median ${r.firstContact.medianUs} µs  p99 ${r.firstContact.p99Us} µs  (${r.firstContactInRawRoundTrips} raw round trips)`,
  );
  console.log(
    `  existing channel  median ${r.existingChannel.medianUs} µs  p99 ${r.existingChannel.p99Us} µs  (${r.existingChannelInRawRoundTrips} raw round trips)`,
  );
  console.log(`  raw round trip    median ${r.rawRoundTrip.medianUs} µs`);
  report('connect', r);
}
