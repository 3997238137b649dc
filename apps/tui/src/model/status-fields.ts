/**
 * The status bar: who you are, who this tab talks to and how the link is doing, as fields with
 * a rank. When the bar is wider than the screen, the least important fields go first (your own
 * address before the session's state); the peer's name is cut short (`bartholo…`) before it
 * would go, since on a narrow terminal it is the one sign of whom the tab talks to; and what is
 * left is cut with "…" only if even the most important ones do not fit.
 */

import { texts } from '@netchat/client';
import { formatAddress, isRelayed, type SessionInfo } from '@netchat/core';
import type { Tab } from './tab.js';
import { fitWidth, textWidth } from './text-width.js';
import type { TuiModel } from './tui-model.js';

export interface StatusField {
  readonly text: string;
  /** Higher stays longer. */
  readonly rank: number;
  /** The fewest cells it may be cut to (with "…") before it goes; unset: whole or gone. */
  readonly shortest?: number;
}

/** A peer's name cut shorter than this ("barth…") names no one: it goes instead. */
const SHORTEST_NAME = 6;

export const SEPARATOR = ' │ ';

/** What the status bar reads, gathered by the model. */
export interface StatusSources {
  /** "alice@[::]:5555". */
  readonly own: string;
  readonly tab: Tab;
  /** The tab's name in the tab bar (the peer's nick, told apart from others with the same). */
  readonly label: string;
  readonly openChats: number;
  readonly waitingRequests: number;
  /** "bob is typing…", while the peer is. */
  readonly typing: string | undefined;
  /** The session as the engine sees it now (round trip, last heard, missed heartbeats). */
  readonly info: SessionInfo | undefined;
  /** The engine's clock (ms), the one `info.lastHeard` is on. */
  readonly now: number;
}

/** The status bar's fields for the tab the model shows: what it reads, gathered. */
export function modelStatusFields(model: TuiModel): StatusField[] {
  const tab = model.currentTab;
  const c = tab.conversation;
  return statusFields({
    own: `${model.nick || 'you'}@${model.settings.localAddress}`,
    tab,
    label: model.labelOf(tab),
    openChats: model.tabs.filter((t) => t.state === 'open').length,
    waitingRequests: model.requests.length,
    typing: c && model.client.peerTyping(c) ? texts.typingText(c) : undefined,
    info: tab.session === undefined ? undefined : model.port.session(tab.session),
    now: model.port.now(),
  });
}

export function statusFields(s: StatusSources): StatusField[] {
  const { tab, info } = s;
  const fields: StatusField[] = [{ text: s.own, rank: 1 }];
  if (tab.state === 'home') {
    const chats = s.openChats;
    fields.push({ text: 'home', rank: 6 }, { text: `${chats} chat${chats === 1 ? '' : 's'}`, rank: 3 });
    if (s.waitingRequests > 0) fields.push({ text: `${s.waitingRequests} waiting (/requests)`, rank: 7 });
  } else {
    // The name outranks how the link goes (direct, relayed, rtt): it says whom the tab is with.
    if (tab.nick) fields.push({ text: s.label, rank: 6, shortest: SHORTEST_NAME });
    fields.push({ text: tab.peer ? formatAddress(tab.peer) : tab.label, rank: tab.nick ? 2 : 6 });
    fields.push({ text: tab.state, rank: 8 });
    if (s.typing) fields.push({ text: s.typing, rank: 7 });
    if (tab.state === 'open' && info) {
      // How the datagrams travel: straight to the peer, or through the rendezvous's relay
      // (still sealed end to end); it changes when a direct path opens later.
      fields.push({ text: isRelayed(info.peer) ? 'relayed' : 'direct', rank: 5 });
      fields.push({ text: info.rtt === undefined ? 'rtt –' : `rtt ${Math.round(info.rtt)} ms`, rank: 4 });
      fields.push({ text: `heard ${formatAge(s.now - info.lastHeard)} ago`, rank: 3 });
      // Live from the session: it is back to 0 as soon as any datagram of the peer arrives.
      const missed = info.missedHeartbeats;
      if (missed > 0)
        fields.push({ text: `⚠ ${missed} heartbeat${missed === 1 ? '' : 's'} missed`, rank: 9 });
    }
  }
  if (tab.log.anchor !== undefined) {
    const below = tab.log.newBelow();
    fields.push({
      text: below > 0 ? `▼ ${below} new line${below === 1 ? '' : 's'} below (End)` : '▼ more below',
      rank: 10,
    });
  }
  return fields;
}

/** The fields that fit in `width` cells, most important kept (a name cut short first), joined. */
export function fitStatus(fields: readonly StatusField[], width: number): string {
  let kept = [...fields];
  const total = () => kept.reduce((sum, f, i) => sum + textWidth(f.text) + (i > 0 ? SEPARATOR.length : 0), 0);
  while (kept.length > 1 && total() > width) {
    const lowest = kept.reduce((low, f) => (f.rank < low.rank ? f : low));
    const room = textWidth(lowest.text) - (total() - width);
    if (lowest.shortest !== undefined && room >= lowest.shortest) {
      const cut = { ...lowest, text: fitWidth(lowest.text, room) };
      kept = kept.map((f) => (f === lowest ? cut : f));
      break;
    }
    kept = kept.filter((f) => f !== lowest);
  }
  return fitWidth(kept.map((f) => f.text).join(SEPARATOR), width);
}

function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m`;
}
