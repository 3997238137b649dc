/**
 * A rendezvous that leaves out its heartbeats in answered intervals (`skipAnsweredHeartbeats`, as
 * `netchat-bot --rendezvous` runs): its registered clients stay registered and never count a
 * miss on a healthy link; it sends one datagram per client an interval (the answer) instead of
 * two; and when an answer is lost, the client finds out from its own doubt rule (nothing back
 * within HEARTBEAT_ANSWER_MS of a heartbeat) and probes, well before a miss would be counted.
 */
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_ANSWER_MS } from '../src/rendezvous/client.js';
import { RENDEZVOUS_ADDRESS, RendezvousLab } from './support/rendezvous-lab.js';
import { eventsOf } from './support/virtual-network.js';

const INTERVAL = 25_000;

function registered(skip: boolean) {
  const lab = new RendezvousLab({ skipAnsweredHeartbeats: skip });
  const peers = [1, 2, 3].map((n) => lab.client(`192.0.2.${n}`, 4000 + n));
  expect(lab.run(() => lab.registered(...peers))).toBe(true);
  lab.runFor(2 * INTERVAL); // past the first interval of every session
  return { lab, peers };
}

const sentBetween = (
  node: { sent: { at: number; message?: { type: string } }[] },
  type: string,
  from: number,
) => node.sent.filter((s) => s.at >= from && s.message?.type === type).length;

describe('a rendezvous leaving out answered heartbeats', () => {
  it('keeps its clients registered on a healthy link, sending half the datagrams', () => {
    const counts = [true, false].map((skip) => {
      const { lab, peers } = registered(skip);
      const from = lab.net.now;
      lab.runFor(10 * INTERVAL);
      for (const peer of peers) {
        expect(peer.client.isRegistered).toBe(true);
        expect(eventsOf(peer.node, 'heartbeat_missed')).toEqual([]);
        expect(peer.client.stats.probes).toBe(0);
        // Every client heartbeat answered, either way.
        expect(sentBetween(peer.node, 'heartbeat', from)).toBe(10);
      }
      return {
        heartbeats: sentBetween(lab.rendezvous, 'heartbeat', from),
        acks: sentBetween(lab.rendezvous, 'ack', from),
        out: lab.rendezvous.sent.filter((s) => s.at >= from).length,
      };
    });
    const [skipping, keeping] = counts;
    expect(skipping).toEqual({ heartbeats: 0, acks: 30, out: 30 });
    expect(keeping).toEqual({ heartbeats: 30, acks: 30, out: 60 });
  });

  it('a lost answer: the client probes within HEARTBEAT_ANSWER_MS, is answered, and counts no miss', () => {
    const { lab, peers } = registered(true);
    const [peer] = peers;
    if (!peer) throw new Error('no peer');
    let dropped = 0;
    // Drop the rendezvous's next ack to this client.
    lab.net.filter = (from, to, _data, message) => {
      if (from.port !== RENDEZVOUS_ADDRESS.port || to.port !== peer.node.address.port) return true;
      if (message?.type !== 'ack' || dropped > 0) return true;
      dropped++;
      return false;
    };
    lab.runFor(3 * INTERVAL);
    expect(dropped).toBe(1);
    expect(peer.client.stats.probes).toBe(1);
    expect(eventsOf(peer.node, 'heartbeat_missed')).toEqual([]);
    expect(peer.client.isRegistered).toBe(true);
    expect(HEARTBEAT_ANSWER_MS).toBeLessThan(INTERVAL / 2); // the probe goes before a miss could
  });

  it('a lost answer and then its probe lost too: the probe is sent again, and one more lost datagram ends nothing', () => {
    // The NAT lab with 20 % loss both ways: a connect by fingerprint lost the rendezvous
    // ("Lost the rendezvous", a new registration, 2.5 s more to connect) when the one
    // heartbeat of the probe, or its answer, was lost.
    const { lab, peers } = registered(true);
    const [peer] = peers;
    if (!peer) throw new Error('no peer');
    const from = lab.net.now;
    const dropped = { ack: 0, probe: 0 };
    lab.net.filter = (from, to, _data, message) => {
      const toClient = from.port === RENDEZVOUS_ADDRESS.port && to.port === peer.node.address.port;
      const toRendezvous = to.port === RENDEZVOUS_ADDRESS.port && from.port === peer.node.address.port;
      if (toClient && message?.type === 'ack' && dropped.ack === 0) {
        dropped.ack++;
        return false;
      }
      // The first heartbeat after that lost answer is the probe's.
      if (toRendezvous && dropped.ack === 1 && message?.type === 'heartbeat' && dropped.probe === 0) {
        dropped.probe++;
        return false;
      }
      return true;
    };
    lab.runFor(3 * INTERVAL);
    expect(dropped).toEqual({ ack: 1, probe: 1 });
    expect(peer.client.stats.probes).toBe(1);
    // The same session with the rendezvous throughout: none lost, none opened again.
    expect(peer.node.events.filter((e) => e.at >= from).map((e) => e.type)).not.toContain('lost');
    expect(sentBetween(peer.node, 'connect_request', from)).toBe(0);
    expect(peer.client.isRegistered).toBe(true);
  });
});
