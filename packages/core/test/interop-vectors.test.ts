/**
 * Every vector block of PROTOCOL.md that the independent peer covers (crypto, packets, session
 * messages, rendezvous messages, relay packets), checked with the independent implementation in
 * test/interop/ (written from PROTOCOL.md alone), not with netchat's code: hex in, hex out.
 * The congestion and file-name blocks are outside the independent peer's scope.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  aeadSeal,
  cookieAddressText,
  cookieFor,
  type Decoded,
  decodePacket,
  decodeRendezvous,
  decodeSessionMessage,
  encodePacket,
  encodeRendezvous,
  encodeSessionMessage,
  fingerprintOf,
  openRelay,
  rekey,
  sealRelay,
  XXHandshake,
  x25519KeyPair,
} from './interop/index.mjs';

const protocol = readFileSync(new URL('../../../PROTOCOL.md', import.meta.url), 'utf8');

function blocks(kind: string): string[] {
  const out: string[] = [];
  const fence = new RegExp(`^\`\`\`${kind}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  for (const m of protocol.matchAll(fence)) out.push(m[1] ?? '');
  return out;
}

/** `name: value` lines of a block. */
function fields(block: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block.split('\n')) {
    const at = line.indexOf(': ');
    if (at > 0) out.set(line.slice(0, at), line.slice(at + 2).trim());
  }
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replaceAll(' ', ''), 'hex'));
/** `42 × 32` (32 bytes of 0x42) or plain hex. */
const bytesOf = (s: string) => {
  const m = /^([0-9a-f]{2}) × (\d+)$/.exec(s);
  return m ? new Uint8Array(Number(m[2])).fill(Number.parseInt(m[1] ?? '', 16)) : unhex(s);
};

/** A decoded object as the vectors write it: byte fields as hex, bigint as number. */
function asJson(decoded: Decoded | undefined): unknown {
  if (!decoded) return undefined;
  return Object.fromEntries(
    Object.entries(decoded).map(([k, v]) => [
      k,
      v instanceof Uint8Array ? hex(v) : typeof v === 'bigint' ? Number(v) : v,
    ]),
  );
}

/** The vectors' JSON with its hex strings as bytes where the layout has byte fields. */
const BYTE_FIELDS = new Set([
  'payload',
  'ranges',
  'padding',
  'keys',
  'ip',
  'relayKey',
  'fingerprint',
  'key',
  'mac',
  'inner',
]);
function fromJson(json: Record<string, unknown>): Decoded {
  return Object.fromEntries(
    Object.entries(json).map(([k, v]) => [k, BYTE_FIELDS.has(k) && typeof v === 'string' ? unhex(v) : v]),
  ) as Decoded;
}

describe('PROTOCOL.md crypto vectors, by the independent implementation', () => {
  const all = blocks('crypto').map(fields);
  const lines = new Map<string, string>();
  for (const b of all) for (const [k, v] of b) lines.set(k, v);
  const v = (name: string) => {
    const x = lines.get(name);
    if (x === undefined) throw new Error(`PROTOCOL.md has no crypto line "${name}"`);
    return x;
  };

  it('has the blocks and lines it checks (and no line this test does not know)', () => {
    expect(all.length).toBeGreaterThanOrEqual(3);
    const known = new Set([
      'initiator static secret',
      'initiator ephemeral secret',
      'responder static secret',
      'responder ephemeral secret',
      'initiator static public',
      'responder static public',
      'message1',
      'message2',
      'message3',
      'initiator send key',
      'initiator receive key',
      'responder fingerprint',
      'init packet',
      'response packet',
      'cookie reply packet',
      'init packet with cookie',
      'final packet',
      'data key',
      'data receiver index',
      'data counter',
      'data plaintext',
      'data packet',
      'rekey of data key',
      'data counter (epoch 1)',
      'data packet (epoch 1)',
      'path token',
      'path challenge packet (counter 6)',
      'path response packet (counter 7)',
      'keepalive packet (counter 8)',
      'cookie secret',
      'cookie peer',
      'cookie address',
      'cookie',
      'cookie peer (IPv6)',
      'cookie address (IPv6)',
      'cookie (IPv6)',
    ]);
    expect([...lines.keys()].filter((k) => !known.has(k))).toEqual([]);
  });

  it('the handshake, keys and fingerprint', () => {
    const is = x25519KeyPair(bytesOf(v('initiator static secret')));
    const rs = x25519KeyPair(bytesOf(v('responder static secret')));
    expect(hex(is.publicKey)).toBe(v('initiator static public'));
    expect(hex(rs.publicKey)).toBe(v('responder static public'));
    const i = new XXHandshake(true, is, bytesOf(v('initiator ephemeral secret')));
    const r = new XXHandshake(false, rs, bytesOf(v('responder ephemeral secret')));
    const m1 = i.writeMessage1();
    expect(hex(m1)).toBe(v('message1'));
    expect(r.readMessage1(m1)).toBe(true);
    const m2 = r.writeMessage2();
    expect(hex(m2)).toBe(v('message2'));
    expect(i.readMessage2(m2)).toBe(true);
    const m3 = i.writeMessage3();
    expect(hex(m3)).toBe(v('message3'));
    expect(r.readMessage3(m3)).toBe(true);
    expect(hex(i.keys().sendKey)).toBe(v('initiator send key'));
    expect(hex(i.keys().receiveKey)).toBe(v('initiator receive key'));
    expect(hex(r.keys().receiveKey)).toBe(v('initiator send key'));
    expect(hex(r.rs ?? new Uint8Array())).toBe(v('initiator static public'));
    expect(fingerprintOf(rs.publicKey)).toBe(v('responder fingerprint'));

    const init = encodePacket({
      type: 'handshake_init',
      senderIndex: 0x01020304,
      cookie: new Uint8Array(16),
      noise: m1,
    });
    expect(hex(init)).toBe(v('init packet'));
    expect(hex(decodePacket(unhex(v('init packet')))?.noise)).toBe(v('message1'));
    const response = encodePacket({
      type: 'handshake_response',
      senderIndex: 0x05060708,
      receiverIndex: 0x01020304,
      noise: m2,
    });
    expect(hex(response)).toBe(v('response packet'));
    const cookie = unhex(v('cookie'));
    expect(hex(encodePacket({ type: 'cookie_reply', receiverIndex: 0x01020304, cookie }))).toBe(
      v('cookie reply packet'),
    );
    expect(hex(encodePacket({ type: 'handshake_init', senderIndex: 0x01020304, cookie, noise: m1 }))).toBe(
      v('init packet with cookie'),
    );
    expect(hex(encodePacket({ type: 'handshake_final', receiverIndex: 0x05060708, noise: m3 }))).toBe(
      v('final packet'),
    );
    for (const name of ['cookie reply packet', 'init packet with cookie', 'final packet'])
      expect(hex(encodePacket(decodePacket(unhex(v(name))) as Decoded)), name).toBe(v(name));
  });

  it('the data packet, its next epoch key and the cookies', () => {
    const key = bytesOf(v('data key'));
    const receiverIndex = Number.parseInt(v('data receiver index'), 16);
    const counter = BigInt(v('data counter'));
    const plaintext = unhex(v('data plaintext'));
    // The plaintext is a session message this implementation reads.
    expect(decodeSessionMessage(plaintext)).toBeDefined();
    const head = encodePacket({ type: 'data', receiverIndex, counter, ciphertext: new Uint8Array(0) });
    const packet = encodePacket({
      type: 'data',
      receiverIndex,
      counter,
      ciphertext: aeadSeal(key, counter, head, plaintext),
    });
    expect(hex(packet)).toBe(v('data packet'));
    expect(hex(rekey(key))).toBe(v('rekey of data key'));
    // The payloads that are not session messages: a path challenge, its response, a keepalive.
    const token = unhex(v('path token'));
    const sealAt = (n: number, payload: Uint8Array) => {
      const c = BigInt(n);
      const h = encodePacket({ type: 'data', receiverIndex, counter: c, ciphertext: new Uint8Array(0) });
      return hex(
        encodePacket({ type: 'data', receiverIndex, counter: c, ciphertext: aeadSeal(key, c, h, payload) }),
      );
    };
    expect(sealAt(6, Uint8Array.from([0x01, ...token]))).toBe(v('path challenge packet (counter 6)'));
    expect(sealAt(7, Uint8Array.from([0x02, ...token]))).toBe(v('path response packet (counter 7)'));
    expect(sealAt(8, new Uint8Array(0))).toBe(v('keepalive packet (counter 8)'));
    // Epoch 1: its first counter, sealed under REKEY of epoch 0's key, the nonce the whole counter.
    const counter1 = BigInt(v('data counter (epoch 1)'));
    expect(counter1).toBe(2n ** 24n);
    const head1 = encodePacket({
      type: 'data',
      receiverIndex,
      counter: counter1,
      ciphertext: new Uint8Array(0),
    });
    expect(
      hex(
        encodePacket({
          type: 'data',
          receiverIndex,
          counter: counter1,
          ciphertext: aeadSeal(rekey(key), counter1, head1, plaintext),
        }),
      ),
    ).toBe(v('data packet (epoch 1)'));

    const secret = unhex(v('cookie secret'));
    for (const suffix of ['', ' (IPv6)']) {
      const [host = '', port = ''] = v(`cookie peer${suffix}`).split(' ');
      const peer = { host, port: Number(port) };
      expect(cookieAddressText(peer)).toBe(v(`cookie address${suffix}`));
      expect(hex(cookieFor(secret, peer))).toBe(v(`cookie${suffix}`));
    }
  });
});

describe('PROTOCOL.md session and rendezvous message vectors and malformed packets, by the independent implementation', () => {
  const codecs = {
    vector: [decodeSessionMessage, encodeSessionMessage],
    rendezvous: [decodeRendezvous, encodeRendezvous],
  } as const;

  for (const [kind, [decode, encode]] of Object.entries(codecs)) {
    const list = blocks(kind).map(fields);
    it(`${kind}: ${list.length} blocks decode to their json and encode to their hex`, () => {
      expect(list.length).toBeGreaterThanOrEqual(6);
      for (const b of list) {
        const bytes = unhex(b.get('hex') ?? '');
        const json = JSON.parse(b.get('json') ?? '{}');
        expect(asJson(decode(bytes)), b.get('hex')).toEqual(json);
        expect(hex(encode(fromJson(json)))).toBe(hex(bytes));
      }
    });
  }

  for (const [kind, decode] of [
    ['invalid', decodeSessionMessage],
    ['rendezvous-invalid', decodeRendezvous],
    ['packet-invalid', decodePacket],
  ] as const) {
    const list = blocks(kind).map(fields);
    it(`${kind}: ${list.length} blocks are dropped`, () => {
      expect(list.length).toBeGreaterThanOrEqual(5);
      for (const b of list) expect(decode(unhex(b.get('hex') ?? '')), b.get('why')).toBeUndefined();
    });
  }
});

describe('PROTOCOL.md relay vectors, by the independent implementation', () => {
  it('the relay packet: decoded, its MAC, and sealed again to the same bytes', () => {
    const list = blocks('relay').map(fields);
    expect(list.length).toBeGreaterThanOrEqual(1);
    for (const b of list) {
      const bytes = unhex(b.get('hex') ?? '');
      const json = JSON.parse(b.get('json') ?? '{}');
      const key = bytesOf(b.get('key') ?? '');
      const opened = openRelay(bytes, key);
      expect(typeof opened).toBe('object');
      expect(asJson(opened as Decoded)).toEqual(json);
      expect(
        hex(
          sealRelay({ from: json.from, to: json.to, counter: json.counter, key, inner: unhex(json.inner) }),
        ),
      ).toBe(hex(bytes));
      // The inner packet is the crypto vectors' data packet.
      expect(decodePacket(unhex(json.inner))?.type).toBe('data');
    }
  });

  it('relay-invalid: every block is dropped under the same key', () => {
    const key = bytesOf(fields(blocks('relay')[0] ?? '').get('key') ?? '');
    const list = blocks('relay-invalid').map(fields);
    expect(list.length).toBeGreaterThanOrEqual(5);
    for (const b of list)
      expect(typeof openRelay(unhex(b.get('hex') ?? ''), key), b.get('why')).toBe('string');
  });
});
