/**
 * A peer a test controls byte by byte: it completes a real handshake (so its packets are
 * authentic) and then seals whatever session messages the test writes, well-formed or not. It is
 * how the tests play a misbehaving or malicious peer that holds a valid key.
 */
import {
  type Address,
  type Datagram,
  encodeDatagram,
  generateKeyPair,
  type NetchatEvent,
} from '../../src/index.js';
import type { Channel } from '../../src/secure/channel.js';
import { SecureTransport } from '../../src/secure/secure-transport.js';
import type { NodeEndpoint } from './virtual-network.js';

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
