/** Chat history entries as the lines a reopened tab shows first (dimmed: `old`). */
import type { HistoryEntry } from '@netchat/client';
import { terminalSafe } from '@netchat/core';
import { ACTION_PREFIX } from './commands.js';
import type { LineKind, NewLine } from './tab-log.js';

/** `entries` as lines, oldest first; `ownNick` for what we said; `fallback` for an unreadable time. */
export function historyLines(entries: readonly HistoryEntry[], ownNick: string, fallback: Date): NewLine[] {
  return entries.map((entry) => {
    const action = entry.text.startsWith(ACTION_PREFIX);
    const own = entry.direction === 'out';
    const kind: LineKind = own ? (action ? 'own_action' : 'own') : action ? 'peer_action' : 'peer';
    const time = new Date(entry.at);
    return {
      kind,
      sender: terminalSafe(own ? ownNick : entry.nick || 'peer'),
      text: terminalSafe(action ? entry.text.slice(ACTION_PREFIX.length) : entry.text),
      time: Number.isNaN(time.getTime()) ? fallback : time,
      old: true,
    };
  });
}
