import { describe, expect, it } from 'vitest';
import { filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';

describe('smoke', () => {
  it('sends one file', () => {
    const { net, sa, alice, bob } = filePair();
    const data = randomData(300_000);
    const t = alice.offer(sa, { 'a.bin': data });
    net.run(() => bob.of('file_offer').length > 0, net.now + 5000);
    const offer = bob.of('file_offer')[0];
    expect(offer).toBeDefined();
    bob.accept(offer!.transfer);
    net.run(() => bob.of('file_done').length > 0 && alice.of('file_done').length > 0, net.now + 60_000);
    console.log(bob.events.map((e) => e.type).join(' '), alice.events.map((e) => e.type).join(' '));
    expect(Buffer.compare(bob.storage.placed.get('a.bin')!, data)).toBe(0);
    expect(t).toBe(1);
  });
});
