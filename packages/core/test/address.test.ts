import { describe, expect, it } from 'vitest';
import { checkPeerSpec, formatAddress, normalizeHost, parsePeerSpec, parsePort } from '../src/index.js';

describe('addresses', () => {
  it.each([
    ['127.0.0.1 6666', { host: '127.0.0.1', port: 6666 }],
    ['  127.0.0.1   6666 ', { host: '127.0.0.1', port: 6666 }],
    ['127.0.0.1:6666', { host: '127.0.0.1', port: 6666 }],
    ['[::1]:6666', { host: '::1', port: 6666 }],
    ['::1 6666', { host: '::1', port: 6666 }],
    ['[fe80::1] 7', { host: 'fe80::1', port: 7 }],
    ['localhost 5555', { host: 'localhost', port: 5555 }],
    ['peer.example.org:65535', { host: 'peer.example.org', port: 65535 }],
  ])('reads %j', (text, expected) => {
    expect(parsePeerSpec(text)).toEqual(expected);
  });

  it.each([
    ['', /expected IP and port/],
    ['127.0.0.1', /expected IP and port/],
    ['127.0.0.1 0', /not a port/],
    ['127.0.0.1 65536', /not a port/],
    ['127.0.0.1 abc', /not a port/],
    ['1 2 3', /expected IP and port/],
    ['bad_host! 5', /not an IP address or host name/],
    ['::1:6666', /expected IP and port/],
    ['256.1.1.1 6666', /"256\.1\.1\.1" is not an IPv4 address \(four numbers, each 0-255\)/],
    ['1.2.3 6666', /is not an IPv4 address/],
  ])('refuses %j with a reason', (text, reason) => {
    expect(() => parsePeerSpec(text)).toThrow(reason);
  });

  it('checks a peer given as data the same way', () => {
    expect(checkPeerSpec({ host: '10.0.0.1', port: 5 })).toEqual({ host: '10.0.0.1', port: 5 });
    expect(() => checkPeerSpec({ host: '256.1.1.1', port: 6666 })).toThrow(
      'invalid address "256.1.1.1 6666": "256.1.1.1" is not an IPv4 address (four numbers, each 0-255)',
    );
    expect(() => checkPeerSpec({ host: '10.0.0.1', port: 0 })).toThrow(/not a port/);
  });

  it('formats and normalises', () => {
    expect(formatAddress({ host: '::1', port: 5 })).toBe('[::1]:5');
    expect(formatAddress({ host: '10.1.2.3', port: 5 })).toBe('10.1.2.3:5');
    expect(normalizeHost('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeHost('FE80::1')).toBe('fe80::1');
    expect(parsePort('1e3')).toBeUndefined();
    expect(parsePort('-1')).toBeUndefined();
    expect(parsePort('8080')).toBe(8080);
  });
});
