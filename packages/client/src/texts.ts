/**
 * What the people-facing front-ends say, in one place: the same words in the CLI and the TUI.
 * Every text from the peer (nicks, details) passes through `terminalSafe` here.
 */
import {
  type Address,
  formatAddress,
  isRelayed,
  type KnownPeer,
  type PeerSpec,
  peerName,
  type TrustAssessment,
  terminalSafe,
} from '@netchat/core';
import { actionOf } from './actions.js';
import type { ChatHistory, HistoryEntry } from './chat-history.js';
import type { Conversation } from './conversation.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { Target, TargetProblem } from './peer-target.js';
import type { PresenceUpdate } from './presence.js';
import type { WaitingRequest } from './waiting-request.js';

/** A line for the person; `warning` ones deserve to stand out. */
export interface Notice {
  readonly text: string;
  readonly warning: boolean;
}

const info = (text: string): Notice => ({ text, warning: false });
const warning = (text: string): Notice => ({ text, warning: true });

/** A name as it must be typed in a shell command: as it is if plain, else single-quoted ('carol smith'). */
export function shellWord(name: string): string {
  return /^[\p{L}\p{N}_][\p{L}\p{N}._@+-]*$/u.test(name) ? name : `'${name.replace(/'/g, "'\\''")}'`;
}

/** The command that forgets the peer called `nick`, as typed in a shell (a nick such as -x after --). */
function forgetCommand(nick: string): string {
  return `netchat contacts forget ${nick.startsWith('-') ? '-- ' : ''}${shellWord(nick)}`;
}

/** "127.0.0.1 6666", as the original netchat prompt takes it. */
export function spaced(peer: Address | PeerSpec): string {
  // A peer named by fingerprint (port 0, see peer-target.ts) has no port yet.
  return peer.port === 0 ? peer.host : `${peer.host} ${peer.port}`;
}

/** "127.0.0.1 6666 (bob)", or without the nick if there is none. */
export function who(peer: Address | PeerSpec, nick = ''): string {
  return nick ? `${spaced(peer)} (${terminalSafe(nick)})` : spaced(peer);
}

/**
 * The peer of a conversation: its address and nick; before it answered, the name it was asked
 * by (a known nick, else its fingerprint), so a request by fingerprint never reads as an address only.
 */
function conversationWho(c: Conversation): string {
  const at = c.peer ?? c.target;
  if (c.nick) return who(at, c.nick);
  if (c.expected) {
    const name = c.expected.nick || c.expected.fingerprint;
    return c.peer ? `${spaced(c.peer)} (${terminalSafe(name)})` : terminalSafe(name);
  }
  return spaced(at);
}

/**
 * The peer's key: known, new, or (loudly, first) a new key using the nick of a peer we know,
 * then (unless `nextStep` is false: a dialog short of room) what to do if it is that peer's new key.
 */
export function trustNotices(trust: TrustAssessment, nextStep = true): Notice[] {
  const nick = terminalSafe(trust.nick);
  switch (trust.level) {
    case 'known': {
      const name = terminalSafe(peerName(trust.knownAs ?? '', trust.fingerprint));
      return [
        info(`Fingerprint: ${trust.fingerprint} (known as ${name}${trust.verified ? ', verified' : ''})`),
      ];
    }
    case 'new':
      return [info(`Fingerprint: ${trust.fingerprint} (new: this key has not been seen before)`)];
    case 'impersonation':
      return [
        warning(
          `WARNING: this peer calls itself "${nick}", but its key is not the key of the ${nick} you know (${trust.knownFingerprint ?? ''}). It may be someone else.`,
        ),
        info(`Fingerprint: ${trust.fingerprint} (new)`),
        // The warning alone left the person with two keys called the same and no way forward.
        ...(nextStep
          ? [
              info(
                `If ${nick} made a new key, compare ${trust.fingerprint} with them; once you have chatted, netchat contacts verify ${trust.fingerprint} marks it, and netchat contacts forget ${trust.knownFingerprint ?? nick} drops the old one.`,
              ),
            ]
          : []),
      ];
  }
}

/** "Connection request from: 127.0.0.1 5555" (with the nick, if given: "… 5555 (alice)"). */
export function requestFromText(peer: Address, nick = ''): string {
  return `Connection request from: ${who(peer, nick)}`;
}

/** A request that waits for an answer: who asks, and what is known of their key. */
export function requestNotices(request: WaitingRequest): Notice[] {
  const lines = [info(requestFromText(request.peer))];
  if (request.nick) lines.push(info(`Nick: ${terminalSafe(request.nick)}`));
  return [...lines, ...trustNotices(request.trust)];
}

/** A request declined at once: busy, or (a warning) a new key using the nick of a peer whose key is verified. */
export function refusedText(request: WaitingRequest): string {
  const { trust } = request;
  if (trust.level === 'impersonation' && trust.verified) {
    const nick = terminalSafe(request.nick);
    return `Refused a connection request from ${spaced(request.peer)}: it calls itself "${nick}", but the key of the ${nick} you verified is ${trust.knownFingerprint ?? ''}, and this key is ${trust.fingerprint}. If ${nick} really has a new key, run: ${forgetCommand(nick)}`;
  }
  return `Declined a connection request from ${who(request.peer, request.nick)}: busy.`;
}

/** After the first few busy declines: the rest are counted, not each said (a flood would fill the screen). */
export const MORE_DECLINES_TEXT =
  'More connection requests are being declined while you are busy; how many is said when you are free.';

/** The busy declines not said one by one, once the person is free again. */
export function moreDeclinedText(count: number): string {
  return `Declined ${count} more connection request${count === 1 ? '' : 's'} while busy.`;
}

export function requestGoneText(
  request: WaitingRequest,
  why: 'withdrawn' | 'expired' | 'peer_restarted',
): string {
  const what = {
    withdrawn: 'was withdrawn',
    expired: 'expired',
    peer_restarted: 'ended: the peer restarted',
  }[why];
  return `The connection request from ${who(request.peer, request.nick)} ${what}.`;
}

/** The request going out: where, and the nick a peer named by its key is known by (`… (bob)...`). */
export function connectingText(target: Target): string {
  return `Sending connection request to ${who(target.spec, target.kind === 'key' ? target.nick : '')}...`;
}

/**
 * The one line for a `--connect` that names no peer (a bad argument: exit 2), the same in every
 * front-end: the address's own complaint, or the name and what to do.
 */
export function connectArgumentText(typed: string, problem: TargetProblem): string {
  return problem.code === 'invalid_address'
    ? `--connect: ${problem.message}`
    : `--connect ${terminalSafe(typed)}: ${problem.message}`;
}

/** How a conversation opened, then what is known of the peer's key. */
export function openedNotices(c: Conversation, how: 'connected' | 'accepted' | 'auto'): Notice[] {
  const first = {
    connected: `Connected to ${conversationWho(c)}.`,
    accepted: `Accepted the request from ${conversationWho(c)}.`,
    auto: `Accepted (--yes) the request from ${conversationWho(c)}.`,
  }[how];
  const relayed = c.peer !== undefined && isRelayed(c.peer) ? [info(RELAYED_TEXT)] : [];
  return [info(first), ...relayed, ...(how === 'connected' && c.trust ? trustNotices(c.trust) : [])];
}

/** The line a chat's place shows when the chat with the same peer (the same key) opens again there. */
export function reopenedText(c: Conversation): string {
  return `Chat with ${conversationWho(c)} reopened.`;
}

export const RELAYED_TEXT =
  'Relayed through the rendezvous: no direct path opened (still encrypted end to end; it moves to a direct path if one opens).';

/** Why a conversation ended, or why its request came to nothing. */
export function endedNotice(c: Conversation): Notice {
  const peer = conversationWho(c);
  const why = c.ended ?? { kind: 'closed' };
  switch (why.kind) {
    case 'declined': {
      const detail = why.detail ? ` (${terminalSafe(why.detail)})` : '';
      return why.reason === 'declined'
        ? info(`Connection declined by ${peer}${detail}.`)
        : info(`Connection declined by ${peer}: ${why.reason.replace(/_/g, ' ')}${detail}.`);
    }
    case 'no_answer':
      return info(`No answer from ${peer}.`);
    case 'unreachable':
      return warning(why.message);
    case 'cancelled':
      return info(`Cancelled the connection request to ${peer}.`);
    case 'closed':
      return info('Closing session with peer...');
    case 'peer_closed':
      return info(
        c.direction === 'outgoing' && c.trust === undefined
          ? `${peer} ended the session.`
          : 'Peer closed the session.',
      );
    case 'peer_restarted':
      return info('The peer restarted: this session ended.');
    case 'lost':
      return warning('Connection lost. Ending session.');
    case 'duplicate': {
      const other = why.existing;
      const doing = other.state === 'open' ? 'Already chatting with' : 'Already asking';
      return info(`${doing} ${conversationWho(other)}.`);
    }
    case 'wrong_key': {
      const whose = why.nick ? `the key of ${terminalSafe(why.nick)} ` : '';
      const fix = c.expected
        ? 'to chat with it anyway, type its address'
        : `if ${terminalSafe(why.nick)} really has a new key, run: ${forgetCommand(terminalSafe(why.nick))}`;
      return warning(
        `Not opened: the peer at ${spaced(c.peer ?? c.target)} has the key ${why.got}, not ${whose}(${why.expected}). It may be someone else; ${fix}.`,
      );
    }
  }
}

/** `Missed N heartbeats`: said once, by the heartbeat that crossed the limit or the loss itself. */
export function missedText(count: number, peer?: Address): string {
  return `Missed ${count} heartbeat${count === 1 ? '' : 's'}${peer ? ` from ${formatAddress(peer)}` : ''}`;
}

export function heartbeatSentText(peer: Address): string {
  return `Heartbeat sent to ${formatAddress(peer)}`;
}

/**
 * The peer in brackets before its lines and prompts, as the original netchat shows it:
 * `[127.0.0.1:6666]`; an IPv6 address is bracketed once (`[::1]:6666`), not `[[::1]:6666]`.
 */
export function peerTag(peer: Address | PeerSpec): string {
  if (peer.port === 0) return `[${peer.host}]`;
  const address = formatAddress(peer);
  return address.startsWith('[') ? address : `[${address}]`;
}

/** A message from the peer, as the original netchat shows it; an action as `* bob waves`. */
export function messageText(c: Conversation, text: string): string {
  const tag = peerTag(c.peer ?? c.target);
  const does = actionOf(text);
  if (does === undefined) return `${tag} ${c.nick ? `${terminalSafe(c.nick)}: ` : ''}${terminalSafe(text)}`;
  const name = c.trust ? peerName(c.nick, c.trust.fingerprint) : c.nick || spaced(c.peer ?? c.target);
  return `${tag} * ${terminalSafe(name)} ${terminalSafe(does)}`;
}

/** What is known of a message that was never confirmed, and to whom it went. */
export function notDeliveredText(message: OutgoingMessage): string {
  const to = conversationWho(message.conversation);
  const text = terminalSafe(message.text);
  return message.status === 'not_sent'
    ? `Not sent to ${to} (the chat ended first): ${text}`
    : `Not confirmed delivered to ${to}: ${text}`;
}

/** The short mark the TUI shows beside a sent line. */
export function statusMark(message: Pick<OutgoingMessage, 'status'>): string {
  return { pending: '…', delivered: '✓', not_confirmed: '?', not_sent: '✗' }[message.status];
}

/**
 * "bob is now known as robert", and a warning first when another known key has that nick (the
 * peer may be posing as someone you know).
 */
export function nickChangeNotices(update: Extract<PresenceUpdate, { type: 'nick' }>): Notice[] {
  const before =
    terminalSafe(update.previous) || spaced(update.conversation.peer ?? update.conversation.target);
  const after = terminalSafe(update.nick);
  const line = after ? `${before} is now known as ${after}` : `${before} no longer gives a nick`;
  if (!update.conflict || update.conflict.length === 0) return [info(line)];
  return [
    warning(
      `WARNING: ${after} is the nick of another key you know (${update.conflict.join(', ')}); this is still ${update.conversation.trust?.fingerprint ?? 'the same key'}.`,
    ),
    info(line),
  ];
}

/** "alice is typing…" (the TUI shows it; the line client does not). */
export function typingText(c: Conversation): string {
  return `${terminalSafe(c.nick) || spaced(c.peer ?? c.target)} is typing…`;
}

/** One known peer on one line: nick, fingerprint, last address, last seen (UTC, to the minute), verified. */
export function contactText(contact: KnownPeer): string {
  const nick = terminalSafe(contact.nick) || '(no nick)';
  const where = contact.lastAddress ? spaced(contact.lastAddress) : 'no address yet';
  const when = contact.lastSeen
    ? `last seen ${contact.lastSeen.slice(0, 16).replace('T', ' ')} UTC`
    : 'not seen since';
  // A renamed peer still gives itself its own nick (in requests, in history): say which, or the
  // user cannot tell that "bob" in a request is this "Robert".
  const renamed = contact.peerNick ? `renamed: calls itself ${terminalSafe(contact.peerNick)}` : 'renamed';
  const marks = [contact.verified ? 'verified' : '', contact.named ? renamed : ''].filter(Boolean);
  return `${nick}  ${contact.fingerprint}  ${where}  ${when}${marks.length > 0 ? `  (${marks.join(', ')})` : ''}`;
}

/**
 * One logged line, as `/history` and `netchat history` print it: when (UTC, to the minute), who
 * (`names.own` for what we said; the peer's nick then, else `names.peer`, e.g. the first group of
 * its fingerprint) and what; an action as `* bob waves`.
 */
export function historyText(entry: HistoryEntry, names: { own?: string; peer?: string } = {}): string {
  const when = entry.at.slice(0, 16).replace('T', ' ');
  const sender = terminalSafe(
    entry.direction === 'out' ? (names.own ?? 'you') : entry.nick || (names.peer ?? 'peer'),
  );
  const does = actionOf(entry.text);
  return does === undefined
    ? `${when}  ${sender}: ${terminalSafe(entry.text)}`
    : `${when}  * ${sender} ${terminalSafe(does)}`;
}

/** Whether chat history is kept, and how to change it (`/log`). */
export function historyStatusText(history: ChatHistory): string {
  return history.enabled
    ? `Chat history is on: conversations are logged in ${history.directory} (/log off stops it).`
    : 'Chat history is off: nothing is logged (/log on starts it).';
}
export * from './transfer-texts.js';
