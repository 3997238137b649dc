/**
 * Input routing: where each payload the secure layer opened goes. A payload of another family
 * than session messages (its version byte; a rendezvous role's messages) goes to the role. A
 * session message is decoded once (dropped and counted if it fails), then: a `stream_ack` to
 * the channel's path, whichever of its sessions it names; a message for a session we have to
 * that session, found by (channel, session id) in the table; a `connect_request` for one we do
 * not have to admission; anything else is a message for an unknown session.
 */
import type { Admission } from './endpoint-admission.js';
import { countDrop, type EndpointStats } from './endpoint-stats.js';
import { answerUnknownSession } from './endpoint-unknown-session.js';
import type { ExtensionHost } from './extension-host.js';
import type { Channel } from './secure/channel.js';
import type { SessionRecord, SessionTable } from './session-table.js';
import type { EndpointStreams } from './streams/endpoint-streams.js';
import { type Datagram, type decodeDatagram, MESSAGE_VERSION } from './wire/messages.js';

/** What routing needs of the endpoint. */
export interface InputHost {
  readonly table: SessionTable;
  readonly streams: EndpointStreams;
  readonly admission: Admission;
  readonly stats: EndpointStats;
  /** The decoder: the current one, or (tests) that of a peer that predates streams. */
  readonly decode: typeof decodeDatagram;
  /** The rendezvous role, if one is in use. */
  role(): ExtensionHost | undefined;
  settle(record: SessionRecord): void;
  /** Seals a session message on a channel (answers for unknown sessions). */
  send(channel: Channel, datagram: Datagram): void;
}

export class InputRouter {
  constructor(private readonly host: InputHost) {}

  /** An authentic payload on `channel` (the secure layer's `message`). */
  onPayload(channel: Channel, plaintext: Uint8Array, now: number): void {
    const { host } = this;
    const role = host.role();
    if (plaintext[2] !== MESSAGE_VERSION && role) {
      // Another family beside session messages (a rendezvous role's): the role decodes it.
      role.control(channel, plaintext, now);
      return;
    }
    const decoded = host.decode(plaintext);
    if (!decoded.ok) {
      countDrop(host.stats, 'malformed', decoded.reason);
      return;
    }
    const datagram = decoded.datagram;
    if (datagram.type === 'stream_ack') {
      // The path's, whichever of its sessions it names.
      host.streams.onAck(channel.id, datagram, now);
      // A close that waited for its streams' bytes (Closing) may go on now.
      for (const record of host.table.channel(channel.id)?.sessions.values() ?? []) {
        if (record.session.state !== 'lingering') continue;
        record.session.streamsAcknowledged(now);
        host.settle(record);
      }
      return;
    }
    const record = host.table.route(channel.id, datagram.session);
    if (record) {
      record.session.handle(datagram, now);
      host.settle(record);
    } else if (datagram.type === 'connect_request') {
      host.admission.onRequest(datagram, channel, now);
    } else {
      answerUnknownSession(host, datagram, channel);
    }
  }
}
