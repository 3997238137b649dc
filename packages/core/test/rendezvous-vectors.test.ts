/** PROTOCOL.md's rendezvous vectors, and the address and fingerprint forms they use. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  addressFromWire,
  addressToWire,
  decodeRendezvous,
  encodeRendezvous,
  fingerprint,
  fingerprintBytes,
  fingerprintText,
  generateKeyPair,
  type RendezvousMessage,
} from '../src/index.js';
import { RENDEZVOUS_DEFINITIONS } from '../src/rendezvous/messages.js';
import {
  authentic,
  decodeRelay,
  isNetchatPacket,
  type RelayPacket,
  sealRelay,
} from '../src/rendezvous/relay.js';

const protocol = readFileSync(new URL('../../../PROTOCOL.md', import.meta.url), 'utf8');
const blocks = (kind: string) =>
  [...protocol.matchAll(new RegExp(`\`\`\`${kind}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => {
    const line = (name: string) =>
      (m[1] ?? '')
        .split('\n')
        .find((l) => l.startsWith(`${name}:`))
        ?.slice(name.length + 1)
        .trim() ?? '';
    return {
      bytes: Uint8Array.from(Buffer.from(line('hex').replace(/ /g, ''), 'hex')),
      json: line('json'),
      why: line('why'),
      key: line('key'),
    };
  });
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const toJson = (message: RendezvousMessage) =>
  JSON.parse(JSON.stringify(message, (_k, v) => (v instanceof Uint8Array ? hex(v) : v)));
const BYTE_FIELDS = new Set(['keys', 'fingerprint', 'key', 'ip', 'inner', 'relayKey', 'mac']);
/** "5a × 32" as bytes. */
const repeated = (text: string) => {
  const [byte = '', times = ''] = text.split('×').map((t) => t.trim());
  return new Uint8Array(Number(times)).fill(Number.parseInt(byte, 16));
};
const fromJson = (json: string): RendezvousMessage =>
  JSON.parse(json, (k, v) => (BYTE_FIELDS.has(k) ? Uint8Array.from(Buffer.from(v, 'hex')) : v));

describe('PROTOCOL.md rendezvous vectors', () => {
  const vectors = blocks('rendezvous');
  const invalid = blocks('rendezvous-invalid');

  it('has one vector per message type and several invalid ones', () => {
    expect(vectors.map((v) => JSON.parse(v.json).type)).toEqual([
      'register',
      'registered',
      'introduce',
      'introduction',
      'introduce_failed',
      'register_failed',
      'relay_rate_request',
      'relay_rate',
    ]);
    // And every message the codec knows: a new one fails here until PROTOCOL.md has its vector.
    expect(new Set(vectors.map((v) => JSON.parse(v.json).type))).toEqual(
      new Set(RENDEZVOUS_DEFINITIONS.map((d) => d.name)),
    );
    // Padding is no field of a decoded message: the vectors' JSON does not show it.
    for (const v of vectors) expect(v.json).not.toContain('padding');
    expect(invalid.length).toBeGreaterThanOrEqual(5);
  });

  it.each(vectors.map((v) => [JSON.parse(v.json).type, v] as const))('%s decodes and re-encodes', (_t, v) => {
    const decoded = decodeRendezvous(v.bytes);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(toJson(decoded.datagram)).toEqual(JSON.parse(v.json));
    expect(hex(encodeRendezvous(fromJson(v.json)))).toBe(hex(v.bytes));
  });

  it.each(invalid.map((v) => [v.why, v] as const))('drops: %s', (_why, v) => {
    expect(decodeRendezvous(v.bytes).ok).toBe(false);
  });

  it("relay packets (the client's, and as the rendezvous forwards it): each decodes, is authentic under its key, re-seals to the same bytes; its inner packet is the crypto vectors' data packet", () => {
    expect(blocks('relay').length).toBeGreaterThanOrEqual(2);
    expect(new Set(blocks('relay').map((r) => r.key)).size).toBe(blocks('relay').length);
    for (const relay of blocks('relay')) checkRelay(relay);
  });

  function checkRelay(relay: ReturnType<typeof blocks>[number]) {
    const key = repeated(relay.key);
    const decoded = decodeRelay(relay.bytes);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    const packet = decoded.datagram;
    expect(JSON.parse(JSON.stringify(packet, (_k, v) => (v instanceof Uint8Array ? hex(v) : v)))).toEqual(
      JSON.parse(relay.json),
    );
    expect(authentic(relay.bytes, packet, key)).toBe(true);
    expect(authentic(relay.bytes, packet, new Uint8Array(32))).toBe(false);
    const { mac: _mac, type: _type, ...fields } = fromJson(relay.json) as unknown as RelayPacket;
    expect(hex(sealRelay(fields, key))).toBe(hex(relay.bytes));
    expect(isNetchatPacket(packet.inner)).toBe(true);
    expect(protocol).toContain(`data packet: ${hex(packet.inner)}`);
  }

  it.each(blocks('relay-invalid').map((v) => [v.why, v] as const))('relay: drops %s', (_why, v) => {
    const key = repeated(blocks('relay')[0]?.key ?? '');
    const decoded = decodeRelay(v.bytes);
    const kept =
      decoded.ok && authentic(v.bytes, decoded.datagram, key) && isNetchatPacket(decoded.datagram.inner);
    expect(kept).toBe(false);
  });

  it('writes the addresses and the fingerprint the notes under the vectors name', () => {
    const registered = decodeRendezvous(vectors[1]?.bytes as Uint8Array);
    const introduction = decodeRendezvous(vectors[3]?.bytes as Uint8Array);
    if (!registered.ok || registered.datagram.type !== 'registered') throw new Error('vector');
    if (!introduction.ok || introduction.datagram.type !== 'introduction') throw new Error('vector');
    expect(addressFromWire(registered.datagram.ip, registered.datagram.port)).toEqual({
      host: '203.0.113.7',
      port: 40000,
    });
    expect(addressFromWire(introduction.datagram.ip, introduction.datagram.port)).toEqual({
      host: '2001:db8::7',
      port: 5555,
    });
    expect(fingerprintText(Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))).toBe('AAAQ-EAYE-AUDA-OCAJ');
  });
});

describe('rendezvous forms', () => {
  it.each(['127.0.0.1', '::1', '2001:db8::7', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '::'])(
    '%s survives the wire',
    (host) => {
      const wire = addressToWire({ host, port: 9 });
      expect(addressFromWire(wire.ip, wire.port)).toEqual({ host, port: 9 });
    },
  );

  it('reads a fingerprint as people type it, and its bytes give it back', () => {
    const text = fingerprint(generateKeyPair().publicKey);
    const bytes = fingerprintBytes(text.toLowerCase().replaceAll('-', '')) as Uint8Array;
    expect(fingerprintText(bytes)).toBe(text);
    expect(fingerprintBytes('not-a-fingerprint')).toBeUndefined();
    expect(fingerprintBytes('AAAA-BBBB-CCCC-DDD1')).toBeUndefined();
  });
});
