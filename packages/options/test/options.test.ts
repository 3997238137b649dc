import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  PeerArguments,
  parseCommandLine,
  peerArgument,
  peerFlags,
  peerFlagsHelp,
  peerOptionsFrom,
} from '../src/index.js';

const flags = { ...peerFlags, connect: { type: 'string' }, yes: { type: 'boolean' } } as const;
const schema = PeerArguments.extend({ connect: peerArgument.optional(), yes: z.boolean().optional() });
const parse = (...argv: string[]) => parseCommandLine(argv, flags, schema);

describe('shared command-line options', () => {
  it('reads the port, flags and seconds with decimals', () => {
    const args = parse(
      '5555',
      '--heartbeat-interval',
      '0.2',
      '--miss-limit',
      '5',
      '--nick',
      'ana',
      '--connect',
      '[::1]:6666',
    );
    expect(args).toMatchObject({ port: 5555, 'heartbeat-interval': 200, 'miss-limit': 5, nick: 'ana' });
    expect((args as { connect: unknown }).connect).toEqual({ host: '::1', port: 6666 });
    expect(peerOptionsFrom(args as PeerArguments)).toEqual({
      port: 5555,
      heartbeatInterval: 200,
      missLimit: 5,
      nick: 'ana',
    });
  });

  it('takes port 0: the system picks a free port, and the program reports it', () => {
    expect(parse('0')).toMatchObject({ port: 0 });
  });

  it.each([
    [[], /^port is required/],
    [['65536'], /^port must be a port number \(0-65535; 0 picks a free one\)/],
    [['70000'], /^port must be a port number/],
    [['port'], /^port must be a port number/],
    [['5555', '6666'], /unexpected argument "6666"/],
    [['5555', '--heartbeat-interval', '0'], /^--heartbeat-interval must be more than 0/],
    [['5555', '--heartbeat-interval', '0.01'], /^--heartbeat-interval must be at least 0.05 seconds/],
    [['5555', '--heartbeat-interval', 'soon'], /^--heartbeat-interval must be a number of seconds/],
    [['5555', '--miss-limit', '1.5'], /^--miss-limit must be a whole number/],
    [['5555', '--host', 'example.org'], /^--host must be a numeric IP/],
    [['5555', '--nick', 'x'.repeat(33)], /^--nick must be at most 32 bytes/],
    [['5555', '--connect', 'nowhere'], /^--connect: invalid address "nowhere": expected IP and port/],
    [['5555', '--connect', ''], /^--connect: invalid address "": expected IP and port/],
    [['5555', '--bogus'], /^unknown option --bogus$/],
    [['5555', '-x'], /^unknown option -x$/],
    [['5555', '--heartbeat-interval'], /^--heartbeat-interval needs a value$/],
    [
      ['5555', '--heartbeat-interval', '-1'],
      /^--heartbeat-interval needs a value \(for a value that starts with "-", write --heartbeat-interval=VALUE\)$/,
    ],
    [['5555', '--yes=1'], /^--yes takes no value$/],
  ])('refuses %j with one line', (argv, message) => {
    expect(() => parse(...argv)).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringMatching(message) }),
    );
  });

  it('keeps the flags help a list: no paragraph inside it', () => {
    const lines = peerFlagsHelp.split('\n');
    expect(lines.every((line) => /^ {2}-/.test(line))).toBe(true);
  });

  it('lets --help and --version through whatever else is wrong', () => {
    expect(parse('--help', 'nonsense')).toEqual({ help: true });
    expect(parse('-V')).toEqual({ version: true });
  });
});
