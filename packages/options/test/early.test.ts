import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KnownPeers } from '@netchat/core';
import { temporaryDirectory } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import {
  completionProblem,
  completionScript,
  earlyAnswer,
  knownPeerAddresses,
  usageOptions,
} from '../src/index.js';

const usage = `Usage: demo [options] <port>

Options:
  --host ADDR                 bind to this IP address
  -h, --help                  show this help
  -V, --version               show the version
  --accept all|none|allow     who may connect
  --connect HOST:PORT         ask this peer at start ([::1]:6666 for IPv6)
  -y, --yes                   accept every request

Your key is kept somewhere.
`;
let versionReads = 0;
const program = {
  name: 'demo',
  usage,
  version: () => {
    versionReads++;
    return '1.2.3';
  },
};

describe('earlyAnswer', () => {
  it('answers a command line that is only --help, -h, --version or -V', () => {
    expect(earlyAnswer(program, ['--help'])).toBe(usage);
    expect(earlyAnswer(program, ['-h'])).toBe(usage);
    expect(earlyAnswer(program, ['--version'])).toBe('demo 1.2.3\n');
    expect(earlyAnswer(program, ['-V'])).toBe('demo 1.2.3\n');
  });

  it('leaves every other command line to the full parser (which may call it an error)', () => {
    for (const argv of [
      [],
      ['5555'],
      ['--nick', '--help'],
      ['5555', '--help'],
      ['--help', 'x'],
      ['completion'],
      ['completion', 'tcsh'],
      ['completion', 'peers'],
    ])
      expect(earlyAnswer(program, argv)).toBeUndefined();
  });

  it('reads the version only when asked for it', () => {
    versionReads = 0;
    earlyAnswer(program, ['--help']);
    expect(versionReads).toBe(0);
  });

  it('answers completion bash, zsh and fish with a script for that program', () => {
    expect(earlyAnswer(program, ['completion', 'bash'])).toContain('complete -F _demo demo');
    expect(earlyAnswer(program, ['completion', 'zsh'])).toMatch(/^#compdef demo\n/);
    expect(earlyAnswer(program, ['completion', 'fish'])).toMatch(/^# fish completion for demo\./);
  });
});

describe('completion', () => {
  it('reads the options, their short forms and their values from the usage text', () => {
    expect(usageOptions(usage)).toEqual([
      { long: 'host', value: 'ADDR', description: 'bind to this IP address' },
      { long: 'help', short: 'h', description: 'show this help' },
      { long: 'version', short: 'V', description: 'show the version' },
      { long: 'accept', value: 'all|none|allow', description: 'who may connect' },
      { long: 'connect', value: 'HOST:PORT', description: 'ask this peer at start ([::1]:6666 for IPv6)' },
      { long: 'yes', short: 'y', description: 'accept every request' },
    ]);
  });

  it('bash: offers the choices of a value, and known peers after --connect', () => {
    const script = completionScript('demo', usage, 'bash');
    expect(script).toContain('--accept) _netchat_words "all none allow"; return ;;');
    expect(script).toContain('--connect) _netchat_words "$(demo completion peers 2>/dev/null)"; return ;;');
    expect(script).toContain('--host) return ;;');
  });

  it('zsh: escapes brackets and colons in descriptions', () => {
    const script = completionScript('demo', usage, 'zsh');
    expect(script).toContain(
      "'--connect[ask this peer at start (\\[\\:\\:1\\]\\:6666 for IPv6)]:host\\:port:->peers'",
    );
    expect(script).toContain("'--accept[who may connect]:all|none|allow:(all none allow)'");
  });
});

describe('completion: fish, and a missing or unknown shell', () => {
  it('fish: each option with its description, choices, and known peers after --connect', () => {
    const script = completionScript('demo', usage, 'fish');
    expect(script).toContain("complete -c demo -l host -x -d 'bind to this IP address'");
    expect(script).toContain("complete -c demo -s y -l yes -d 'accept every request'");
    expect(script).toContain("complete -c demo -l accept -x -a 'all none allow' -d 'who may connect'");
    expect(script).toContain("complete -c demo -l connect -x -a '(demo completion peers 2>/dev/null)'");
  });

  it('says which shells there are, instead of a port error', () => {
    expect(completionProblem('demo', undefined)).toBe(
      'completion needs a shell: bash, zsh or fish (e.g. source <(demo completion bash))',
    );
    expect(completionProblem('demo', 'tcsh')).toBe(
      'no completion for "tcsh": the shells are bash, zsh and fish',
    );
  });
});

describe('known peer addresses (for --connect)', () => {
  const home = () => temporaryDirectory('netchat-options-');
  const key = (n: number) => n.toString(16).padStart(64, '0');

  it('are where each known peer was last seen, most recent first, once each; peers never seen at an address are left out', () => {
    const dir = home();
    const peers = KnownPeers.load(dir);
    peers.remember(key(1), 'bob', 'F1', {
      address: { host: '127.0.0.1', port: 6666 },
      at: new Date('2026-01-01'),
    });
    peers.remember(key(2), 'carol', 'F2', {
      address: { host: '::1', port: 7000 },
      at: new Date('2026-01-03'),
    });
    peers.remember(key(3), 'dave', 'F3', { at: new Date('2026-01-04') });
    peers.remember(key(4), 'bob2', 'F4', {
      address: { host: '127.0.0.1', port: 6666 },
      at: new Date('2026-01-02'),
    });
    expect(knownPeerAddresses(dir)).toEqual(['[::1]:7000', '127.0.0.1:6666']);
  });

  it('none when there is no list, or it cannot be read', () => {
    const dir = home();
    expect(knownPeerAddresses(dir)).toEqual([]);
    writeFileSync(join(dir, 'known_peers.json'), '{"version":1,"peers":[{"publicKey":1}]}');
    expect(knownPeerAddresses(dir)).toEqual([]);
  });
});
