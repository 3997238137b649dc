/** The rendezvous and STUN flags, settings.json, and a binding request to a STUN server on loopback. */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KnownPeers, NetchatPeer } from '@netchat/core';
import { temporaryDirectory } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import * as stun from 'webrtc-stun';
import type { z } from 'zod';
import {
  PeerArguments,
  parseCommandLine,
  peerFlags,
  RENDEZVOUS_SILENCE_MS,
  RendezvousArguments,
  rendezvousFlags,
  Settings,
  settingsProblem,
  startRendezvousOrExit,
  stunBinding,
} from '../src/index.js';

const schema = PeerArguments.extend(RendezvousArguments);
const parse = (argv: string[]) =>
  parseCommandLine(argv, { ...peerFlags, ...rendezvousFlags }, schema) as z.infer<typeof schema>;

describe('rendezvous flags', () => {
  it('reads --rendezvous, --introductions and --stun', () => {
    const args = parse([
      '5555',
      '--rendezvous',
      '203.0.113.9:3478',
      '--introductions',
      'known',
      '--stun',
      '[::1]:3478',
    ]);
    expect(args.rendezvous).toEqual({ host: '203.0.113.9', port: 3478 });
    expect(args.introductions).toBe('known');
    expect(args.stun).toEqual({ host: '::1', port: 3478 });
  });

  it('refuses a bad value with one line naming the flag', () => {
    expect(() => parse(['5555', '--rendezvous', 'nowhere'])).toThrow(
      /^--rendezvous: invalid address "nowhere": .*HOST:PORT\)$/,
    );
    expect(() => parse(['5555', '--introductions', 'friends'])).toThrow(
      '--introductions must be anyone or known',
    );
    expect(() => parse(['5555', '--stun'])).toThrow('--stun needs a value');
  });
});

describe('settings.json', () => {
  it('takes the history switch the chat client writes there (/log off) beside the rendezvous', () => {
    expect(Settings.parse({ rendezvous: 'example.org:3478', history: false })).toEqual({
      rendezvous: { host: 'example.org', port: 3478 },
      history: false,
    });
    expect(Settings.safeParse({ history: 'off' }).success).toBe(false);
  });

  it('takes a rendezvous, whom to accept and the history switch, and nothing else', () => {
    expect(Settings.parse({ rendezvous: 'example.org:3478', introductions: 'known' })).toEqual({
      rendezvous: { host: 'example.org', port: 3478 },
      introductions: 'known',
    });
    expect(Settings.safeParse({ rendezvous: 'x' }).success).toBe(false);
    expect(Settings.safeParse({ relay: true }).success).toBe(false);
  });

  it('a broken file stops the program with one line and exit code 1', () => {
    const home = temporaryDirectory('netchat-settings-');
    writeFileSync(join(home, 'settings.json'), '{"introductions": "everyone"}');
    const script = `import('${new URL('../dist/index.js', import.meta.url).href}').then((o) => o.loadSettingsOrExit({ name: 'netchat', version: '0', usage: '' }, ${JSON.stringify(home)}))`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toBe(
      `netchat: ${join(home, 'settings.json')} "introductions" must be "anyone" or "known"; fix it or move it away\n`,
    );
  });

  it.each([
    [
      '{"greting": true}',
      'has an unknown setting "greting" (the settings are rendezvous, introductions, history, downloadDir)',
    ],
    ['{"history": "yes"}', '"history" must be true or false'],
    [
      '{"rendezvous": "nowhere"}',
      '"rendezvous" invalid address "nowhere": expected IP and port, e.g. 127.0.0.1 6666 or [::1]:6666 (the rendezvous peer HOST:PORT)',
    ],
    ['[1]', 'must hold one JSON object, e.g. {"rendezvous": "rv.example.org:3478"}'],
    ['{"history": true,}', expect.stringMatching(/^is not valid JSON \(.+\)$/)],
  ])('%s is worded as what to fix: %s', (text, problem) => {
    expect(settingsProblem(text)).toEqual(problem);
  });

  it('a valid file has no problem', () => {
    expect(settingsProblem('{"rendezvous": "rv.example.org:3478", "history": false}')).toBeUndefined();
  });
});

describe('STUN binding request', () => {
  /** A STUN server on loopback, answering binding requests with the webrtc-stun package's own messages. */
  async function stunServer() {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    let requests = 0;
    socket.on('message', (data, rinfo) => {
      const request = stun.createBlank();
      if (!request.loadBuffer(data) || !request.isBindingRequest({ fingerprint: true })) return;
      requests++;
      const answer = request
        .createBindingResponse(true)
        .setXorMappedAddressAttribute(rinfo)
        .setFingerprintAttribute();
      socket.send(answer.toBuffer(), rinfo.port, rinfo.address);
    });
    return { port: socket.address().port, close: () => socket.close(), requests: () => requests };
  }

  it("learns the address a STUN server sees, from the peer's own socket", async () => {
    const server = await stunServer();
    const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1' });
    try {
      const seen = await stunBinding(peer.udpSocket, { host: '127.0.0.1', port: server.port });
      expect(seen).toEqual({ host: '127.0.0.1', port: peer.address.port });
      expect(server.requests()).toBe(1);
    } finally {
      await peer.close();
      server.close();
    }
  });

  it('gives up with one line when nobody answers', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1' });
    try {
      await expect(
        stunBinding(peer.udpSocket, { host: '127.0.0.1', port: silent.address().port }),
      ).rejects.toThrow('the STUN server did not answer');
    } finally {
      await peer.close();
      silent.close();
    }
  }, 15_000);
});

describe('a rendezvous that never answers', () => {
  it('is said to be waited for after RENDEZVOUS_SILENCE_MS, once, with what may be wrong', async () => {
    // A loopback port nobody listens on.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const port = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const home = temporaryDirectory('options-rendezvous-');
    const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1' });
    const lines: string[] = [];
    try {
      const started = performance.now();
      await startRendezvousOrExit(
        { name: 'netchat', version: '0', usage: '' },
        peer,
        { rendezvous: { host: '127.0.0.1', port } },
        home,
        KnownPeers.inMemory(),
        (line) => lines.push(line),
        {},
      );
      const said = () => lines.some((l) => l.startsWith('No answer yet from the rendezvous'));
      for (let i = 0; i < 100 && !said(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(said()).toBe(true);
      expect(performance.now() - started).toBeGreaterThanOrEqual(RENDEZVOUS_SILENCE_MS - 50);
      expect(lines.filter((l) => l.startsWith('No answer yet'))).toEqual([
        `No answer yet from the rendezvous 127.0.0.1:${port}; still trying (is it running, and reachable from here?).`,
      ]);
    } finally {
      await peer.close(0);
      rmSync(home, { recursive: true, force: true });
    }
  }, 20_000);
});
