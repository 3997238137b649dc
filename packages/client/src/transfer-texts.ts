/**
 * What the front-ends say about file transfers (re-exported by texts.ts: `texts.offerQuestion`).
 * Sizes are in decimal units as file managers and curl show them (`2.4 MB` is 2,400,000 bytes);
 * names and reasons pass through `oneLine` (terminalSafe, and no line break: each text is one line).
 */
import {
  OFFER_QUEUE,
  type OfferDeclineReason,
  type ProgressSnapshot,
  peerName,
  sizeText,
  terminalSafe,
} from '@netchat/core';
import stringWidth from 'string-width';
import type { Conversation } from './conversation.js';
import { quotePath } from './shell-words.js';
import type { FileFailureNote, FileOutcome, Transfer } from './transfer.js';

/** A name or reason as one line: what terminalSafe keeps (a tab, a newline) would break the line too. */
function oneLine(text: string): string {
  return terminalSafe(text).replace(/[\t\n]/g, '\uFFFD');
}

/** `812 bytes`, `2.4 MB`: core's, so that a size reads the same in core's messages. */
export { sizeText };

/** `2.4 MB/s`. */
export function rateText(bytesPerSecond: number): string {
  return `${sizeText(Math.round(bytesPerSecond)).replace(/ bytes?$/, ' B')}/s`;
}

/** `0:07`, `12:03`, `1:02:03`; `--:--` when unknown. */
export function durationText(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** As the chat names the peer: its nick, else the name we know its key by, else its fingerprint's start. */
function peerOf(c: Conversation): string {
  return c.trust
    ? peerName(c.nick || (c.trust.knownAs ?? ''), c.trust.fingerprint)
    : oneLine(c.nick) || 'the peer';
}

/** The offered file's name (one file) or `3 files`, terminal-safe. */
export function whatText(t: Transfer): string {
  const only = t.files.length === 1 ? t.files[0] : undefined;
  return only ? `"${oneLine(only.path)}"` : `${t.files.length} files`;
}

/**
 * What quitting now leaves of `t`: `transfer 1 ("big.bin", 41%) unfinished`, or `… not yet
 * answered` for our offer the peer has not answered (the CLI's interrupt line, the TUI's quit).
 */
export function transferLeftText(t: Transfer): string {
  if (t.phase === 'offered') return `transfer ${t.id} (${whatText(t)}) not yet answered`;
  const percent = t.totalSize > 0 ? Math.floor((100 * t.bytes) / t.totalSize) : 0;
  return `transfer ${t.id} (${whatText(t)}, ${percent}%) unfinished`;
}

/**
 * The offers not yet answered that quitting declines, for a quit question: `It declines the
 * offer of "a.txt" from alice, not yet answered.`, `It declines 2 offers not yet answered
 * (transfers 4, 5).`; undefined for none.
 */
export function quitDeclinesText(offers: readonly Transfer[]): string | undefined {
  const only = offers.length === 1 ? offers[0] : undefined;
  if (only)
    return `It declines the offer of ${whatText(only)} from ${peerOf(only.conversation)}, not yet answered.`;
  if (offers.length === 0) return undefined;
  return `It declines ${offers.length} offers not yet answered (transfers ${offers.map((t) => t.id).join(', ')}).`;
}

/** `Accept file "report.pdf" (2.4 MB) from bob? (y/n)`; several: `Accept 3 files (7.1 MB) from bob? (y/n)`. */
export function offerQuestion(t: Transfer): string {
  const what = t.files.length === 1 ? `file ${whatText(t)}` : whatText(t);
  return `Accept ${what} (${sizeText(t.totalSize)}) from ${peerOf(t.conversation)}? (y/n)`;
}

/**
 * An offer that came while another waits for the person's y/n (the line client asks one at a
 * time), so it is not taken for lost: `Another offer waits: file "b.txt" (6 bytes) from alice
 * (transfer 2), asked after this one.` `ahead`: the offers to be answered before it (1 or more).
 */
export function queuedOfferText(t: Transfer, ahead: number): string {
  const what = t.files.length === 1 ? `file ${whatText(t)}` : whatText(t);
  const when = ahead === 1 ? 'asked after this one' : `asked after the ${ahead} before it`;
  return `Another offer waits: ${what} (${sizeText(t.totalSize)}) from ${peerOf(t.conversation)} (transfer ${t.id}), ${when}.`;
}

/**
 * A line typed at an offer's y/n question that is neither: a message meant for the chat was not
 * sent; a `command` (`exit`, `/transfers`) was not run, and is to be typed again once answered.
 */
export function notAnAnswerText(t: Transfer, command?: string): string {
  const offer = `the offer of ${whatText(t)} from ${peerOf(t.conversation)} waits for your answer first`;
  return command === undefined
    ? `Please answer y or n. That line was not sent: ${offer}.`
    : `Please answer y or n. "${oneLine(command)}" was not run: ${offer}; type it again then.`;
}

/** The names of an offer of several files, one a line (`  docs/a.txt  1.2 kB`), at most `most`. */
export function offerFileLines(t: Transfer, most = 10): string[] {
  const lines = t.files.slice(0, most).map((f) => `  ${oneLine(f.path)}  ${sizeText(f.size)}`);
  if (t.files.length > most) lines.push(`  … and ${t.files.length - most} more`);
  return lines;
}

export const RELAYED_TRANSFER_TEXT =
  'This chat goes through the rendezvous relay (no direct path between you): the transfer is limited to the relay budget its operator set, so it is slower.';

/**
 * `Offered "report.pdf" (2.4 MB) to bob: waiting for an answer (transfer 1).`; an offer made again
 * by itself says so, else it reads as a second `/send` no one typed (and one more was typed).
 */
export function offeredText(t: Transfer): string {
  const again = t.resuming ? ', left unfinished in an earlier chat' : '';
  return `${t.resuming ? 'Offering again' : 'Offered'} ${whatText(t)} (${sizeText(t.totalSize)}) to ${peerOf(t.conversation)}${again}: waiting for an answer (transfer ${t.id}).`;
}

/**
 * Our offer waits here, or went after waiting: `Transfer 9 ("a.txt") waits for bob to answer earlier
 * offers: it goes as soon as bob answers one.`
 */
export function waitingText(t: Transfer): string {
  const who = peerOf(t.conversation);
  const w = t.waiting;
  if (!w) return `Transfer ${t.id} (${whatText(t)}) offered to ${who} now: waiting for an answer.`;
  if (w.why === 'earlier_offers')
    return `Transfer ${t.id} (${whatText(t)}) waits for ${who} to answer earlier offers: it goes as soon as ${who} answers one.`;
  const seconds = Math.ceil((w.retryInMs ?? 0) / 1000);
  return `${who} has too many offers waiting: transfer ${t.id} (${whatText(t)}) is offered again when ${who} answers one of yours, or in ${seconds} s (try ${w.tries} of ${OFFER_QUEUE.retries}).`;
}

/** `Resuming "report.pdf" from bob at 1.2 MB of 2.4 MB (transfer 2).` */
export function resumingText(t: Transfer): string {
  const held = t.fileBytes.reduce((a, b) => a + b, 0);
  return `Resuming ${whatText(t)} from ${peerOf(t.conversation)} (transfer ${t.id}).${held > 0 ? ` ${sizeText(held)} already here.` : ''}`;
}

/** `bob accepted "report.pdf" (transfer 1).` or, receiving, `Receiving "report.pdf" into /home/me/Downloads (transfer 1).` */
export function acceptedText(t: Transfer): string {
  const from = t.offset > 0 ? ` from ${sizeText(t.offset)} already held` : '';
  return t.direction === 'send'
    ? `${peerOf(t.conversation)} accepted ${whatText(t)}${from} (transfer ${t.id}).`
    : `Receiving ${whatText(t)}${t.folder ? ` into ${t.folder}` : ''}${from} (transfer ${t.id}).`;
}

/**
 * The progress line, redrawn in place: `[1]  42%  1 MB/2.4 MB  3.1 MB/s  ETA 0:01  report.pdf`,
 * at most `width` terminal columns (wide characters count two): the sizes go first, then the
 * name is shortened with `…`.
 */
export function progressLine(t: Transfer, p: ProgressSnapshot, width = 80): string {
  const percent = `${String(Math.floor(p.fraction * 100)).padStart(3)}%`;
  const name = t.files.length === 1 ? oneLine(t.files[0]?.path ?? '') : `${t.files.length} files`;
  const tag = `[${t.id}]${t.relayed ? ' relayed' : ''}`;
  const eta = `ETA ${durationText(p.eta)}`;
  const full = [tag, percent, `${sizeText(p.bytes)}/${sizeText(p.size)}`, rateText(p.rate), eta].join('  ');
  const short = [tag, percent, rateText(p.rate), eta].join(' ');
  const figures = stringWidth(`${full}  ${name}`) <= width ? `${full}  ` : `${short} `;
  return cutToWidth(figures + name, width);
}

/** The terminal columns `text` takes (wide CJK characters and emoji count two). */
export function columnsOf(text: string): number {
  return stringWidth(text);
}

/** Grapheme clusters: what a terminal draws as one (a flag is two code points, a family five). */
const clusters = new Intl.Segmenter();

/** `text` cut to `width` columns, a `…` marking the cut, never inside a grapheme cluster. */
export function cutToWidth(text: string, width: number): string {
  if (stringWidth(text) <= width) return text;
  let out = '';
  for (const { segment } of clusters.segment(text)) {
    if (stringWidth(`${out}${segment}…`) > width) break;
    out += segment;
  }
  return `${out}…`;
}

/** `Received /home/me/Downloads/report.pdf (2.4 MB) in 0:03, 812 kB/s average, verified.` */
export function receivedText(o: FileOutcome): string {
  return `Received ${oneLine(o.path)} (${movedText(o)}) in ${durationText(o.seconds)}, ${rateText(averageRate(o))} average, verified.`;
}

/** `Sent report.pdf (2.4 MB) in 0:03, 812 kB/s average: bob verified it.` */
export function sentText(t: Transfer, o: FileOutcome): string {
  return `Sent ${oneLine(o.path)} (${movedText(o)}) in ${durationText(o.seconds)}, ${rateText(averageRate(o))} average: ${peerOf(t.conversation)} verified it.`;
}

/**
 * The file's size and, for a resume, what of it moved this time: the time and the average are
 * this run's, so "315 MB in 0:02" alone would claim a rate the link never had.
 */
function movedText(o: FileOutcome): string {
  return o.moved < o.size ? `${sizeText(o.size)}, ${sizeText(o.moved)} of it this time` : sizeText(o.size);
}

/** What moved this time over the time it took (a resume's held bytes did not move). */
function averageRate(o: FileOutcome): number {
  return o.seconds > 0 ? o.moved / o.seconds : o.moved;
}

/** `report.pdf failed: hash_mismatch (…)`. */
export function fileFailedText(t: Transfer, f: FileFailureNote): string {
  const name = f.file === undefined ? whatText(t) : `"${oneLine(t.files[f.file]?.path ?? '?')}"`;
  // The sender's words for a full disk at the receiver's say it already.
  const kept =
    f.resumable && !/offered again/.test(f.message)
      ? ' What arrived is kept: it goes on when offered again.'
      : '';
  return `Transfer ${t.id}: ${name} failed: ${oneLine(f.message)}.${kept}`;
}

/** How a transfer ended, in one line. */
export function endedText(t: Transfer): string {
  const who = peerOf(t.conversation);
  switch (t.phase) {
    case 'done': {
      const verified = t.direction === 'send' ? t.sent.length : t.received.length;
      return verified === t.files.length
        ? `Transfer ${t.id} done: ${t.files.length === 1 ? 'the file' : `all ${t.files.length} files`} verified.`
        : `Transfer ${t.id} ended: ${verified} of ${t.files.length} files verified, ${t.files.length - verified} failed.`;
    }
    case 'declined': {
      const d = t.declined;
      const reason = d && d.reason !== 'declined' ? d.reason.replace(/_/g, ' ') : '';
      const why = d?.message ?? reason;
      if (d?.by !== 'local' && d?.reason === 'too_many_offers' && t.direction === 'send')
        return `${who} still had too many offers waiting after ${OFFER_QUEUE.retries} tries over about 2 minutes: ${whatText(t)} was not sent (transfer ${t.id}); send it again later.`;
      if (d?.by !== 'local') {
        const theirs = (d && !d.message && peerDeclineText(d.reason, who)) || why;
        return `${who} declined ${whatText(t)}${theirs ? ` (${theirs})` : ''}.`;
      }
      // Declined for us (a file too large, no room, a folder that cannot be used), even after a y.
      if (reason)
        return `Could not take ${whatText(t)} from ${who}${d.message ? `: ${oneLine(d.message)}` : ''} (${who} was told: ${reason}).`;
      return `You declined ${whatText(t)} from ${who}${why ? ` (${oneLine(why)})` : ''}.`;
    }
    case 'cancelled': {
      // Files of it that arrived before the cancel stay: "cancelled" alone read as all of it gone.
      const arrived = t.direction === 'send' ? t.sent.length : t.received.length;
      const kept =
        arrived > 0 ? `: ${arrived} of the ${t.files.length} files had arrived, verified, and stay` : '';
      return t.cancelledBy === 'local'
        ? `Transfer ${t.id} cancelled${kept}.`
        : `${who} cancelled transfer ${t.id} (${whatText(t)})${kept}.`;
    }
    case 'interrupted':
      // An offer to us never answered has nothing kept: "what arrived is kept" misled.
      if (t.direction === 'receive' && t.acceptedAt === undefined && !t.resuming)
        return `Transfer ${t.id} interrupted (the chat ended) before you answered: nothing of ${whatText(t)} was taken; ${who} offers it again when your next chat opens.`;
      return `Transfer ${t.id} interrupted (the chat ended): ${t.direction === 'send' ? 'it is offered again when the chat with this peer opens.' : 'what arrived is kept for a resume.'}`;
    case 'failed':
      return `Transfer ${t.id} failed: ${oneLine(t.failures.at(-1)?.message ?? 'the peer broke the protocol')}.`;
    default:
      return `Transfer ${t.id} is ${t.phase}.`;
  }
}

/** One line of `/transfers`: `2  ← bob  "a.pdf" 2.4 MB  moving 42%  1.0 MB/s  ETA 0:02`. */
export function transferLine(t: Transfer, p: ProgressSnapshot | undefined): string {
  const arrow = t.direction === 'send' ? `→ ${peerOf(t.conversation)}` : `← ${peerOf(t.conversation)}`;
  const state =
    t.phase === 'moving' && p
      ? `${Math.floor(p.fraction * 100)}%  ${rateText(p.rate)}  ETA ${durationText(p.eta)}`
      : t.phase === 'offered' && t.direction === 'receive'
        ? 'waiting for your answer'
        : t.phase === 'offered' && t.waiting?.why === 'earlier_offers'
          ? 'waiting for earlier offers to be answered'
          : t.phase === 'offered' && t.waiting
            ? `the peer has too many offers: again soon (try ${t.waiting.tries} of ${OFFER_QUEUE.retries})`
            : t.phase === 'offered'
              ? 'waiting for an answer'
              : t.phase;
  return `${String(t.id).padStart(3)}  ${arrow}  ${whatText(t)} ${sizeText(t.totalSize)}  ${state}${t.relayed ? '  (relayed)' : ''}`;
}

/**
 * `/send` takes several paths, split at spaces as a shell would, so a name with spaces typed bare
 * reads as several names and the first that is not there fails. When more than one was given,
 * the line says how to give one name with spaces.
 */
export function unreadableOfferText(message: string, paths: readonly string[]): string {
  if (paths.length < 2) return `Nothing was offered: ${message}`;
  const joined = paths.join(' ');
  const written = /["\\]/.test(joined) ? quotePath(joined) : `"${joined}"`;
  const hint = ` If that was one name with spaces, put it in quotes: /send ${written}`;
  return `Nothing was offered: ${message}.${hint}`;
}

/** An offer to a peer whose netchat takes no files. */
export function noFilesText(c: Conversation): string {
  return `${peerOf(c)}'s netchat cannot receive files (an older version, or started without them): nothing was offered.`;
}

/**
 * What the peer's decline of our offer means, for the codes whose name alone says too little to
 * a person (only the code travels: PROTOCOL.md, Files: transfers). `no_room` is also what a
 * folder that cannot be written at all answers, and a drop box's quota (netchat-bot): the sender
 * is told all three, not a lack of disk that may not be so. `not_allowed` is an access policy:
 * no smaller offer gets through, unlike `no_room` or `too_large`.
 */
function peerDeclineText(reason: OfferDeclineReason, who: string): string | undefined {
  switch (reason) {
    case 'no_room':
      return `no room for it at ${who}: its download folder is full or at its quota, or cannot be written`;
    case 'not_allowed':
      return `${who} takes no files from you`;
    case 'bad_offer':
      return `${who} cannot take this offer: a name it refuses, two files at one path, or too many files`;
    default:
      return undefined;
  }
}
