/**
 * A peer a test controls byte by byte: it completes a real handshake (so its packets are
 * authentic) and then seals whatever session messages the test writes, well-formed or not. It is
 * how the tests play a misbehaving or malicious peer that holds a valid key.
 */
import {
  type Address,
  type Datagram,
  type EndpointOptionsInput,
  encodeDatagram,
  generateKeyPair,
  type NetchatEvent,
} from '../../src/index.js';
import type { Channel } from '../../src/secure/channel.js';
import { SecureTransport } from '../../src/secure/secure-transport.js';
import { textFragment } from '../../src/testing/fragments.js';
import { eventsOf, type NodeEndpoint, VirtualNetwork } from './virtual-network.js';

export class RawPeer implements NodeEndpoint {
  readonly transport: SecureTransport;
  /** Session messages received, decoded only as far as the test needs: the plaintext bytes. */
  readonly received: Uint8Array[] = [];
  private readonly outbox: { to: Address; data: Uint8Array }[] = [];
  channel: Channel | undefined;
  private now = 0;

  constructor() {
    this.transport = new SecureTransport(generateKeyPair(), {
      transmit: (to, data) => this.outbox.push({ to, data }),
      opened: (channel) => {
        this.channel = channel;
      },
      message: (_channel, plaintext) => this.received.push(plaintext),
    });
  }

  connect(address: Address, now: number): void {
    this.now = now;
    this.transport.connect(address, now);
  }

  /** Seals a session message (any bytes) on the open channel. */
  sendRaw(plaintext: Uint8Array): void {
    if (!this.channel) throw new Error('no channel yet');
    this.transport.send(this.channel, plaintext, this.now);
  }

  send(message: Datagram): void {
    this.sendRaw(encodeDatagram(message));
  }

  handleDatagram(bytes: Uint8Array, from: Address, now: number): void {
    this.now = now;
    this.transport.receive(bytes, from, now);
  }

  handleTimeout(now: number): void {
    this.now = now;
    this.transport.handleTimeout(now);
  }

  nextTimeout(): number | undefined {
    return this.transport.nextTimeout();
  }

  pollTransmit(): { to: Address; data: Uint8Array } | undefined {
    return this.outbox.shift();
  }

  pollEvent(): NetchatEvent | undefined {
    return undefined;
  }
}

/**
 * b has accepted a session (wire id `session`, b's id `sb`) with a raw peer, which can then send
 * b any session message it likes; `fragment` writes a text fragment of that session.
 */
export function rawSession(options: EndpointOptionsInput = {}, before: Datagram[] = []) {
  const net = new VirtualNetwork();
  const b = net.add('127.0.0.2', 2222, options);
  const node = net.attach(new RawPeer(), '127.0.0.1', 1111);
  const raw = node.endpoint;
  raw.connect(b.address, 0);
  net.run(() => raw.channel !== undefined, 1_000);
  const session = 77;
  for (const message of before) raw.send(message);
  raw.send({ type: 'connect_request', session, heartbeatMs: 25_000, nick: 'raw' });
  net.run(() => eventsOf(b, 'request').length > 0, 1_000);
  const sb = eventsOf(b, 'request')[0]?.session ?? -1;
  b.endpoint.accept(sb, net.now);
  net.runFor(50);
  const fragment = (seq: number, index: number, count: number, text: string): Datagram =>
    textFragment(session, seq, text, index, count);
  return { net, b, raw, session, sb, fragment };
}
