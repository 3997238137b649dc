/**
 * Interop through a bad path: netchat and the independent peer (written from PROTOCOL.md alone)
 * talk through a UDP relay on loopback that drops, duplicates and reorders datagrams with a fixed
 * seed. Every message arrives exactly once and in order, each side hears `delivered` for all it
 * sent, and closing works through the same path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bigText, Stage } from './interop/harness.js';
import { LossyRelay, type RelayConditions } from './support/lossy-relay.js';

let stage: Stage;
afterEach(async () => {
  await stage.close();
});

const BAD_PATH: RelayConditions = { loss: 0.15, duplicate: 0.1, delay: 0.25, maxDelayMs: 40 };

function messages(prefix: string, count: number): string[] {
  const out = Array.from({ length: count }, (_, i) => `${prefix} ${i} ${'🦊'.repeat(i % 7)}`);
  out.splice(count / 2, 0, bigText(65_536));
  return out;
}

describe('interop through a lossy, duplicating, reordering path', () => {
  it.each([
    ['the independent peer connects', 11],
    ['netchat connects', 23],
  ])(
    '%s: 41 messages each way (one of 64 KiB) arrive once, in order, all delivered (seed %i)',
    async (who, seed) => {
      stage = new Stage();
      const r = stage.recorder;
      const n = await stage.netchat('N', { heartbeatInterval: 1000 });
      const p = await stage.independent('P', { heartbeatMs: 1000, onRequest: () => 'accept' });
      n.on('request', (e) => n.accept(e.session));
      let ns: number;
      let ps: number;
      let relay: LossyRelay;
      if (who === 'the independent peer connects') {
        relay = await LossyRelay.start(n.address.port, BAD_PATH, seed);
        stage.onCleanup(async () => relay.close());
        ps = p.connect('127.0.0.1', relay.portForA);
        await r.waitFor('P', 'accepted', (e) => e.session === ps, 20_000);
        ns = (await r.waitFor('N', 'request')).session as number;
      } else {
        relay = await LossyRelay.start(p.address.port, BAD_PATH, seed);
        stage.onCleanup(async () => relay.close());
        ns = await n.connect('127.0.0.1', relay.portForA);
        await r.waitFor('N', 'accepted', (e) => e.session === ns, 20_000);
        ps = (await r.waitFor('P', 'request')).session as number;
      }
      const fromP = messages('p', 40);
      const fromN = messages('n', 40);
      const pIds = fromP.map((t) => p.send(ps, t));
      const nIds = fromN.map((t) => n.send(ns, t));
      await r.until(
        () => r.of('N', 'message').length >= fromP.length && r.of('P', 'message').length >= fromN.length,
        40_000,
        'every message',
      );
      await r.until(
        () => r.of('P', 'delivered').length === pIds.length && r.of('N', 'delivered').length === nIds.length,
        20_000,
        'every delivered',
      );
      expect(r.of('N', 'message').map((e) => e.text)).toEqual(fromP);
      expect(r.of('P', 'message').map((e) => e.text)).toEqual(fromN);
      expect(r.of('P', 'delivered').map((e) => e.messageId)).toEqual(pIds);
      expect(r.of('N', 'delivered').map((e) => e.messageId)).toEqual(nIds);
      expect(relay.dropped).toBeGreaterThan(0); // the path did lose datagrams

      // The side that did not connect closes; the other hears it through the same path.
      if (who === 'the independent peer connects') {
        n.closeSession(ns);
        expect((await r.waitFor('P', 'closed', (e) => e.session === ps, 20_000)).reason).toBe('peer_closed');
      } else {
        p.closeSession(ps);
        expect((await r.waitFor('N', 'closed', (e) => e.session === ns, 20_000)).reason).toBe('peer_closed');
      }
      expect(r.of('N', 'failed')).toEqual([]);
      expect(r.of('P', 'failed')).toEqual([]);
      expect(p.errors).toEqual([]);
      expect(n.stats.protocolErrors).toBe(0);
      expect(n.stats.malformed).toBe(0);
    },
  );
});
