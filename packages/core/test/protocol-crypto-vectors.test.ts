import { createCipheriv } from 'node:crypto';
/** The handshake, sealing, rekey, cookie and fingerprint vectors of PROTOCOL.md, recomputed. */
import { readFileSync } from 'node:fs';
import NoiseState from 'noise-handshake';
import { describe, expect, it } from 'vitest';
import {
  blake2b,
  dataHeader,
  decodePacket,
  encodePacket,
  fingerprint,
  formatAddress,
  keyPairFromSecret,
  normalizeHost,
  PROLOGUE,
  rekey,
  toHex,
} from '../src/index.js';
import { Channel } from '../src/secure/channel.js';
import { cookieFor } from '../src/secure/cookies.js';
import { PATH_CHALLENGE, PATH_RESPONSE, PATH_TOKEN_BYTES } from '../src/secure/path-validation.js';
import { PACKET_DEFINITIONS, readDataPacket, readInitPacket } from '../src/wire/packets.js';

const protocol = readFileSync(new URL('../../../PROTOCOL.md', import.meta.url), 'utf8');
const vectors = new Map<string, string>();
for (const block of protocol.matchAll(/```crypto\n([\s\S]*?)```/g)) {
  for (const line of (block[1] ?? '').trim().split('\n')) {
    const at = line.indexOf(':');
    vectors.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
}

/** "42 × 32" is 32 bytes of 0x42; anything else is hex. */
function bytes(name: string): Uint8Array {
  const text = vectors.get(name);
  if (text === undefined) throw new Error(`PROTOCOL.md has no vector "${name}"`);
  const repeated = /^([0-9a-f]{2}) × (\d+)$/.exec(text);
  if (repeated) return new Uint8Array(Number(repeated[2])).fill(Number.parseInt(repeated[1] as string, 16));
  return Uint8Array.from(Buffer.from(text, 'hex'));
}
const hex = (name: string) => toHex(bytes(name));
function text(name: string): string {
  const value = vectors.get(name);
  if (value === undefined) throw new Error(`PROTOCOL.md has no vector "${name}"`);
  return value;
}

describe('PROTOCOL.md crypto vectors', () => {
  it('the XX handshake with fixed keys gives the listed messages, keys and fingerprint', () => {
    const initiatorStatic = keyPairFromSecret(bytes('initiator static secret'));
    const responderStatic = keyPairFromSecret(bytes('responder static secret'));
    expect(toHex(initiatorStatic.publicKey)).toBe(hex('initiator static public'));
    expect(toHex(responderStatic.publicKey)).toBe(hex('responder static public'));
    const ephemeral = (name: string) => {
      const pair = keyPairFromSecret(bytes(name));
      return { publicKey: Buffer.from(pair.publicKey), secretKey: Buffer.from(pair.secretKey) };
    };
    const initiator = new NoiseState('XX', true, initiatorStatic);
    initiator.initialise(PROLOGUE);
    initiator.e = ephemeral('initiator ephemeral secret');
    const responder = new NoiseState('XX', false, responderStatic);
    responder.initialise(PROLOGUE);
    responder.e = ephemeral('responder ephemeral secret');
    const message1 = toHex(initiator.send());
    responder.recv(bytes('message1'));
    const message2 = toHex(responder.send());
    initiator.recv(bytes('message2'));
    const message3 = toHex(initiator.send());
    responder.recv(bytes('message3'));
    expect([message1, message2, message3]).toEqual([hex('message1'), hex('message2'), hex('message3')]);
    expect(toHex(initiator.tx as Uint8Array)).toBe(hex('initiator send key'));
    expect(toHex(initiator.rx as Uint8Array)).toBe(hex('initiator receive key'));
    expect(toHex(responder.rx as Uint8Array)).toBe(hex('initiator send key'));
    expect(fingerprint(responderStatic.publicKey)).toBe(vectors.get('responder fingerprint'));
  });

  it('a data packet (its plaintext, index and counter as listed) and the next epoch key are as listed', () => {
    const key = bytes('data key');
    const index = Buffer.from(bytes('data receiver index')).readUInt32BE(0);
    const counter = Number(text('data counter'));
    const plaintext = bytes('data plaintext');
    const channel = new Channel(1, { host: '127.0.0.1', port: 1 }, true, 0);
    channel.establish(index, new Uint8Array(32), key, key, 0);
    for (let i = 0; i < counter; i++) channel.seal(new Uint8Array(0), 0); // the counters before it
    expect(toHex(channel.seal(plaintext, 0))).toBe(hex('data packet'));
    // The same bytes from another implementation of ChaCha20-Poly1305 (OpenSSL's, in node:crypto),
    // built from PROTOCOL.md's words: nonce = 4 zero bytes + counter (u64 LE), AD = the 16-byte header.
    const header = Buffer.from(dataHeader(index, counter));
    expect(header.toString('hex')).toBe(hex('data packet').slice(0, 32));
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64LE(BigInt(counter), 4);
    const cipher = createCipheriv('chacha20-poly1305', Buffer.from(key), nonce, { authTagLength: 16 });
    cipher.setAAD(header, { plaintextLength: plaintext.length });
    const sealed = Buffer.concat([header, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    expect(sealed.toString('hex')).toBe(hex('data packet'));
    expect(toHex(rekey(key))).toBe(hex('rekey of data key'));
  });

  it.each(['', ' (IPv6)'])(
    'the cookie%s: the peer as a socket reports it, the text hashed, the cookie',
    (v) => {
      const [host = '', port = ''] = text(`cookie peer${v}`).split(' ');
      // As the adapter does with what the socket reports, then as the responder writes it.
      const peer = { host: normalizeHost(host), port: Number(port) };
      expect(formatAddress(peer)).toBe(text(`cookie address${v}`));
      expect(toHex(cookieFor(peer, bytes('cookie secret')))).toBe(hex(`cookie${v}`));
      // And the listed text itself, hashed as PROTOCOL.md says (keyed BLAKE2b, 16 bytes out).
      const listed = new TextEncoder().encode(text(`cookie address${v}`));
      expect(toHex(blake2b(16, listed, bytes('cookie secret')))).toBe(hex(`cookie${v}`));
    },
  );

  it('the cookie reply, the init sent again with its cookie, and the final are as listed', () => {
    const reply = encodePacket({ type: 'cookie_reply', receiverIndex: 0x01020304, cookie: bytes('cookie') });
    const again = encodePacket({
      type: 'handshake_init',
      senderIndex: 0x01020304,
      cookie: bytes('cookie'),
      noise: bytes('message1'),
    });
    const final = encodePacket({
      type: 'handshake_final',
      receiverIndex: 0x05060708,
      noise: bytes('message3'),
    });
    expect([toHex(reply), toHex(again), toHex(final)]).toEqual([
      hex('cookie reply packet'),
      hex('init packet with cookie'),
      hex('final packet'),
    ]);
    expect(toHex(readInitPacket(bytes('init packet with cookie'))?.cookie ?? new Uint8Array())).toBe(
      hex('cookie'),
    );
    for (const name of ['cookie reply packet', 'init packet with cookie', 'final packet']) {
      const decoded = decodePacket(bytes(name));
      expect(decoded.ok, name).toBe(true);
      if (decoded.ok) expect(toHex(encodePacket(decoded.datagram))).toBe(hex(name));
    }
  });

  it('a path challenge, its response and a keepalive, sealed on after the data packet, are as listed', () => {
    const key = bytes('data key');
    const channel = new Channel(1, { host: '127.0.0.1', port: 1 }, true, 0);
    channel.establish(0x01020304, new Uint8Array(32), key, key, 0);
    for (let i = 0; i < 5; i++) channel.seal(new Uint8Array(0), 0);
    expect(toHex(channel.seal(bytes('data plaintext'), 0))).toBe(hex('data packet'));
    const token = bytes('path token');
    expect(token.length).toBe(PATH_TOKEN_BYTES);
    const challenge = channel.seal(Uint8Array.from([PATH_CHALLENGE, ...token]), 0);
    const response = channel.seal(Uint8Array.from([PATH_RESPONSE, ...token]), 0);
    const keepalive = channel.seal(new Uint8Array(0), 0);
    expect([toHex(challenge), toHex(response), toHex(keepalive)]).toEqual([
      hex('path challenge packet (counter 6)'),
      hex('path response packet (counter 7)'),
      hex('keepalive packet (counter 8)'),
    ]);
    // The sizes the text counts on (Roaming): a path packet 41 bytes, a keepalive 32.
    expect([challenge.length, response.length, keepalive.length]).toEqual([41, 41, 32]);
  });

  it("a data packet in epoch 1: sealed under the rekeyed key with the whole counter as nonce, and opened by the receiver's channel", () => {
    const key = bytes('data key');
    const index = Buffer.from(bytes('data receiver index')).readUInt32BE(0);
    const counter = Number(text('data counter (epoch 1)'));
    const plaintext = bytes('data plaintext');
    const sender = new Channel(1, { host: '127.0.0.1', port: 1 }, true, 0);
    sender.establish(index, new Uint8Array(32), key, key, 0);
    sender.seal(new Uint8Array(0), 0); // counter 0; 120 s later the sender moves to epoch 1
    expect(toHex(sender.seal(plaintext, 120_000))).toBe(hex('data packet (epoch 1)'));
    // From PROTOCOL.md's words with OpenSSL's ChaCha20-Poly1305: the key of epoch 1, the whole counter.
    const header = Buffer.from(dataHeader(index, counter));
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64LE(BigInt(counter), 4);
    const cipher = createCipheriv('chacha20-poly1305', Buffer.from(rekey(key)), nonce, { authTagLength: 16 });
    cipher.setAAD(header, { plaintextLength: plaintext.length });
    const sealed = Buffer.concat([header, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    expect(sealed.toString('hex')).toBe(hex('data packet (epoch 1)'));
    // A receiver that holds epoch 0's key opens it (one epoch above the highest it has seen).
    const receiver = new Channel(2, { host: '127.0.0.1', port: 2 }, false, 0);
    receiver.establish(9, new Uint8Array(32), new Uint8Array(32), key, 0);
    const packet = readDataPacket(bytes('data packet (epoch 1)'));
    expect(packet?.counter).toBe(counter);
    const opened = receiver.open(
      counter,
      bytes('data packet (epoch 1)').subarray(0, 16),
      packet?.ciphertext ?? new Uint8Array(),
    );
    expect(opened.ok && toHex(opened.plaintext)).toBe(hex('data plaintext'));
  });

  it('has a packet on the wire of every type the codec knows', () => {
    const types = [...vectors]
      .filter(([name]) => / packet( |$)/.test(name))
      .map(([name]) => {
        const decoded = decodePacket(bytes(name));
        return decoded.ok ? decoded.datagram.type : `${name} does not decode`;
      });
    expect(new Set(types)).toEqual(new Set(PACKET_DEFINITIONS.map((d) => d.name)));
  });

  it.each(
    [...protocol.matchAll(/```packet-invalid\n([\s\S]*?)```/g)].map((m) => {
      const lines = (m[1] ?? '').trim().split('\n');
      const field = (name: string) =>
        lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
      return [field('why'), Uint8Array.from(Buffer.from(field('hex').replace(/ /g, ''), 'hex'))] as const;
    }),
  )('drops the packet: %s', (_why, packet) => {
    expect(decodePacket(packet).ok).toBe(false);
    // The in-place readers of the hot path give the same answer.
    expect(readDataPacket(packet)).toBeUndefined();
    expect(readInitPacket(packet)).toBeUndefined();
  });

  it('the first two handshake packets are as listed, the init padded to the length of the response', () => {
    const init = encodePacket({
      type: 'handshake_init',
      senderIndex: 0x01020304,
      cookie: new Uint8Array(16),
      noise: bytes('message1'),
    });
    const response = encodePacket({
      type: 'handshake_response',
      senderIndex: 0x05060708,
      receiverIndex: 0x01020304,
      noise: bytes('message2'),
    });
    expect(toHex(init)).toBe(hex('init packet'));
    expect(toHex(response)).toBe(hex('response packet'));
    expect(init.length).toBe(response.length);
    const decoded = decodePacket(bytes('init packet'));
    expect(decoded.ok && decoded.datagram.type === 'handshake_init' && toHex(decoded.datagram.noise)).toBe(
      hex('message1'),
    );
    expect(toHex(readInitPacket(bytes('init packet'))?.noise ?? new Uint8Array())).toBe(hex('message1'));
  });
});
