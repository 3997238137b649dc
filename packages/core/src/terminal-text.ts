/**
 * Text from a peer is shown on our terminal. Control characters (escape sequences among them)
 * could move the cursor, recolour or retitle it; bidirectional overrides and isolates could make
 * text read differently from what it is (the "Trojan Source" trick). Every front-end shows peer
 * text through this.
 */
const unsafe = /(?![\t\n])\p{Cc}|[\u202a-\u202e\u2066-\u2069]/gu;

/** Replaces control characters (but tab and newline) and bidi controls with U+FFFD. */
export function terminalSafe(text: string): string {
  return text.replace(unsafe, '\uFFFD');
}
