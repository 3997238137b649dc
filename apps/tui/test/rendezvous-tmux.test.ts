/**
 * Rendezvous news in the built netchat-tui (tmux, a private server): registered, then lost when
 * the rendezvous stops, each a line on the home tab as the CLI prints them. Before, the lines were
 * written to stderr only until the screen was drawn, so the person never saw any of them.
 * Everything is removed after the test, whatever its outcome.
 */
import { NetchatPeer, serveRendezvous } from '@netchat/core';
import { hasTmux } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { closeAfter, tui } from './tmux-tui.js';

describe.skipIf(!hasTmux)('rendezvous news in a real terminal', () => {
  it('says on the home tab that it registered, and that it lost the rendezvous', async () => {
    const rendezvous = closeAfter(await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'rv' }));
    serveRendezvous(rendezvous, {});
    rendezvous.on('request', (e) => rendezvous.accept(e.session));
    const server = `127.0.0.1:${rendezvous.address.port}`;
    const t = tui(['0', '--host', '127.0.0.1', '--rendezvous', server], { size: { columns: 120, rows: 24 } });
    const registered = await t.waitUntil(
      (s) => s.includes(`Registered with the rendezvous ${server}`),
      'the registration',
      20_000,
    );
    expect(registered).toMatch(/it sees you at 127\.0\.0\.1:\d+\./);
    // The rendezvous stops (its sessions closed, as netchat-bot does on SIGTERM).
    await rendezvous.close(100);
    const lost = await t.waitUntil(
      (s) => s.includes(`Lost the rendezvous ${server}; trying again in`),
      'the lost rendezvous',
      30_000,
    );
    expect(lost.indexOf('Registered with')).toBeLessThan(lost.indexOf('Lost the rendezvous'));
  }, 60_000);
});
