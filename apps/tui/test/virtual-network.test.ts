/**
 * The view-model on real endpoints joined by testkit's virtual network, on virtual time: what the
 * status bar says about a link is what the sessions measure, not what a fake says.
 */
import { portOf } from '@netchat/client';
import { type Address, fingerprint } from '@netchat/core';
import { settle, VirtualNetwork, type VirtualPeer } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { type PeerPort, TuiModel } from '../src/model/tui-model.js';

/** The TUI's port on a virtual peer: the client's calls, plus the TUI's extras. */
function tuiOn(
  net: VirtualNetwork,
  peer: VirtualPeer,
  acceptAll = false,
  /** A rendezvous's look-up: /connect then finds a peer known by key through it. */
  find?: PeerPort['find'],
): TuiModel {
  const port: PeerPort = {
    ...portOf(peer),
    now: () => net.now,
    quit: () => {},
    fingerprint: () => fingerprint(peer.endpoint.identity.publicKey),
    trust: (key, nick) => peer.knownPeers.check(key, nick),
    remember: (key, nick, print, seen) => peer.knownPeers.remember(key, nick, print, seen),
    contacts: () => peer.knownPeers.list(),
    ...(find && { find }),
  };
  const model = new TuiModel(port, {
    nick: 'me',
    localAddress: `${peer.address.host}:${peer.address.port}`,
    acceptAll,
    verbose: false,
    clock: () => new Date(net.now),
    bell: false,
    rendezvous: find !== undefined,
    knownPeers: peer.knownPeers,
  });
  peer.onEvent((e) => model.onEvent(e));
  return model;
}

const HEARTBEAT = { heartbeatInterval: 1_000 };

describe('the status bar on a real session', () => {
  it('knows the round trip of an accepted chat before anything is sent', () => {
    const net = new VirtualNetwork();
    const asker = net.add('10.0.0.1', 5000, { nick: 'asker', ...HEARTBEAT });
    const me = net.add('10.0.0.2', 6000, HEARTBEAT);
    const model = tuiOn(net, me, true);
    asker.connectTo(me.address);
    net.run(() => model.currentTab.state === 'open', 10_000);
    expect(model.statusBar()).toMatch(/asker │ 10\.0\.0\.1:5000 │ open │ direct │ rtt \d+ ms/);
  });

  it('warns of missed heartbeats, and the warning goes as soon as any datagram arrives (no message needed)', async () => {
    const net = new VirtualNetwork();
    const other = net.add('10.0.0.1', 5000, { nick: 'other', ...HEARTBEAT });
    other.onEvent((e) => {
      if (e.type === 'request') other.accept(e.session);
    });
    const me = net.add('10.0.0.2', 6000, HEARTBEAT);
    const model = tuiOn(net, me);
    model.editor.insert('/connect 10.0.0.1 5000');
    model.submit();
    await settle(); // the address look-up
    net.run(() => model.currentTab.state === 'open', 10_000);
    expect(model.currentTab.state).toBe('open');
    other.frozen = true;
    net.run(() => model.statusBar().includes('heartbeat missed'), 5_000);
    expect(model.statusBar()).toContain('⚠ 1 heartbeat missed');
    other.frozen = false;
    const messagesBefore = me.events.filter((e) => e.type === 'message').length;
    net.run(() => !model.statusBar().includes('missed'), 5_000);
    expect(model.statusBar()).not.toContain('missed');
    expect(model.currentTab.state).toBe('open');
    expect(me.events.filter((e) => e.type === 'message')).toHaveLength(messagesBefore);
  });
});

describe('/connect with a rendezvous', () => {
  it('finds a peer named by fingerprint through the rendezvous and opens the chat', async () => {
    const net = new VirtualNetwork();
    const other = net.add('10.0.0.1', 5000, { nick: 'other' });
    other.onEvent((e) => {
      if (e.type === 'request') other.accept(e.session);
    });
    const me = net.add('10.0.0.2', 6000);
    const asked: string[] = [];
    const find = async (print: string): Promise<Address> => {
      asked.push(print);
      return other.address;
    };
    const model = tuiOn(net, me, false, find);
    const print = fingerprint(other.endpoint.identity.publicKey);
    model.editor.insert(`/connect ${print}`);
    model.submit();
    await settle(); // the rendezvous look-up
    net.run(() => model.currentTab.state === 'open', 10_000);
    expect(asked).toEqual([print]);
    expect(model.currentTab.state).toBe('open');
  });
});
