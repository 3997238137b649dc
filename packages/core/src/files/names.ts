/**
 * The path a peer offers becomes a relative path inside the download folder, or is refused
 * (PROTOCOL.md, "Files: names"). Refused: what cannot be meant innocently (climbing out with
 * `..`, an absolute path, a NUL) and what no conforming sender produces (an empty component).
 * Made safe: what can (a control character, a backslash, a name Windows reserves, a hidden or
 * option-like name, a name over 255 bytes). The result is the same on every platform (so a
 * folder received on Linux can be copied to a Windows disk, and the vectors hold everywhere),
 * and is already safe: `safeRelativePath(result.path)` gives it back unchanged.
 */
import { fitName, splitExtension, utf8Bytes } from './name-parts.js';

/** Longest file or folder name, in UTF-8 bytes (ext4, NTFS, APFS: 255). */
export const MAX_NAME_BYTES = 255;
/** Longest path a peer may offer, and longest safe path, in UTF-8 bytes. */
export const MAX_PATH_BYTES = 1024;
/** Most components (folders and the file's name) in a path. */
export const MAX_PATH_DEPTH = 32;

/** Why a path was refused, in the order the checks run (the first that applies is the reason). */
export type NameRefusal =
  /** Nothing is left: an empty path, or only `.` components. */
  | 'empty'
  /** More than MAX_PATH_BYTES, before or after it was made safe. */
  | 'too_long'
  | 'nul'
  /** Starts with `/` or `\` (a root, a UNC path), or with a drive letter, a colon, then `/`, `\` or nothing. */
  | 'absolute'
  /** `a//b`, a trailing `/`. */
  | 'empty_component'
  /** A `..` component, wherever it is. */
  | 'parent'
  /** More than MAX_PATH_DEPTH components. */
  | 'too_deep';

export type SafePath =
  | { readonly ok: true; readonly path: string; readonly changed: boolean }
  | { readonly ok: false; readonly reason: NameRefusal };

/**
 * Characters replaced by `_`: control characters (C0 but NUL, DEL, C1), line and paragraph
 * separators, bidirectional controls (a name must read as it is: `gpj.exe` shown as `exe.jpg`),
 * lone surrogates (not Unicode text), `\` (a separator on Windows), and `<>:"|?*` (not allowed in
 * Windows names; `:` also opens an NTFS stream).
 */
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\\<>:"|?*]/gu;
/** Windows device names, whatever the extension (`nul.tar.gz` is the device too), any case. */
const RESERVED = /^(?:con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])$/iu;
/** A root or UNC path (`/x`, `\\srv\share`), or a drive's root (`C:`, `C:/x`, `C:\x`); `c:x` is only made safe (`c_x`). */
const ABSOLUTE = /^(?:[/\\]|[A-Za-z]:(?:[/\\]|$))/;
/** Trailing dots and spaces: Windows drops them (`a.` would be `a`). */
const TRAILING = /[. ]+$/u;
/** A first character that hides the file (`.`), reads as an option (`-rf`) or as the home folder (`~`). */
const LEADING = /^[.\-~]/u;

export function safeRelativePath(wirePath: string): SafePath {
  if (wirePath === '') return refuse('empty');
  if (utf8Bytes(wirePath) > MAX_PATH_BYTES) return refuse('too_long');
  if (wirePath.includes('\0')) return refuse('nul');
  if (ABSOLUTE.test(wirePath)) return refuse('absolute');
  const components: string[] = [];
  for (const component of wirePath.split('/')) {
    if (component === '') return refuse('empty_component');
    if (component === '..') return refuse('parent');
    if (component === '.') continue;
    components.push(safeName(component));
  }
  if (components.length === 0) return refuse('empty');
  if (components.length > MAX_PATH_DEPTH) return refuse('too_deep');
  const path = components.join('/');
  // A reserved name's `_` adds a byte: the result obeys the same bound as what was offered.
  if (utf8Bytes(path) > MAX_PATH_BYTES) return refuse('too_long');
  return { ok: true, path, changed: path !== wirePath };
}

/**
 * One component (not empty, not `.` or `..`, no `/`, no NUL) made safe, in this order:
 * unsafe characters become `_`; a reserved device name gets a `_` in front; a name over 255
 * bytes is cut (keeping its extension); trailing dots and spaces become `_`; a first `.`, `-` or
 * `~` becomes `_`. None of these makes a later one apply again.
 */
export function safeName(component: string): string {
  let name = component.replace(UNSAFE, '_');
  if (isReserved(name)) name = `_${name}`;
  if (utf8Bytes(name) > MAX_NAME_BYTES) {
    const [stem, extension] = splitExtension(name);
    name = fitName(stem, extension, MAX_NAME_BYTES);
  }
  name = name.replace(TRAILING, (run) => '_'.repeat(run.length));
  if (LEADING.test(name)) name = `_${name.slice(1)}`;
  return name;
}

/** Whether Windows takes `name` for a device: its part before the first dot, less trailing spaces. */
export function isReserved(name: string): boolean {
  const dot = name.indexOf('.');
  const base = (dot < 0 ? name : name.slice(0, dot)).replace(/ +$/u, '');
  return RESERVED.test(base);
}

function refuse(reason: NameRefusal): SafePath {
  return { ok: false, reason };
}
