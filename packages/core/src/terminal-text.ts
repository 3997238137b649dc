/**
 * Text from a peer is shown on our terminal. Control characters (escape sequences among them)
 * could move the cursor, recolour or retitle it; bidirectional overrides and isolates could make
 * text read differently from what it is (the "Trojan Source" trick). Every front-end shows peer
 * text through this.
 */
const unsafe = /(?![\t\n])\p{Cc}|[\u202a-\u202e\u2066-\u2069]/gu;
/**
 * Combining marks past the 30th in a row: Unicode's stream-safe limit (UAX #15), more than any
 * script writes on one letter. 10,000 on one letter can draw over the lines around it in some
 * terminals (and cost every width computation that walks the cluster).
 */
const tooManyMarks = /(\p{M}{30})\p{M}+/gu;

/**
 * Replaces control characters (but tab and newline) and bidi controls with U+FFFD, and drops the
 * combining marks past the 30th on one letter.
 */
export function terminalSafe(text: string): string {
  return text.replace(unsafe, '\uFFFD').replace(tooManyMarks, '$1');
}
