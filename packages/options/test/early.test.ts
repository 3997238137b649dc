import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { completionScript, earlyAnswer, usageOptions } from '../src/index.js';
import { MAX_PEER_ADDRESSES, readPeerAddresses, rememberPeerAddress } from '../src/peer-addresses.js';

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
    for (const argv of [[], ['5555'], ['--nick', '--help'], ['5555', '--help'], ['--help', 'x'], ['completion'], ['completion', 'fish'], ['completion', 'peers']])
      expect(earlyAnswer(program, argv)).toBeUndefined();
  });

  it('reads the version only when asked for it', () => {
    versionReads = 0;
    earlyAnswer(program, ['--help']);
    expect(versionReads).toBe(0);
  });

  it('answers completion bash and zsh with a script for that program', () => {
    expect(earlyAnswer(program, ['completion', 'bash'])).toContain('complete -F _demo demo');
    expect(earlyAnswer(program, ['completion', 'zsh'])).toMatch(/^#compdef demo\n/);
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
    expect(script).toContain("'--connect[ask this peer at start (\\[\\:\\:1\\]\\:6666 for IPv6)]:host\\:port:->peers'");
    expect(script).toContain("'--accept[who may connect]:all|none|allow:(all none allow)'");
  });
});

describe('peer addresses', () => {
  const home = () => mkdtempSync(join(tmpdir(), 'netchat-options-'));

  it('keeps each address once, newest first, at most MAX_PEER_ADDRESSES', () => {
    const dir = home();
    for (let port = 1; port <= MAX_PEER_ADDRESSES + 5; port++) rememberPeerAddress(dir, { host: '127.0.0.1', port }, 'p');
    rememberPeerAddress(dir, { host: '::1', port: 10 }, 'six');
    rememberPeerAddress(dir, { host: '127.0.0.1', port: 7 }, 'seven');
    const list = readPeerAddresses(dir);
    expect(list).toHaveLength(MAX_PEER_ADDRESSES);
    expect(list.slice(0, 3).map((e) => e.address)).toEqual(['127.0.0.1:7', '[::1]:10', `127.0.0.1:${MAX_PEER_ADDRESSES + 5}`]);
    expect(list.filter((e) => e.address === '127.0.0.1:7')).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, 'peer_addresses.json'), 'utf8')).version).toBe(1);
  });

  it('a missing or corrupt file is an empty list, and is replaced by the next address', () => {
    const dir = home();
    expect(readPeerAddresses(dir)).toEqual([]);
    writeFileSync(join(dir, 'peer_addresses.json'), '{"version":1,"peers":[{"address":1}]}');
    expect(readPeerAddresses(dir)).toEqual([]);
    rememberPeerAddress(dir, { host: '127.0.0.1', port: 6666 }, 'bob');
    expect(readPeerAddresses(dir).map((e) => e.address)).toEqual(['127.0.0.1:6666']);
  });
});
