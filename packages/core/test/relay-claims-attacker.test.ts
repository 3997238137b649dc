/**
 * Relay claims, attacked (rendezvous/relay-claims.ts, relay-pairs.ts). A client claims each
 * relayed chat its application accepted (it asks for the peer too, so the pair is its own and
 * keeps its place in a full share). A client whose application accepts anyone (a bot) accepts
 * strangers' chats as well: 16 strangers behind NATs that pick a new port for each destination
 * open relayed chats to it and keep them in use (their heartbeats), filling its share of 16 relay
 * pairs. Then a friend behind such a NAT asks for it, again and again: its chat needs the relay.
 * Before the fix (rendezvous/relay-pairs.ts roomFor), no introduction to the bot carried a relay
 * tag any more: every pair of its share was claimed, its own choice, and never gave way; the
 * friend's chat never opened. Now, when a client asked for every pair of its share, the one made
 * longest ago gives way past its 30 s tenure. Virtual time, the programs' default heartbeats.
 */
import { describe, expect, it } from 'vitest';
import { RELAY_HOST } from '../src/index.js';
import { DEFAULT_RENDEZVOUS_SERVER_OPTIONS } from '../src/rendezvous/server.js';
import { chat, RendezvousLab } from './support/rendezvous-lab.js';
import { eventsOf } from './support/virtual-network.js';

const SHARE = DEFAULT_RENDEZVOUS_SERVER_OPTIONS.maxRelayPairsPerClient;

describe('relay claims, attacked', () => {
  it("16 strangers' relayed chats a bot accepted, kept in use: a friend's chat still opens through the relay", () => {
    const lab = new RendezvousLab();
    const bot = lab.home('port-randomising');
    const strangers = Array.from({ length: SHARE }, () => lab.home('port-randomising'));
    const friend = lab.home('port-randomising');
    expect(lab.run(() => lab.registered(bot, friend, ...strangers))).toBe(true);
    for (const stranger of strangers) {
      const opened = chat(lab, stranger, bot);
      expect(opened.accepted, JSON.stringify(opened.failed)).toBeDefined();
    }
    const relayed = () => bot.node.endpoint.listSessions().filter((s) => s.peer.host === RELAY_HOST).length;
    expect(relayed()).toBe(SHARE);
    // Past the tenure, the strangers' chats still in use.
    lab.runFor(60_000);
    expect(relayed()).toBe(SHARE);
    const claimsBefore = bot.client.stats.relayClaims;
    const tries: string[] = [];
    let opened: ReturnType<typeof chat> | undefined;
    for (let i = 0; i < 3 && !opened?.accepted; i++) {
      opened = chat(lab, friend, bot, 20_000);
      tries.push(opened.accepted ? 'opened' : 'not opened');
      lab.runFor(5_000);
    }
    console.log(
      `[relay claims] a bot's share of ${SHARE} pairs full of strangers' chats it accepted (claims ${claimsBefore}): a friend asking for it: ${tries.join(', ')}; pairs ${lab.server.sizes.relayPairs}`,
    );
    expect(opened?.accepted).toBeDefined();
    // Three minutes of a line a second from the friend, the strangers' chats kept open.
    const session = opened?.session as number;
    const sentAt = new Map<string, number>();
    const start = lab.net.now;
    for (let i = 0; i < 180; i++) {
      const text = `line ${i}`;
      sentAt.set(text, lab.net.now);
      friend.node.endpoint.send(session, text, lab.net.now);
      lab.runFor(1_000);
    }
    lab.runFor(60_000);
    const arrived = new Map(eventsOf(bot.node, 'message').map((m) => [m.text, m.at]));
    const waits = [...sentAt].map(([text, at]) => (arrived.get(text) ?? Number.POSITIVE_INFINITY) - at);
    const stalls = waits.filter((w) => w > 2_000).length;
    const lost = strangers.filter((s) => eventsOf(s.node, 'lost').length > 0).length;
    console.log(
      `[relay claims] then the friend's line a second for ${(lab.net.now - start) / 1000 - 60} s: ${stalls} of ${waits.length} waited over 2 s, the longest ${Math.max(...waits)} ms; the bot's refinds ${bot.client.stats.refinds}, claims ${bot.client.stats.relayClaims}; strangers' chats lost ${lost}; pairs ${lab.server.sizes.relayPairs}`,
    );
    // Every line arrived, none held long: the strangers' pairs give way among themselves first.
    expect(waits.every(Number.isFinite)).toBe(true);
    expect(Math.max(...waits)).toBeLessThan(5_000);
    expect(lab.server.sizes.relayPairs).toBeLessThanOrEqual(SHARE + 1);
  });
});
