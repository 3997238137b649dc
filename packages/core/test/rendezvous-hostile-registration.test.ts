/**
 * A hostile rendezvous against a client's registration: `introduce_failed` (`not_registered`) is
 * the rendezvous saying it does not know us, and a client registers again at once when told so.
 * Told so for requests it never made, or many times over for one it did, it must not register
 * again each time: every new registration is a `register` sent and, once answered, a line said
 * to the person ("Registered with the rendezvous ..."). Measured on the virtual network: the
 * registrations made again, the `registered` updates, and our bytes to the rendezvous against
 * its bytes to us.
 */
import { describe, expect, it } from 'vitest';
import { decodeRendezvous, encodeRendezvous } from '../src/index.js';
import { RECONNECT_INITIAL_MS, RECONNECT_MAX_MS } from '../src/rendezvous/client.js';
import { INTRODUCE_TIMEOUT_MS, REQUEST_RETRY_MS } from '../src/rendezvous/introductions.js';
import { hostOf, type Peer, RENDEZVOUS_ADDRESS, RendezvousLab } from './support/rendezvous-lab.js';

const FLOOD_PER_SECOND = 50;
const SECONDS = 10;

/** Sends `peer` a rendezvous message from the rendezvous, on the channel of its session with it. */
function fromRendezvous(lab: RendezvousLab, peer: Peer) {
  const host = hostOf(lab.rendezvous.endpoint);
  const public_ = lab.homes.find((h) => h === peer)?.nat.publicHost ?? peer.node.address.host;
  const session = lab.rendezvous.endpoint.listSessions().find((s) => s.peer.host === public_);
  const channel = session && host.channelOf(session.id);
  if (!channel) throw new Error('no session with that peer');
  return (message: Parameters<typeof encodeRendezvous>[0]) =>
    host.sendControl(channel.id, encodeRendezvous(message), lab.net.now);
}

/** Bytes `from` sent to `to`'s host since `since`. */
function bytes(
  from: { sent: { at: number; to: { host: string }; data: Uint8Array }[] },
  to: string,
  since: number,
) {
  return from.sent.filter((s) => s.at >= since && s.to.host === to).reduce((n, s) => n + s.data.length, 0);
}

describe('a hostile rendezvous against the registration', () => {
  it(`${FLOOD_PER_SECOND} \`not_registered\` a second for ${SECONDS} s, for requests never made: never registered again, one \`registered\` update, fewer bytes out than in`, () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a))).toBe(true);
    const send = fromRendezvous(lab, a);
    const publicHost = lab.homes[0]?.nat.publicHost as string;
    const start = lab.net.now;
    for (let second = 0; second < SECONDS; second++)
      for (let i = 0; i < FLOOD_PER_SECOND; i++) {
        send({
          type: 'introduce_failed',
          request: 10_000 + second * FLOOD_PER_SECOND + i,
          reason: 'not_registered',
        });
        lab.runFor(1_000 / FLOOD_PER_SECOND);
      }
    lab.runFor(1_000);
    const out = bytes(a.node, RENDEZVOUS_ADDRESS.host, start);
    const into = bytes(lab.rendezvous, publicHost, start);
    console.log(
      `${FLOOD_PER_SECOND * SECONDS} unsolicited not_registered: registered again ${a.client.stats.reregistrations} times, ${lab.updatesOf(a, 'registered').length} registered updates; ${out} bytes to the rendezvous for ${into} from it`,
    );
    expect(a.client.stats.reregistrations).toBe(0);
    expect(a.client.stats.ignored.unasked).toBe(FLOOD_PER_SECOND * SECONDS);
    expect(lab.updatesOf(a, 'registered')).toHaveLength(1);
    expect(a.client.isRegistered).toBe(true);
    expect(out).toBeLessThan(into);
  });

  it(`our one lookup answered \`not_registered\` ${FLOOD_PER_SECOND} times a second: registered again at most once a second for it, and the lookup fails at its timeout`, () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a))).toBe(true);
    // The rendezvous answers our lookup with nothing but `not_registered`: it never reads it.
    const serve = lab.server.onControl.bind(lab.server);
    lab.server.onControl = (channel, bytes, now) => {
      const decoded = decodeRendezvous(bytes);
      if (!(decoded.ok && decoded.datagram.type === 'introduce')) serve(channel, bytes, now);
    };
    const send = fromRendezvous(lab, a);
    const publicHost = lab.homes[0]?.nat.publicHost as string;
    const start = lab.net.now;
    const request = a.client.introduce('AAAQ-EAYE-AUDA-OCAJ', lab.net.now);
    for (let i = 0; i < FLOOD_PER_SECOND * SECONDS; i++) {
      send({ type: 'introduce_failed', request, reason: 'not_registered' });
      lab.runFor(1_000 / FLOOD_PER_SECOND);
    }
    const out = bytes(a.node, RENDEZVOUS_ADDRESS.host, start);
    const into = bytes(lab.rendezvous, publicHost, start);
    // The lookup's timed sends: once, then again each second until its timeout.
    const sends = 1 + INTRODUCE_TIMEOUT_MS / REQUEST_RETRY_MS;
    console.log(
      `our lookup answered not_registered ${FLOOD_PER_SECOND * SECONDS} times: registered again ${a.client.stats.reregistrations} times, ${lab.updatesOf(a, 'registered').length} registered updates; ${out} bytes to the rendezvous for ${into} from it`,
    );
    expect(a.client.stats.reregistrations).toBeLessThanOrEqual(sends);
    expect(lab.updatesOf(a, 'registered').length).toBeLessThanOrEqual(1 + sends);
    expect(lab.updatesOf(a, 'failed').filter((u) => u.request === request)).toEqual([
      expect.objectContaining({ reason: 'timeout' }),
    ]);
    expect(out).toBeLessThan(into);
  });

  it('a rendezvous that registers us, then closes our session at once, again and again for 2 minutes: the client backs off as from one that is down, and says so a few times, not each second', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a))).toBe(true);
    const publicHost = lab.homes[0]?.nat.publicHost as string;
    const start = lab.net.now;
    const end = start + 120_000;
    while (lab.net.now < end) {
      // Registered (again): the rendezvous ends the session as soon as it sent `registered`.
      if (lab.server.size > 0)
        for (const s of lab.rendezvous.endpoint.listSessions())
          if (s.peer.host === publicHost) lab.rendezvous.endpoint.close(s.id, lab.net.now, { linger: false });
      lab.runFor(50);
    }
    const said = a.updates.filter(
      (u) => u.at >= start && (u.type === 'registered' || u.type === 'unregistered'),
    );
    const connects = a.node.sent.filter(
      (s) => s.at >= start && s.to.host === RENDEZVOUS_ADDRESS.host && s.data[3] === 1,
    ).length;
    console.log(
      `2 minutes of a rendezvous that closes each session once it registered us: ${said.length} registered/unregistered updates, ${a.client.stats.reregistrations} reregistrations, ${connects} handshake inits`,
    );
    // Gaps of 1, 2, 4, 8, 16, then 30 s: 9 new sessions in 2 minutes at most, each said twice.
    let sessions = 0;
    for (
      let t = 0, gap = RECONNECT_INITIAL_MS;
      t < 120_000;
      t += gap, gap = Math.min(2 * gap, RECONNECT_MAX_MS)
    )
      sessions++;
    expect(said.length).toBeLessThanOrEqual(2 * sessions);
  });
});
