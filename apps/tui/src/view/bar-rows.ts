/**
 * The two one-row bars under the conversation, as rows: the input line (the part around the
 * cursor, and the draft's length once it does not all show) and the tab bar (tabs that do not
 * fit counted at either end, unread ones bold, waiting ones underlined).
 */
import { hiddenText, layoutTabBar, tabText } from '../model/tab-bar.js';
import { clusterWidth } from '../model/text-width.js';
import type { TuiModel } from '../model/tui-model.js';
import { type Look, PLAIN, type Row, type Span } from './cells.js';

const BOLD: Look = { bold: true };
const INVERSE: Look = { inverse: true };

export function tabBarRow(model: TuiModel, width: number): Row {
  const layout = layoutTabBar(model.tabBar(), width);
  const row: Span[] = [];
  const hiddenLook = (h: typeof layout.left): Look => (h.unread > 0 || h.waiting > 0 ? BOLD : PLAIN);
  row.push({ text: hiddenText(layout.left, 'left'), look: hiddenLook(layout.left) });
  layout.shown.forEach((entry, i) => {
    if (i > 0) row.push({ text: '│', look: PLAIN });
    const look: Look = entry.current
      ? INVERSE
      : entry.waiting > 0
        ? { bold: true, underline: true }
        : entry.unread > 0
          ? BOLD
          : PLAIN;
    row.push({ text: tabText(entry), look });
  });
  row.push({ text: hiddenText(layout.right, 'right'), look: hiddenLook(layout.right) });
  return row;
}

/** The input line: the part around the cursor, and the length once it does not all show. */
export function inputRow(model: TuiModel, width: number): Row {
  const editor = model.editor;
  const room = Math.max(1, width - 3);
  let w = editor.window(room, shownWidth);
  let summary = '';
  if (w.clippedLeft || w.clippedRight) {
    summary = ` [${editor.length}]`;
    w = editor.window(Math.max(1, room - summary.length), shownWidth);
  }
  const show = (s: string) => s.replace(/\n/g, '↵').replace(/\t/g, ' ');
  return [
    { text: w.clippedLeft ? '… ' : '> ', look: PLAIN },
    { text: show(w.before), look: PLAIN },
    { text: w.at === '' || shownWidth(w.at) === 0 ? ' ' : show(w.at), look: INVERSE },
    { text: show(w.after), look: PLAIN },
    { text: summary, look: BOLD },
  ];
}

/** A cluster's cells in the input line, where a line break shows as ↵ and a tab as a space. */
function shownWidth(cluster: string): number {
  return cluster === '\n' || cluster === '\t' ? 1 : clusterWidth(cluster);
}
