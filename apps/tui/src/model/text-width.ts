/**
 * How many terminal cells text takes, measured the way a terminal draws it: by grapheme cluster
 * (Intl.Segmenter), so an emoji with a skin tone, a flag or a ZWJ family (👨‍👩‍👧) is one unit of two
 * cells, never split, and a letter with combining accents is one cell. `string-width` knows the
 * widths (East Asian Width, RGI emoji, zero-width marks); this file only cuts text into clusters
 * and caches what it measured. Wrapping, the input line, the status and tab bars and the drawing
 * itself all use this one measure, so what is wrapped to fit is what is drawn.
 */
import stringWidth from 'string-width';

const segmenter = new Intl.Segmenter();

/** Cluster widths seen so far (chat text repeats the same few hundred clusters). */
const widths = new Map<string, number>();
const MAX_CACHED = 4096;

/**
 * Text is segmented this many UTF-16 units at a time: V8's Segmenter takes time quadratic in the
 * length of what it segments (20,000 characters: 110 ms; 70,000: 1.4 s).
 */
const CHUNK = 256;

/** Printable ASCII only: every character is a cluster of its own, one cell wide. */
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/**
 * The grapheme clusters of `text`, in order. A boundary depends only on what comes before it and
 * the code point after it, so text can be segmented a chunk at a time, each chunk starting again
 * at the cluster the previous one ended with (which more text may extend). Plain ASCII, where
 * every character is a cluster, is not segmented at all.
 */
export function graphemes(text: string): string[] {
  if (PLAIN_ASCII.test(text)) return text.split('');
  const out: string[] = [];
  let from = 0;
  while (from < text.length) {
    // Printable ASCII followed by printable ASCII (or the end) is a cluster of its own.
    const code = text.charCodeAt(from);
    const next = from + 1 < text.length ? text.charCodeAt(from + 1) : 0x20;
    if (code >= 0x20 && code < 0x7f && next >= 0x20 && next < 0x7f) {
      out.push(text[from] as string);
      from++;
      continue;
    }
    let to = Math.min(text.length, from + CHUNK);
    // Never cut a surrogate pair: half a code point would look like a cluster of its own.
    const before = text.charCodeAt(to - 1);
    if (to < text.length && before >= 0xd800 && before < 0xdc00) to--;
    let last: { segment: string; index: number } | undefined;
    for (const piece of segmenter.segment(text.slice(from, to))) {
      if (last) out.push(last.segment);
      last = piece;
    }
    if (!last) break;
    if (to === text.length || last.index === 0) {
      // The end of the text; or one cluster longer than a chunk (a letter under hundreds of marks).
      out.push(last.segment);
      from += last.index + last.segment.length;
    } else {
      // The chunk's last cluster may go on past the cut: segment again from its start.
      from += last.index;
    }
  }
  return out;
}

/** The cells one grapheme cluster takes: 0 (invisible: controls, lone marks, joiners), 1 or 2. */
export function clusterWidth(cluster: string): number {
  if (cluster.length === 1) {
    const code = cluster.charCodeAt(0);
    if (code >= 0x20 && code < 0x7f) return 1;
  }
  let width = widths.get(cluster);
  if (width === undefined) {
    width = Math.min(2, stringWidth(cluster));
    if (widths.size >= MAX_CACHED) widths.clear();
    widths.set(cluster, width);
  }
  return width;
}

/** The cells `text` takes on one row. */
export function textWidth(text: string): number {
  let total = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Plain ASCII needs no segmenting (most of what is measured). Past it, the cluster may have
    // begun with the ASCII character before (a keycap: 1 + U+FE0F + U+20E3).
    if (code < 0x20 || code >= 0x7f)
      return i === 0 ? clustersWidth(text) : total - 1 + clustersWidth(text.slice(i - 1));
    total++;
  }
  return total;
}

function clustersWidth(text: string): number {
  let total = 0;
  for (const cluster of graphemes(text)) total += clusterWidth(cluster);
  return total;
}

/** `text` cut to at most `width` cells, whole clusters only, with "…" when something was cut. */
export function fitWidth(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const cluster of graphemes(text)) {
    const w = clusterWidth(cluster);
    if (used + w > width - 1) break;
    out += cluster;
    used += w;
  }
  return `${out}…`;
}

/** `text` cut from its start to at most `width` cells, whole clusters only, with "…" first when something was cut (a path keeps its last, most telling part). */
export function fitWidthFromStart(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  const clusters = graphemes(text);
  let out = '';
  let used = 0;
  for (let i = clusters.length - 1; i >= 0; i--) {
    const cluster = clusters[i] as string;
    const w = clusterWidth(cluster);
    if (used + w > width - 1) break;
    out = cluster + out;
    used += w;
  }
  return `…${out}`;
}
