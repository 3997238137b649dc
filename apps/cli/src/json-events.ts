/**
 * `--json`: every endpoint event as one JSON object a line, with the peer as "IP:PORT", and the
 * events only this side knows of (README, "Scripts and pipes"): what it accepted, declined,
 * closed or withdrew, each line that was never sent and why, and a signal that stopped it.
 * With them every message ends as an event (`delivered`, `failed` or `not_sent`) and every
 * request as one (`accepted`, `declined`, `no_answer`, `unreachable`, `cancelled`, ...).
 */
import {
  type Address,
  type DeclineReason,
  formatAddress,
  type LinkEvent,
  type NetchatEvent,
  type TrustAssessment,
} from '@netchat/core';

/** Why a line meant as a message never left. */
export type NotSentReason =
  /** Over the largest message (64 KiB by default). */
  | 'too_large'
  /** The chat ended before it could go (held back for room, or typed as it ended). */
  | 'chat_ended'
  /** Typed while our request still waited for its answer. */
  | 'waiting'
  /** A script's chat never opened. */
  | 'not_connected'
  /** Anything else the engine refused (its code, lower case). */
  | (string & {});

export type LocalEvent =
  /** We accepted a request (y, or --yes): the same fields as the asker's `accepted`. */
  | {
      readonly type: 'accepted';
      readonly session: number;
      readonly peer: Address;
      readonly nick: string;
      readonly publicKey: string;
      readonly fingerprint: string;
    }
  /** We declined a request (n, busy, quitting). */
  | {
      readonly type: 'declined';
      readonly session: number;
      readonly peer: Address;
      readonly reason: DeclineReason;
      readonly detail: string;
      readonly by: 'local';
    }
  /** We closed the chat (exit, end of input, a signal). */
  | { readonly type: 'closed'; readonly session: number; readonly peer: Address; readonly reason: 'local' }
  /** We withdrew our request before it was answered (cancel, Ctrl-D, a signal). */
  | {
      readonly type: 'cancelled';
      readonly target: string;
      readonly session?: number;
      readonly peer?: Address;
    }
  /** Our request could not be sent: a bad or unreachable address, no rendezvous, our own key. */
  | { readonly type: 'unreachable'; readonly target: string; readonly detail: string }
  /** A line meant as a message that never left. */
  | {
      readonly type: 'not_sent';
      readonly reason: NotSentReason;
      readonly detail: string;
      /** The line, or (over 65,536 bytes: never a message) its first 256 characters. */
      readonly text: string;
      /** Set when `text` is only the line's start; `bytes` is then the whole line's UTF-8 length. */
      readonly truncated?: true;
      readonly bytes?: number;
      readonly session?: number;
      readonly peer?: Address;
    }
  /** Files we meant to offer that never were (a path that cannot be read, a peer without files). */
  | {
      readonly type: 'file_not_offered';
      readonly paths: readonly string[];
      readonly detail: string;
      readonly session?: number;
      readonly peer?: Address;
    }
  /** A signal stopped the program while something was pending; the exit code is 128 + its number. */
  | { readonly type: 'interrupted'; readonly signal: string };

/**
 * An endpoint event as JSON. `trust` (for a `request`): what the key is to us, as the person is
 * told: `trust` `known`, `new` or `impersonation` (a new key with a known peer's nick), and
 * `verified` when that key (or, for an impersonation, the known peer's) was verified.
 */
export function eventToJson(event: NetchatEvent, trust?: TrustAssessment): string {
  const told = trust && { trust: trust.level, ...(trust.verified && { verified: true }) };
  return JSON.stringify({ ...event, peer: formatAddress(event.peer), ...told });
}

export function localEventToJson(event: LocalEvent): string {
  if ('peer' in event && event.peer !== undefined)
    return JSON.stringify({ ...event, peer: formatAddress(event.peer) });
  return JSON.stringify(event);
}

/** Events of the streams under file transfers (printed as the file events instead). */
export function isTransportEvent(event: NetchatEvent): boolean {
  return event.type === 'features' || event.type.startsWith('stream');
}

/**
 * A file event as JSON (README, "Scripts and pipes"): `file_offer`, `file_queued` (our offer waits
 * for the peer to answer earlier ones: `why`, `tries`), `file_offer_sent`, `file_accepted` (`offset`:
 * what the receiver already held), `file_progress` (`bytes` of `size`, about four a second),
 * `file_received` (`path`, `size`, `hash`, `seconds`), `file_sent`, `file_declined`, `file_failed`
 * (`reason`), `file_cancelled`, `file_done`; each with `transfer` and `session`. undefined for
 * `file_started` (its offset is in `file_accepted`).
 */
export function fileEventToJson(event: LinkEvent, relayed = false): string | undefined {
  if (event.type === 'file_started') return undefined;
  // A transfer through the rendezvous's relay is held to the budget its operator set: said where a
  // script learns of the transfer and of its start.
  const through =
    relayed && (event.type === 'file_offer' || event.type === 'file_accepted') ? { relayed: true } : {};
  if (event.type === 'file_offer') {
    const { files, ...rest } = event;
    return JSON.stringify({
      ...rest,
      ...through,
      files: files.map((f, i) => ({
        path: f.path,
        ...(f.renamed && { offeredPath: f.offeredPath }),
        size: f.size,
        hash: f.hash,
        ...(event.held[i] ? { held: event.held[i] } : {}),
      })),
      held: undefined,
    });
  }
  // The estimator's floats (`"rate":157656.73357462737`) are noise to a script: whole bytes a
  // second, and the time left to a tenth of a second.
  if (event.type === 'file_progress')
    return JSON.stringify({
      ...event,
      rate: Math.round(event.rate),
      eta: event.eta === undefined ? undefined : Math.round(event.eta * 10) / 10,
    });
  return JSON.stringify({ ...event, ...through });
}
