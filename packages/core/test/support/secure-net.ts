/**
 * SecureTransports on virtual time, joined by the one simulated network
 * (src/testing/simulated-network.ts): the secure layer tested on its own, without sessions. A
 * transport tells what it sends through a callback; here that goes into a queue the network
 * takes it from, and into the node's record at once (`sent`). `run` advances the clock from one
 * datagram or deadline to the next; every loop is bounded.
 */
import { type Address, keyPairFromSecret } from '../../src/index.js';
import type { Channel } from '../../src/secure/channel.js';
import {
  DEFAULT_SECURE_OPTIONS,
  type SecureOptions,
  SecureTransport,
} from '../../src/secure/secure-transport.js';
import { type SansIoNode, SimulatedNetwork } from '../../src/testing/simulated-network.js';
import { seededBytes } from './random.js';

export interface SecureNode {
  transport: SecureTransport;
  address: Address;
  opened: { channel: Channel; at: number }[];
  messages: { channel: Channel; plaintext: Uint8Array; at: number }[];
  sent: { to: Address; bytes: Uint8Array; at: number }[];
  /** The transport as the network drives it. */
  endpoint: SansIoNode;
}

export class SecureNet extends SimulatedNetwork<SecureNode> {
  add(host: string, port: number, options: Partial<SecureOptions> = {}, seed = port): SecureNode {
    const address = { host, port };
    const bytes = seededBytes(seed);
    const outbox: { to: Address; data: Uint8Array }[] = [];
    const opened: SecureNode['opened'] = [];
    const messages: SecureNode['messages'] = [];
    const sent: SecureNode['sent'] = [];
    const transport = new SecureTransport(
      keyPairFromSecret(bytes(32)),
      {
        transmit: (to, data) => {
          sent.push({ to, bytes: data, at: this.now });
          outbox.push({ to, data });
        },
        opened: (channel, at) => opened.push({ channel, at }),
        message: (channel, plaintext, at) => messages.push({ channel, plaintext, at }),
      },
      { ...DEFAULT_SECURE_OPTIONS, ...options },
      bytes,
    );
    const endpoint: SansIoNode = {
      handleDatagram: (data, from, now) => transport.receive(data, from, now),
      handleTimeout: (now) => transport.handleTimeout(now),
      nextTimeout: () => transport.nextTimeout(),
      pollTransmit: () => outbox.shift(),
    };
    return this.place({ transport, address, opened, messages, sent, endpoint });
  }
}

/** The packet type byte of a datagram (1 init … 5 data). */
export const packetType = (bytes: Uint8Array): number => bytes[3] ?? 0;
