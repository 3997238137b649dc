// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// *Files: names*: an offered path mapped to a safe relative path, or refused with the document's
// reason (the checks in its order, the first that applies); an offer's paths checked together
// (`duplicate_path`, `path_conflict`); and the names of copies (`stem (1)ext`).

const utf8 = new TextEncoder();
const bytesOf = (s) => utf8.encode(s).length;

const MAX_PATH_BYTES = 1024;
const MAX_COMPONENTS = 32;
const MAX_NAME_BYTES = 255;
const MAX_COPIES = 9999;

// Step 1's characters: controls (C0 but NUL, which is refused before; DEL and C1), line and
// paragraph separators, bidirectional controls, lone surrogates, `\` and Windows' reserved ones.
const UNSAFE_CHAR =
  /[\u0001-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\\<>:"|?*]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const DEVICE = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])$/iu;
const COMPRESSION = new Set(['gz', 'bz2', 'xz', 'zst', 'lz', 'lz4', 'lzma', 'lzo', 'z', 'br', 'sz']);

/** The offered path mapped: { out, changed } or { refused: reason }. */
export function safePath(path) {
  if (path.length === 0) return { refused: 'empty' };
  if (bytesOf(path) > MAX_PATH_BYTES) return { refused: 'too_long' };
  if (path.includes('\0')) return { refused: 'nul' };
  if (/^[/\\]/.test(path) || /^[A-Za-z]:([/\\]|$)/.test(path)) return { refused: 'absolute' };
  const components = [];
  for (const c of path.split('/')) {
    if (c === '') return { refused: 'empty_component' };
    if (c === '..') return { refused: 'parent' };
    if (c !== '.') components.push(c);
  }
  if (components.length === 0) return { refused: 'empty' };
  if (components.length > MAX_COMPONENTS) return { refused: 'too_deep' };
  const out = components.map(safeName).join('/');
  if (bytesOf(out) > MAX_PATH_BYTES) return { refused: 'too_long' };
  return { out, changed: out !== path };
}

/** One component made safe, by the document's five steps in order. */
export function safeName(name) {
  let s = name.replace(UNSAFE_CHAR, '_');
  const beforeDot = s.split('.')[0].replace(/ +$/, '');
  if (DEVICE.test(beforeDot)) s = `_${s}`;
  if (bytesOf(s) > MAX_NAME_BYTES) {
    const { stem, ext } = splitExtension(s);
    s = cutToBytes(stem, MAX_NAME_BYTES - bytesOf(ext)) + ext;
  }
  s = s.replace(/[. ]+$/, (tail) => '_'.repeat(tail.length));
  if (/^[.\-~]/.test(s)) s = `_${s.slice(1)}`;
  return s;
}

/**
 * A name's stem and extension (step 3): the last `.` and what follows when that is 1–16 bytes with
 * no `.` and no white space and the `.` is not the first character; with a compression suffix,
 * also the `.` and 1–8 ASCII letters and digits (at least one letter) before it.
 */
export function splitExtension(name) {
  const dot = name.lastIndexOf('.');
  const tail = dot > 0 ? name.slice(dot + 1) : '';
  const n = bytesOf(tail);
  if (dot <= 0 || n < 1 || n > 16 || /\s/u.test(tail)) return { stem: name, ext: '' };
  if (COMPRESSION.has(tail.toLowerCase())) {
    const inner = /\.([A-Za-z0-9]{1,8})$/.exec(name.slice(0, dot));
    if (inner && inner.index > 0 && /[A-Za-z]/.test(inner[1])) {
      return { stem: name.slice(0, inner.index), ext: name.slice(inner.index) };
    }
  }
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The longest prefix of whole grapheme clusters within `max` bytes; of code points if no cluster fits. */
function cutToBytes(text, max) {
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const n = bytesOf(segment);
    if (used + n > max) break;
    out += segment;
    used += n;
  }
  if (out.length > 0 || text.length === 0) return out;
  for (const cp of text) {
    const n = bytesOf(cp);
    if (used + n > max) break;
    out += cp;
    used += n;
  }
  return out;
}

/**
 * An offer's paths checked together: undefined if they may be taken, else the document's reason
 * (`unsafe_name`, `duplicate_path`, `path_conflict`; on the wire all are `bad_offer`) with the
 * mapped paths.
 */
export function checkOfferPaths(paths) {
  const mapped = [];
  for (const p of paths) {
    const m = safePath(p);
    if (m.refused) return { reason: 'unsafe_name', path: p, why: m.refused };
    mapped.push(m.out);
  }
  const files = new Set();
  for (const m of mapped) {
    if (files.has(m)) return { reason: 'duplicate_path', path: m };
    files.add(m);
  }
  for (const m of mapped) {
    const parts = m.split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (files.has(folder)) return { reason: 'path_conflict', path: folder };
    }
  }
  return { mapped };
}

/** The name of copy `n` (1 to 9999) of a file named `name`: `stem (n)ext`, cut to 255 bytes. */
export function copyName(name, n) {
  if (n < 1 || n > MAX_COPIES) throw new RangeError(`copyName: ${n}`);
  const { stem, ext } = splitExtension(name);
  const suffix = ` (${n})${ext}`;
  return cutToBytes(stem, MAX_NAME_BYTES - bytesOf(suffix)) + suffix;
}

export { MAX_COPIES };
