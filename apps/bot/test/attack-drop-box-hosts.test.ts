/**
 * The attacker's test for the drop box's per-host limit (drop-box.ts, MAX_RECEIVING_PER_HOST: 4
 * transfers received at once from one host), with the host as core counts it for every other
 * per-host limit (`requestHost`: an IPv4 address, an IPv6 /64, a relayed peer as itself).
 *
 * Two strangers walk around a limit keyed by the bare IP. One on IPv6 picks a new address of its
 * /64 for each session (any host can: the network is its own), so each address has its own 4 and
 * the stranger alone holds as many slots as it has sessions (core's 32 in all). Another comes
 * through the rendezvous's relay: every relayed peer has host `relay`, so the stranger's 4 held
 * transfers are the 4 of every relayed peer, and a relayed friend's offer is declined.
 *
 * In process, the DropBox between a FileLink and a NetchatPeer stood in for by the few calls it
 * makes (who a session's peer is; a transfer's state; accept, decline): an address of a /64 or a
 * relay tag cannot be had on this machine's loopback, and the drop box's decision is what is tried.
 * Measured: the stranger's transfers taken, and whether the friend's is.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Address,
  type FileLink,
  type LinkEvent,
  type NetchatPeer,
  relayAddress,
  type TransferId,
} from '@netchat/core';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessPolicy } from '../src/access-policy.js';
import { DropBox, MAX_RECEIVING_PER_HOST } from '../src/drop-box.js';
import type { LogLine } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Offers one after the other, each weighed before the next arrives (as the bot's log shows). */
const OFFERS = 40;

/** A drop box whose peers' sessions and offers the test makes; every answer recorded. */
async function dropBox() {
  const folder = mkdtempSync(join(tmpdir(), 'netchat-attack-hosts-'));
  cleanup.push(() => rmSync(folder, { recursive: true, force: true }));
  const sessions = new Map<number, Address>();
  const states = new Map<TransferId, string>();
  const answers = new Map<TransferId, string>();
  const link = Object.assign(new EventEmitter(), {
    transfer: (id: TransferId) => {
      const state = states.get(id);
      return state === undefined ? undefined : { id, state, files: [], peerKey: 'ab'.repeat(32) };
    },
    accept: async (id: TransferId) => {
      states.set(id, 'receiving');
      answers.set(id, 'accepted');
      return { accepted: true, folder, held: 0 };
    },
    decline: (id: TransferId, reason: string) => {
      states.set(id, 'declined');
      answers.set(id, reason);
    },
    close: async () => {},
  });
  const peer = { session: (id: number) => (sessions.has(id) ? { peer: sessions.get(id) } : undefined) };
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  new DropBox(
    peer as unknown as NetchatPeer,
    link as unknown as FileLink,
    await AccessPolicy.create('all', []),
    log,
    { folder, maxFileSize: 1_000_000, quota: 1_000_000_000 },
  );
  let nextSession = 1;
  let nextTransfer = 1;
  /** A session from `from` offers one file of one byte; resolves with the drop box's answer. */
  const offer = async (from: Address): Promise<string> => {
    const session = nextSession++;
    sessions.set(session, from);
    const transfer = nextTransfer++ as TransferId;
    states.set(transfer, 'offered');
    const file = { index: 0, path: `f${transfer}`, offeredPath: `f${transfer}`, renamed: false, size: 1 };
    const event = {
      type: 'file_offer',
      direction: 'receive',
      transfer,
      session,
      offerId: transfer.toString(16),
      files: [{ ...file, hash: '00'.repeat(32), state: 'offered', startOffset: 0 }],
      totalSize: 1,
      held: [0],
      resuming: false,
    } as unknown as LinkEvent;
    link.emit('event', event);
    for (let tries = 0; !answers.has(transfer); tries++) {
      if (tries > 1000) throw new Error(`offer ${transfer} was never answered`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return answers.get(transfer) as string;
  };
  return { offer };
}

async function taken(offer: (from: Address) => Promise<string>, from: (i: number) => Address) {
  let accepted = 0;
  for (let i = 0; i < OFFERS; i++) if ((await offer(from(i))) === 'accepted') accepted++;
  return accepted;
}

describe('the drop box’s per-host limit, walked around', () => {
  it(`a stranger with a new address of its IPv6 /64 for each of ${OFFERS} offers never sent: at most 4 taken from the /64`, async () => {
    const { offer } = await dropBox();
    const stranger = await taken(offer, (i) => ({
      host: `2001:db8:1:2::${(i + 1).toString(16)}`,
      port: 4000,
    }));
    // Another /64, an honest peer: its own 4.
    const honest = await offer({ host: '2001:db8:1:3::1', port: 4000 });
    console.log(`one /64: ${stranger} of ${OFFERS} offers taken; a peer of another /64: ${honest}`);
    expect(stranger).toBeLessThanOrEqual(MAX_RECEIVING_PER_HOST);
    expect(honest).toBe('accepted');
  });

  it('a relayed stranger holding 4 transfers: a relayed friend (another relay tag) is still taken', async () => {
    const { offer } = await dropBox();
    const stranger = await taken(offer, () => relayAddress(7));
    const friend = await offer(relayAddress(8));
    console.log(`relayed: the stranger's ${stranger} of ${OFFERS} offers taken; a relayed friend: ${friend}`);
    expect(stranger).toBe(MAX_RECEIVING_PER_HOST);
    expect(friend).toBe('accepted');
  });
});
