/** A chat client on a virtual peer, on the network's clock and timers, recording its updates. */
import type { VirtualPeer } from '@netchat/testkit';
import { ChatClient, type ClientSettings, type ClientUpdate } from '../../src/index.js';

export function clientOn(peer: VirtualPeer, settings: ClientSettings = {}) {
  const client = new ChatClient(peer, peer.knownPeers, {
    clock: () => peer.net.now,
    timers: peer.net.timers,
    ...settings,
  });
  const updates: ClientUpdate[] = [];
  client.subscribe((u) => updates.push(u));
  peer.onEvent((e) => client.handle(e));
  return { client, updates, types: () => updates.map((u) => u.type) };
}
