/**
 * Text from a peer is shown on our terminal: control characters (escape sequences among them)
 * could move the cursor, recolour or retitle it. Every front-end shows peer text through this.
 */
const controls = /(?![\t\n])\p{Cc}/gu;

/** Replaces control characters (but tab and newline) with U+FFFD. */
export function terminalSafe(text: string): string {
  return text.replace(controls, '\uFFFD');
}
