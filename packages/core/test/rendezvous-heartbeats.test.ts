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
});
