/**
 * A box drawn over the log (the request or offer dialog, the help) whose border lands on one half
 * of a two-cell cluster (CJK, emoji) of a log row. Our FILLER cell after a two-cell cluster is
 * never sent to the terminal: it used to be, as a raw \x03, when the border covered the cluster's
 * first cell, and the terminal (drawing \x03 as nothing) shifted the rest of the row one cell left;
 * the next frames, writing only the cells that changed, left it so ("🎉 with" showed as "🎉 ith"
 * after a resize from 40 to 80 columns with an offer open).
 */
import { describe, expect, it } from 'vitest';
import { alice, build, settle, until } from './blessed-screen.js';
import { identityOf } from './fake-port.js';

/** Rows of two-cell clusters at both parities: some cluster straddles every column. */
function wideRows(model: ReturnType<typeof build>['model']): void {
  for (const start of ['', 'a', '🎉', 'a🎉'])
    model.onEvent({ type: 'message', session: 1, peer: alice, text: `${start}${'漢字🎉かな'.repeat(12)}` });
}

describe('a box over two-cell clusters of the log', () => {
  for (const [columns, rows] of [
    [80, 24],
    [40, 10],
    [100, 30],
  ] as const)
    it(`never sends the filler cell to the terminal (${columns}×${rows}), nor after resizes`, async () => {
      const { model, view, output, written } = build(columns, rows);
      model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
      model.answerDialog(true);
      wideRows(model);
      view.render();
      // A second request: its dialog is drawn over those rows.
      model.onEvent({ type: 'request', session: 2, peer: alice, nick: 'bob', ...identityOf('bob') });
      view.render();
      await settle();
      expect(written()).toContain('Accept? Alt+Y');
      for (const [c, r] of [
        [40, 10],
        [80, 24],
        [columns, rows],
      ] as const) {
        Object.assign(output, { columns: c, rows: r });
        output.emit('resize');
        await until(() => view.text().length === r, 'the redraw after the resize');
        await settle();
      }
      expect(written().includes('\x03')).toBe(false);
    });
});
