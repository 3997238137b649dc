/**
 * How an endpoint's parts are joined: who tells whom what. Each part owns its own state and
 * names what it needs of the others in a small host interface; this is the one place those
 * interfaces are filled in, so a part never reaches into another's fields.
 *
 *   secure layer ──opened──▶ restarts        (a handshake done: requests go, older channels retire)
 *                ──message─▶ input router ──▶ a session, admission, a path, or the unknown-session answer
 *                ◀──send─── outbox ◀── sessions, admission, paths (everything sealed goes out through it)
 *   every change to a session ──▶ schedule.settle (its deadline filed, or the session forgotten)
 */
import { Admission } from './endpoint-admission.js';
import { InputRouter } from './endpoint-input.js';
import { EndpointOutbox } from './endpoint-outbox.js';
import { PeerRestarts } from './endpoint-restarts.js';
import { SessionSchedule } from './endpoint-schedule.js';
import { countDrop, type EndpointStats } from './endpoint-stats.js';
import { errors } from './errors.js';
import type { NetchatEvent } from './events.js';
import type { ExtensionHost } from './extension-host.js';
import type { EndpointOptions } from './options.js';
import type { Channel } from './secure/channel.js';
import type { KeyPair } from './secure/crypto.js';
import { DEFAULT_SECURE_OPTIONS, SecureTransport } from './secure/secure-transport.js';
import { resendOnNewPath } from './session/outgoing.js';
import { presencePace, type SessionContext } from './session/session.js';
import { type SessionRecord, SessionTable } from './session-table.js';
import { EndpointStreams } from './streams/endpoint-streams.js';
import { legacyDecode } from './wire/legacy.js';
import {
  type Datagram,
  decodeDatagram,
  MAX_DATAGRAM_BYTES,
  MAX_LARGE_DATAGRAM_BYTES,
} from './wire/messages.js';

/** The longest gap between resent handshake inits (ms). */
export const HANDSHAKE_RETRY_MAX = 2_000;

/** What the parts need of the endpoint itself (the application's side, endpoint.ts). */
export interface PartsOwner {
  readonly options: EndpointOptions;
  readonly identity: KeyPair;
  readonly stats: EndpointStats;
  readonly randomU32: () => number;
  readonly randomBytes: (length: number) => Uint8Array;
  /** Play a peer that predates capabilities and streams (tests). */
  readonly legacyPeer: boolean;
  /** Name stream data packets in Transmit.message (tests). */
  readonly describeStreamPackets: boolean;
  /** The latest time any call brought. */
  now(): number;
  /** The rendezvous role, if one is in use. */
  role(): ExtensionHost | undefined;
  /** An event for the application. */
  deliver(event: NetchatEvent): void;
}

export interface EndpointParts {
  readonly secure: SecureTransport;
  readonly table: SessionTable;
  readonly streams: EndpointStreams;
  readonly outbox: EndpointOutbox;
  readonly schedule: SessionSchedule;
  readonly admission: Admission;
}

export function joinParts(owner: PartsOwner): EndpointParts {
  const { options: o, stats, now, role } = owner;
  // Parts made further down are reached through these closures, called only once all exist.
  const settle = (record: SessionRecord) => schedule.settle(record);
  const send = (channel: Channel, datagram: Datagram) => outbox.sendMessage(channel, datagram);
  const protocolError = (reason: string) => countDrop(stats, 'protocolErrors', reason);

  const secure = new SecureTransport(
    owner.identity,
    {
      transmit: (to, data) => outbox.sealed(to, data),
      opened: (channel, at) => restarts.channelOpened(channel, at),
      // A chat whose path changed (either side roamed; onto or off the relay) resends at once
      // what waited on the dead path.
      pathChanged: (channel, at, rtt) => {
        streams.channelMoved(channel.id, at, rtt);
        for (const record of table.channel(channel.id)?.sessions.values() ?? []) {
          if (record.session.state !== 'open') continue;
          resendOnNewPath(record.session, at);
          settle(record);
        }
      },
      channelSilent: (channel) => restarts.channelSilent(channel),
      message: (channel, plaintext, at) => input.onPayload(channel, plaintext, at),
      // Routing copies a stream_data's payload into its stream before it returns (endpoint-input.ts).
      streamDataReadAtOnce: true,
    },
    {
      ...DEFAULT_SECURE_OPTIONS,
      handshakeRetryInitial: o.connectRetryInitial,
      // An init that is lost costs a whole retry gap, and at heavy loss several are lost in a
      // row: a gap of at most 2 s opened 20 of 20 connects at 50% loss each way, 4 s only 17.
      handshakeRetryMax: Math.min(o.connectRetryMax, HANDSHAKE_RETRY_MAX),
      handshakeTimeout: o.connectTimeout,
      unusedChannelTtl: o.connectTimeout,
      // Every session may have its own channel, and handshakes that have not brought their
      // request yet need room too: the channel limit follows the session limit, never below it.
      maxChannels: 2 * o.maxSessions + 64,
      // Large datagrams are stream data's, to a peer we told we take them (session/features.ts).
      maxDatagramBytes: o.streams && o.largeDatagrams ? MAX_LARGE_DATAGRAM_BYTES : MAX_DATAGRAM_BYTES,
    },
    owner.randomBytes,
  );
  const table = new SessionTable((path) => streams.retire(path));
  const streams = new EndpointStreams({
    options: o,
    describePackets: owner.describeStreamPackets,
    randomU32: owner.randomU32,
    session: (id) => {
      const record = table.get(id);
      if (!record) throw errors.noSuchSession(id);
      return record.session;
    },
    channelRecord: (channelId) => table.channel(channelId),
    protocolError,
    send: (route, message, plaintext, bulk) =>
      outbox.sendPathPacket(route as Channel, message, plaintext, bulk),
  });
  const outbox = new EndpointOutbox({
    secure,
    stats,
    now,
    role,
    prioritySent: (channelId, bytes) => {
      if (streams.hasPaths) streams.onPrioritySent(channelId, bytes);
    },
  });
  const restarts = new PeerRestarts({ table, secure, stats, now, settle });
  const schedule = new SessionSchedule({
    table,
    secure,
    streams,
    now,
    forgotten: (record, channel, stillUsed) => {
      if (stillUsed) restarts.forgotten(record, channel);
      role()?.sessionEnded(record.session.id, channel.channel.id, now());
    },
  });
  const context: SessionContext = {
    options: o,
    transmit: (route, datagram) => send(route as Channel, datagram),
    emit: (event) => {
      if (event.type === 'lost') {
        const record = table.get(event.session);
        if (record) restarts.markLost(record);
      }
      // A rendezvous role's own session tells the role, never the application.
      const hosted = role();
      if (hosted?.owns(event.session)) hosted.claim(event);
      else {
        // A silent peer may have moved where only the rendezvous can find it (Finding a peer again).
        if (event.type === 'heartbeat_missed') hosted?.peerSilent(event.session);
        owner.deliver(event);
      }
    },
    protocolError,
    presencePace: presencePace(),
    sendsFeatures: !owner.legacyPeer,
    pathFor: (route) => streams.pathFor(route),
    // Unanswered sends: as a missed heartbeat, the peer may have moved (Finding a peer again).
    peerQuiet: (session) => {
      const hosted = role();
      if (!hosted?.owns(session)) hosted?.peerSilent(session);
    },
  };
  const admission = new Admission({
    options: o,
    context,
    randomU32: owner.randomU32,
    table,
    secure,
    streams,
    stats,
    settle,
    send,
    probeChannel: (record, at) => {
      const probed = restarts.probeChannel(record, at);
      // Nothing on it to probe (our own requests only): ask the channel itself.
      if (probed === 0 && record) secure.checkAlive(record.channel, at);
    },
    roleSessions: () => role()?.ownSessions ?? 0,
  });
  const input = new InputRouter({
    table,
    streams,
    admission,
    stats,
    decode: owner.legacyPeer ? legacyDecode : decodeDatagram,
    role,
    settle,
    send,
  });
  return { secure, table, streams, outbox, schedule, admission };
}
