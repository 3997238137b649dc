/**
 * A rules file's problems in the operator's words: where (`rule 3`, `"fallback"`), what is wrong,
 * and what to write instead, one line each, from zod's issues (whose own texts read
 * `Unrecognized key: "greting"` or `Invalid input: expected string, received number`).
 */
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** The keys a rules file may hold, at the top level and in each rule: for "did you mean". */
export interface RulesKeys {
  file: readonly string[];
  rule: readonly string[];
}

/**
 * The first problem worth fixing, as one line. An unknown key comes first, the top level's before
 * a rule's (as it is read): a typo (`"rply"`) also makes the key it meant look missing, and
 * naming the typo says both.
 */
export function describeRulesProblem(issues: readonly Issue[], json: unknown, keys: RulesKeys): string {
  const rank = (issue: Issue) => (issue.code === 'unrecognized_keys' ? issue.path.length : Infinity);
  const ordered = [...issues].sort((a, b) => rank(a) - rank(b));
  const [first] = ordered;
  if (!first) return 'is invalid';
  const more = ordered.length - 1;
  const after = more === 0 ? '' : ` (and ${more} more ${more === 1 ? 'problem' : 'problems'})`;
  return `${describeIssue(first, json, keys)}${after}`;
}

function describeIssue(issue: Issue, json: unknown, keys: RulesKeys): string {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const known = path.length === 0 ? keys.file : keys.rule;
    const names = issue.keys.map((key) => `"${key}"`).join(', ');
    const hint = issue.keys.length === 1 ? closest(issue.keys[0] ?? '', known) : undefined;
    const help = hint ? `did you mean "${hint}"?` : `the keys are ${known.map((k) => `"${k}"`).join(', ')}`;
    return `unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${names} ${container(path)} (${help})`;
  }
  if (issue.code === 'invalid_type') {
    const found = valueAt(json, path);
    if (found === undefined)
      return `${subject(path.slice(0, -1))} needs "${String(path.at(-1))}" (${expected(issue.expected)})`;
    return `${subject(path)} must be ${expected(issue.expected)}, not ${kindOf(found)}`;
  }
  return `${subject(path)} ${issue.message}`;
}

/** Where a value is: `"fallback"`, `rule 3`, `"match" in rule 3`, or `the file`. */
function subject(path: Path): string {
  if (path.length === 0) return 'the file';
  if (path.length === 2 && typeof path[1] === 'number') return `rule ${path[1] + 1}`;
  if (path.length === 3 && typeof path[1] === 'number') return `"${String(path[2])}" in rule ${path[1] + 1}`;
  return `"${path.map(String).join('.')}"`;
}

/** Where a key is: `at the top level` or `in rule 3`. */
function container(path: Path): string {
  return path.length === 0 ? 'at the top level' : `in ${subject(path)}`;
}

function expected(type: string): string {
  if (type === 'object') return 'an object ({ ... })';
  if (type === 'array') return 'a list ([ ... ])';
  return `a ${type}`;
}

/** What a JSON value is, in words: `a list`, `the number 3`, `true`. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
}

function valueAt(json: unknown, path: Path): unknown {
  let value = json;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * The known key a typo most likely meant: at most two edits away (an insertion, a deletion, a
 * change, or two letters swapped, as in "mtach"), and fewer than half its letters.
 */
export function closest(typed: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(typed.toLowerCase(), key.toLowerCase());
    if (distance <= 2 && distance * 2 < key.length && (!best || distance < best.distance))
      best = { key, distance };
  }
  return best?.key;
}

/** Optimal string alignment distance (Levenshtein with adjacent swaps), for short keys. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const change = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + change);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        distance = Math.min(distance, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = distance;
    }
  }
  return at(a.length, b.length);
}
