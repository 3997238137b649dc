/**
 * The tab bar: each tab's name (a peer's nick, told apart by its fingerprint when two peers share
 * it), and which tabs it shows when they do not all fit: the current one with as many neighbours
 * as fit, and for each side the count of tabs left out, with how many of them have unread messages
 * or waiting requests ("«3 *1" on the left, "*1 !1 4»" on the right), one space from the tabs.
 */
import { peerName, type Target, type WaitingRequest } from '@netchat/client';
import { formatAddress, terminalSafe } from '@netchat/core';
import { shortPrint, type Tab } from './tab.js';
import { textWidth } from './text-width.js';

export interface TabBarEntry {
  readonly label: string;
  readonly current: boolean;
  readonly unread: number;
  /** Requests waiting for an answer (the home tab), or file offers (a chat's tab). */
  readonly waiting: number;
  readonly ended: boolean;
}

export interface HiddenTabs {
  readonly count: number;
  /** How many of them have unread messages, and how many waiting requests. */
  readonly unread: number;
  readonly waiting: number;
}

export interface TabBarLayout {
  readonly left: HiddenTabs;
  readonly shown: readonly TabBarEntry[];
  readonly right: HiddenTabs;
}

/** The text of a tab in the bar, marks included. */
export function tabText(entry: TabBarEntry): string {
  const marks = [
    entry.unread > 0 ? `*${entry.unread}` : '',
    entry.waiting > 0 ? `!${entry.waiting}` : '',
    entry.ended ? '(ended)' : '',
  ].filter(Boolean);
  return ` ${[entry.label, ...marks].join(' ')} `;
}

/** The text of the marker for hidden tabs on one side ('' when none are hidden). */
export function hiddenText(hidden: HiddenTabs, side: 'left' | 'right'): string {
  if (hidden.count === 0) return '';
  const marks = [
    hidden.unread > 0 ? `*${hidden.unread}` : '',
    hidden.waiting > 0 ? `!${hidden.waiting}` : '',
  ].filter(Boolean);
  // No space on the tabs' side: each tab's text starts and ends with one ("«1 1 alice").
  return side === 'left'
    ? `«${[hidden.count, ...marks].join(' ')}`
    : [...marks, `${hidden.count}»`].join(' ');
}

const SEPARATOR = 1;

function hidden(entries: readonly TabBarEntry[]): HiddenTabs {
  return {
    count: entries.length,
    unread: entries.filter((e) => e.unread > 0).length,
    waiting: entries.filter((e) => e.waiting > 0).length,
  };
}

/** Lays the bar out in `width` cells; `measure` gives a text's width in cells. */
export function layoutTabBar(
  entries: readonly TabBarEntry[],
  width: number,
  measure: (text: string) => number = textWidth,
): TabBarLayout {
  const current = Math.max(
    0,
    entries.findIndex((e) => e.current),
  );
  const widthOf = (from: number, to: number) => {
    let total = 0;
    for (let i = from; i <= to; i++)
      total += measure(tabText(entries[i] as TabBarEntry)) + (i > from ? SEPARATOR : 0);
    const left = hiddenText(hidden(entries.slice(0, from)), 'left');
    const right = hiddenText(hidden(entries.slice(to + 1)), 'right');
    return total + measure(left) + measure(right);
  };
  let from = current;
  let to = current;
  // Grow around the current tab, one neighbour each side in turn, while it fits.
  for (let grew = true; grew; ) {
    grew = false;
    if (to + 1 < entries.length && widthOf(from, to + 1) <= width) {
      to++;
      grew = true;
    }
    if (from > 0 && widthOf(from - 1, to) <= width) {
      from--;
      grew = true;
    }
  }
  return {
    left: hidden(entries.slice(0, from)),
    shown: entries.slice(from, to + 1),
    right: hidden(entries.slice(to + 1)),
  };
}

/** The tabs and waiting requests there are: who else might use the same nick. */
export interface Crowd {
  readonly tabs: readonly Tab[];
  readonly requests: readonly WaitingRequest[];
}

/**
 * A tab's name: the peer's nick, with a short fingerprint when another tab or a waiting request
 * uses the same nick with another key (every bot used to be "netchat-bot"); before the peer gave
 * a nick, what the tab was opened by (the nick typed in `/connect bob`, the address typed).
 */
export function tabLabel(tab: Tab, crowd: Crowd): string {
  if (tab.state === 'home') return 'home';
  if (!tab.nick) return tab.label;
  const nick = terminalSafe(tab.nick);
  const print = tab.fingerprint;
  if (!print) return nick;
  const clash =
    crowd.tabs.some((t) => t !== tab && t.nick === tab.nick && t.fingerprint !== print) ||
    crowd.requests.some((r) => r.nick === tab.nick && r.fingerprint !== print);
  return clash ? `${nick}#${shortPrint(print)}` : nick;
}

/** A tab's name before the peer gives its nick: the nick it is known by (else its fingerprint's first group), or the address typed. */
export function targetLabel(target: Target): string {
  return target.kind === 'key'
    ? terminalSafe(peerName(target.nick, target.fingerprint))
    : formatAddress(target.spec);
}

/** The request's nick, with a short fingerprint when a tab or another request uses the same one. */
export function requestNick(request: WaitingRequest, crowd: Crowd): string {
  const nick = terminalSafe(request.nick);
  const clash =
    crowd.tabs.some((t) => t.nick === request.nick && t.fingerprint !== request.fingerprint) ||
    crowd.requests.some(
      (r) => r !== request && r.nick === request.nick && r.fingerprint !== request.fingerprint,
    );
  return clash ? `${nick}#${shortPrint(request.fingerprint)}` : nick;
}

/**
 * The bar's entries, tab by tab: "0 home !1", "1 alice *2 !1", "2 bob (ended)"; `!` counts the
 * requests waiting on the home tab, and the file offers waiting in a chat (`offers`).
 */
export function tabBarEntries(
  crowd: Crowd,
  current: number,
  offers: (tab: Tab) => number = () => 0,
): TabBarEntry[] {
  return crowd.tabs.map((tab, index) => ({
    label: `${index} ${tabLabel(tab, crowd)}`,
    current: index === current,
    unread: tab.unread,
    waiting: tab.state === 'home' ? crowd.requests.length : offers(tab),
    ended: tab.state === 'ended',
  }));
}
