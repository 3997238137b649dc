/**
 * A file name's parts, as both safe names and numbered copies need them: the extension (kept when
 * a name is shortened or numbered: `report (1).pdf`, `backup (1).tar.gz`), and shortening to a
 * number of UTF-8 bytes on a grapheme boundary (an emoji with a skin tone, a flag or an accented
 * letter is never cut in half).
 */

/** Compression suffixes after which the extension before them belongs to the extension too (`.tar.gz`). */
const COMPRESSION = new Set(['gz', 'bz2', 'xz', 'zst', 'lz', 'lz4', 'lzma', 'lzo', 'z', 'br', 'sz']);
/** An extension: 1-16 UTF-8 bytes, no dot, no white space. */
const EXTENSION = /^[^.\s]+$/u;
const MAX_EXTENSION_BYTES = 16;
/** The inner part of a compound extension (`tar` in `.tar.gz`): 1-8 ASCII letters and digits, a letter among them. */
const INNER_EXTENSION = /^(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,8}$/;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * `[stem, extension]`, the extension with its dot (`['report', '.pdf']`, `['backup', '.tar.gz']`),
 * or `[name, '']` when there is none: no dot after the first character (`.bashrc`, `README`), or
 * what follows the last dot is not extension-like (`Mr. Smith`: a space).
 */
export function splitExtension(name: string): [stem: string, extension: string] {
  const last = name.lastIndexOf('.');
  if (last <= 0) return [name, ''];
  const extension = name.slice(last + 1);
  if (!EXTENSION.test(extension) || utf8Bytes(extension) > MAX_EXTENSION_BYTES) return [name, ''];
  const stem = name.slice(0, last);
  if (COMPRESSION.has(extension.toLowerCase())) {
    const inner = stem.lastIndexOf('.');
    if (inner > 0 && INNER_EXTENSION.test(stem.slice(inner + 1)))
      return [stem.slice(0, inner), name.slice(inner)];
  }
  return [stem, name.slice(last)];
}

/**
 * `stem + suffix` in at most `maxBytes` UTF-8 bytes: the stem is cut to its longest prefix of
 * whole grapheme clusters that fits (of whole code points if not even its first cluster fits, as
 * a cluster of hundreds of combining marks may not). `suffix` is kept whole; it must fit.
 */
export function fitName(stem: string, suffix: string, maxBytes: number): string {
  const budget = maxBytes - utf8Bytes(suffix);
  if (budget < 0) throw new RangeError(`suffix of ${utf8Bytes(suffix)} bytes exceeds ${maxBytes}`);
  if (utf8Bytes(stem) <= budget) return stem + suffix;
  let kept = '';
  let used = 0;
  for (const { segment } of segmenter.segment(stem)) {
    const bytes = utf8Bytes(segment);
    if (used + bytes > budget) {
      if (kept === '') kept = codePointPrefix(segment, budget);
      break;
    }
    kept += segment;
    used += bytes;
  }
  return kept + suffix;
}

function codePointPrefix(text: string, budget: number): string {
  let kept = '';
  let used = 0;
  for (const char of text) {
    const bytes = utf8Bytes(char);
    if (used + bytes > budget) break;
    kept += char;
    used += bytes;
  }
  return kept;
}
