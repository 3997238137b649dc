/** Names a peer offers: PROTOCOL.md's vectors, the hostile names of issue 20, and a seeded property test. */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isReserved,
  MAX_NAME_BYTES,
  MAX_PATH_BYTES,
  MAX_PATH_DEPTH,
  safeRelativePath,
} from '../src/index.js';
import { seededRandom } from './support/random.js';

type Text = string | [string, number][];
interface Vector {
  in: Text;
  out?: Text;
  refused?: string;
}

const protocol = readFileSync(new URL('../../../PROTOCOL.md', import.meta.url), 'utf8');
const vectors = [...protocol.matchAll(/```names\n([\s\S]*?)```/g)].flatMap((m) =>
  (m[1] ?? '')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Vector),
);

const expand = (text: Text) => (typeof text === 'string' ? text : text.map(([t, n]) => t.repeat(n)).join(''));
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** Everything a safe path must be, whatever was offered. */
function expectSafe(path: string): void {
  expect(path).not.toBe('');
  expect(isAbsolute(path)).toBe(false);
  expect(bytes(path)).toBeLessThanOrEqual(MAX_PATH_BYTES);
  const components = path.split('/');
  expect(components.length).toBeLessThanOrEqual(MAX_PATH_DEPTH);
  for (const component of components) {
    expect(component).not.toBe('');
    expect(bytes(component)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(component).not.toMatch(
      /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}\\<>:"|?*\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u,
    );
    expect(component).not.toMatch(/^[.\-~]|[. ]$/u);
    expect(isReserved(component)).toBe(false);
  }
  // Inside the folder, on this platform, whatever the folder.
  const folder = resolve('/downloads');
  expect(resolve(folder, path).startsWith(folder + sep)).toBe(true);
  // Already safe: a mapped path maps to itself.
  expect(safeRelativePath(path)).toEqual({ ok: true, path, changed: false });
}

describe('PROTOCOL.md "Files: names" vectors', () => {
  it('there are vectors, of both kinds', () => {
    expect(vectors.length).toBeGreaterThan(50);
    expect(vectors.some((v) => v.refused)).toBe(true);
    expect(vectors.some((v) => v.out !== undefined)).toBe(true);
  });

  for (const [index, vector] of vectors.entries()) {
    it(`vector ${index}: ${JSON.stringify(vector.in).slice(0, 50)}`, () => {
      const offered = expand(vector.in);
      const result = safeRelativePath(offered);
      if (vector.refused) {
        expect(result).toEqual({ ok: false, reason: vector.refused });
      } else {
        const out = expand(vector.out as Text);
        expect(result).toEqual({ ok: true, path: out, changed: out !== offered });
        expectSafe(out);
      }
    });
  }
});

describe('the hostile names of issue 20', () => {
  it.each([
    ['../../x', 'parent'],
    ['/etc/x', 'absolute'],
    ['a/../../b', 'parent'],
    ['', 'empty'],
  ])('%j is refused (%s)', (name, reason) => {
    expect(safeRelativePath(name)).toEqual({ ok: false, reason });
  });

  it('control characters are made safe, and never reach the name', () => {
    const result = safeRelativePath('\u001b]0;pwned\u0007\r\nreport.pdf');
    expect(result).toEqual({ ok: true, path: '_]0;pwned___report.pdf', changed: true });
  });

  it('a 300-byte name is cut to 255 bytes on a grapheme boundary, keeping its extension', () => {
    // 98 three-byte clusters (294 bytes) of a flag-free CJK text, then ".pdf": 298 bytes.
    const result = safeRelativePath(`${'漢'.repeat(98)}.pdf`);
    if (!result.ok) throw new Error('refused');
    expect(result.path).toBe(`${'漢'.repeat(83)}.pdf`);
    expect(bytes(result.path)).toBe(253);
    // Family emoji (a ZWJ sequence of 25 bytes) are never split.
    const family = '👨‍👩‍👧‍👦';
    const cut = safeRelativePath(family.repeat(12));
    if (!cut.ok) throw new Error('refused');
    expect(cut.path).toBe(family.repeat(10));
  });

  it('CON, with or without an extension and in any case, gets a _ in front', () => {
    for (const name of ['CON', 'con', 'Con.txt', 'CON.tar.gz', 'PRN', 'aux.c', 'NUL', 'COM9', 'lpt1.txt'])
      expect(safeRelativePath(name)).toMatchObject({ ok: true, path: `_${name}` });
  });
});

/** A random string: mostly the characters that matter (separators, dots, controls, bidi, reserved names). */
function randomPath(next: () => number): string {
  const pieces = [
    '/',
    '/',
    '/',
    '.',
    '..',
    '\\',
    '\0',
    ' ',
    '~',
    '-',
    'a',
    'b',
    'CON',
    'nul',
    'COM1',
    ':',
    'C:',
    '\u202e',
    '\u2066',
    '\u0085',
    '\n',
    '\u001b',
    '\ud800',
    '\udc00',
    '😀',
    'é',
    'e\u0301',
    '👨‍👩‍👧‍👦',
    '.tar.gz',
    '.pdf',
    'x'.repeat(100),
  ];
  const piece = () =>
    next() < 0.8
      ? pieces[Math.floor(next() * pieces.length)]
      : String.fromCharCode(Math.floor(next() * 0x10000));
  const text = (count: number) => Array.from({ length: count }, piece).join('');
  // Half are any text; half are components joined by '/', up to 40 deep, to reach depth and length limits.
  if (next() < 0.5) return text(Math.floor(next() * 40));
  return Array.from({ length: 1 + Math.floor(next() * 40) }, () => text(1 + Math.floor(next() * 4))).join(
    '/',
  );
}

describe('property: whatever is offered, the result is safe or a refusal', () => {
  it('5,000 seeded random paths (separators, dots, controls, surrogates, reserved names, long names)', () => {
    const next = seededRandom(25);
    const reasons = new Set<string>();
    let made = 0;
    for (let i = 0; i < 5_000; i++) {
      const offered = randomPath(next);
      const result = safeRelativePath(offered);
      if (result.ok) {
        made++;
        expectSafe(result.path);
        expect(result.changed).toBe(result.path !== offered);
      } else {
        reasons.add(result.reason);
      }
    }
    // The generator reaches both outcomes and every refusal a short path can have.
    expect(made).toBeGreaterThan(250);
    expect([...reasons].sort()).toEqual([
      'absolute',
      'empty',
      'empty_component',
      'nul',
      'parent',
      'too_deep',
      'too_long',
    ]);
  });

  it('2,000 seeded random byte strings, decoded as UTF-8 the way a wire decoder would', () => {
    const next = seededRandom(2020);
    for (let i = 0; i < 2000; i++) {
      const raw = Buffer.from(
        Array.from({ length: Math.floor(next() * 600) }, () => Math.floor(next() * 256)),
      );
      const result = safeRelativePath(raw.toString('utf8'));
      if (result.ok) expectSafe(result.path);
    }
  });
});
