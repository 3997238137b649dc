/**
 * The request dialog's rows at the size a 40×10 screen leaves it (38 columns, 6 rows inside its
 * borders): for a new key, a known one, a verified one and a known nick on a new key, every line
 * fits whole (no row cut), the keys last; with room, the full texts.
 */
import { describe, expect, it } from 'vitest';
import { DIALOG_KEYS } from '../src/model/request-dialog.js';
import type { TuiModel } from '../src/model/tui-model.js';
import { dialogRows } from '../src/view/overlays.js';
import { identityOf, testModel } from './fake-port.js';

const peer = { host: '127.0.0.1', port: 6666 };
const KEYS = `Accept? ${DIALOG_KEYS}`;

/** The dialog's rows as text, for the request waiting in `model`, at `width`×`height`. */
function shown(model: TuiModel, width: number, height: number): string[] {
  const request = model.dialogRequest;
  if (!request) throw new Error('no request in the dialog');
  return dialogRows(model, request, width, height).map((row) => row.map((span) => span.text).join(''));
}

describe('the request dialog at 40x10 (38x6 inside)', () => {
  it('a new key: from whom, the fingerprint, the keys', () => {
    const { model } = testModel();
    model.onEvent({ type: 'request', session: 1, peer, nick: 'alice', ...identityOf('alice') });
    // A row full up to a space breaks there: the full texts fit in 38x6.
    expect(shown(model, 38, 6)).toEqual([
      'Connection request from:',
      '127.0.0.1 6666',
      'Nick: alice',
      'Fingerprint: ALIC-FPFP-FPFP-FPFP (new:',
      'this key has not been seen before)',
      KEYS,
    ]);
    // One row less: fewer words.
    expect(shown(model, 38, 5)).toEqual([
      'From: 127.0.0.1 6666 (alice)',
      'Fingerprint: ALIC-FPFP-FPFP-FPFP (new)',
      KEYS,
    ]);
    // With room (100x30), the full texts.
    expect(shown(model, 78, 26)).toEqual([
      'Connection request from: 127.0.0.1 6666',
      'Nick: alice',
      'Fingerprint: ALIC-FPFP-FPFP-FPFP (new: this key has not been seen before)',
      KEYS,
    ]);
  });

  it('a known, verified key: the full texts still fit', () => {
    const { model, port } = testModel();
    port.known.set(identityOf('alice').publicKey, 'alice');
    port.verified.add(identityOf('alice').publicKey);
    model.onEvent({ type: 'request', session: 1, peer, nick: 'alice', ...identityOf('alice') });
    const rows = shown(model, 38, 6);
    expect(rows.length).toBeLessThanOrEqual(6);
    expect(rows.at(-1)).toBe(KEYS);
    expect(rows.join(' ')).toBe(
      `Connection request from: 127.0.0.1 6666 Nick: alice Fingerprint: ALIC-FPFP-FPFP-FPFP (known as alice, verified) ${KEYS}`,
    );
  });

  it('a known key: the address stays on one row (the port was alone on a row of its own)', () => {
    const { model, port } = testModel();
    port.known.set(identityOf('alice').publicKey, 'alice');
    model.onEvent({
      type: 'request',
      session: 1,
      peer: { host: '127.0.0.1', port: 33870 },
      nick: 'alice',
      ...identityOf('alice'),
    });
    const rows = shown(model, 38, 6);
    expect(rows.length).toBeLessThanOrEqual(6);
    expect(rows.at(-1)).toBe(KEYS);
    expect(rows.some((row) => row.includes('127.0.0.1 33870'))).toBe(true);
    expect(rows.every((row) => !/^\d+$/.test(row))).toBe(true);
  });

  it('a known nick on a new key: the warning whole, in bold, and the new key', () => {
    const { model, port } = testModel();
    port.known.set(identityOf('alice').publicKey, 'alice');
    model.onEvent({ type: 'request', session: 1, peer, nick: 'alice', ...identityOf('mallory') });
    const request = model.dialogRequest;
    if (!request) throw new Error('no request in the dialog');
    const rows = dialogRows(model, request, 38, 6);
    expect(rows.length).toBeLessThanOrEqual(6);
    const text = rows.map((row) => row.map((span) => span.text).join(''));
    expect(text.join(' ')).toBe(
      `From: 127.0.0.1 6666 (alice) WARNING: not the key of the alice you know (KNWN-KNWN-KNWN-KNWN). Fingerprint: MALL-FPFP-FPFP-FPFP (new) ${KEYS}`,
    );
    expect(rows[1]?.[0]?.look.bold).toBe(true);
  });
});
