/**
 * A session message for a session this endpoint does not have (it ended, or we restarted and the
 * peer made a new channel): PROTOCOL.md, *Messages for unknown sessions*. An accepting or talking
 * peer is told the session is gone (`disconnect`), so it learns at once instead of by heartbeats;
 * a `disconnect` is acknowledged so its retries stop. A `disconnect` or `disconnect_ack` is never
 * answered with a `disconnect`, so two peers cannot keep answering each other: no exchange about
 * an unknown session goes on for more than two messages. Everything else is dropped unanswered
 * (`connect_request` and `stream_ack` never come here: admission and the path take them).
 */
import type { EndpointStats } from './endpoint-stats.js';
import type { Channel } from './secure/channel.js';
import type { EndpointStreams } from './streams/endpoint-streams.js';
import type { Datagram } from './wire/messages.js';

/** What the answer needs of the endpoint. */
export interface UnknownSessionHost {
  readonly stats: EndpointStats;
  readonly streams: EndpointStreams;
  /** Seals a session message on a channel. */
  send(channel: Channel, datagram: Datagram): void;
}

export function answerUnknownSession(host: UnknownSessionHost, datagram: Datagram, channel: Channel): void {
  if (datagram.type === 'features') {
    // It goes just before its connect_request (PROTOCOL.md, Capabilities): kept for it.
    host.streams.holdFeatures(channel.id, datagram);
    return;
  }
  host.stats.unknownSession++;
  const session = datagram.session;
  if (datagram.type === 'disconnect') host.send(channel, { type: 'disconnect_ack', session });
  else if (datagram.type === 'accept' || datagram.type === 'text' || datagram.type === 'heartbeat') {
    host.send(channel, { type: 'disconnect', session });
  }
}
