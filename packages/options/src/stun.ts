/**
 * `--stun HOST:PORT`: the address the Internet sees us at, from a standard STUN server (an
 * RFC 8489 binding request, encoded and decoded by the `webrtc-stun` package), sent from the peer's own
 * UDP socket so that the answer names the NAT mapping of the port netchat listens on. The
 * answer also reaches the peer's endpoint, which drops it (not a netchat packet) and counts it.
 */
import type dgram from 'node:dgram';
import { type Address, normalizeHost } from '@netchat/core';
import * as stun from 'webrtc-stun';

/** Resends of the binding request (RFC 8489's initial RTO of 500 ms, doubling), then give up. */
const RETRY_MS = [500, 1_000, 2_000];

/** Whether a datagram is a STUN message: the two top bits zero and the magic cookie in place. */
function isStunMessage(bytes: Buffer): boolean {
  return bytes.length >= 20 && (bytes[0] as number) < 0x40 && bytes.readUInt32BE(4) === 0x2112a442;
}

/**
 * Sends a binding request from `socket` to `server`; resolves with the XOR-MAPPED-ADDRESS of the
 * answer, or rejects with a one-line reason after the last resend went unanswered.
 */
export function stunBinding(socket: dgram.Socket, server: Address): Promise<Address> {
  const transactionId = stun.generateTransactionId();
  const bytes = stun.createBindingRequest(transactionId).setFingerprintAttribute().toBuffer();
  const dualStack = socket.address().family === 'IPv6';
  const host = dualStack && !server.host.includes(':') ? `::ffff:${server.host}` : server.host;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: Address | Error) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onMessage = (data: Buffer) => {
      if (!isStunMessage(data)) return;
      const answer = stun.createBlank();
      // Not a message we can read, or not the answer to ours: keep waiting.
      if (!answer.loadBuffer(data) || !answer.isBindingResponseSuccess({ transactionId })) return;
      const mapped = answer.getXorMappedAddressAttribute() ?? answer.getMappedAddressAttribute();
      if (!mapped) finish(new Error('the STUN server answered without an address'));
      else finish({ host: normalizeHost(mapped.address), port: mapped.port });
    };
    const send = (attempt: number) => {
      socket.send(bytes, server.port, host, () => {});
      const wait = RETRY_MS[attempt];
      timer =
        wait === undefined
          ? setTimeout(() => finish(new Error('the STUN server did not answer')), 2_000)
          : setTimeout(() => send(attempt + 1), wait);
    };
    socket.on('message', onMessage);
    send(0);
  });
}
