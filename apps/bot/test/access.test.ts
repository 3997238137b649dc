import { describe, expect, it } from 'vitest';
import { AccessPolicy, parseAllowEntry } from '../src/access-policy.js';

describe('allow list entries', () => {
  it.each([
    ['127.0.0.1', { host: '127.0.0.1' }],
    ['127.0.0.1:5555', { host: '127.0.0.1', port: 5555 }],
    ['::1', { host: '::1' }],
    ['[::1]', { host: '::1' }],
    ['[::1]:5555', { host: '::1', port: 5555 }],
    ['localhost:7', { host: 'localhost', port: 7 }],
  ])('reads %s', (text, entry) => expect(parseAllowEntry(text)).toEqual(entry));

  it('refuses a bad port', () => expect(() => parseAllowEntry('1.2.3.4:99999')).toThrow(/not a port/));

  it.each([
    ['256.1.1.1', /^"256\.1\.1\.1" is not an IPv4 address \(four numbers, each 0-255\)$/],
    ['1.2.3:5555', /^"1\.2\.3" is not an IPv4 address/],
    ['12345', /^"12345" is not an IPv4 address/],
    ['[example.com]:5555', /brackets are for IPv6 addresses only/],
    ['[1.2.3.4]', /brackets are for IPv6 addresses only/],
  ])('refuses %s without looking it up as a host name', (text, message) =>
    expect(() => parseAllowEntry(text)).toThrow(message),
  );
});

describe('access policy', () => {
  it('lets everyone in with all, no one with none, and only the listed with allow', async () => {
    const peer = { host: '127.0.0.1', port: 5555 };
    expect((await AccessPolicy.create('all', [])).refusal(peer)).toBeUndefined();
    expect((await AccessPolicy.create('none', [])).refusal(peer)).toBe('this bot accepts no connections');
    const byHost = await AccessPolicy.create('allow', [{ host: 'localhost' }]);
    expect(byHost.refusal(peer)).toBeUndefined();
    const byPort = await AccessPolicy.create('allow', [{ host: '127.0.0.1', port: 6666 }]);
    expect(byPort.refusal(peer)).toBe('not on the allow list');
    expect(byPort.refusal({ host: '127.0.0.1', port: 6666 })).toBeUndefined();
    const mapped = await AccessPolicy.create('allow', [{ host: '::ffff:127.0.0.1' }]);
    expect(mapped.refusal(peer)).toBeUndefined();
  });
});
