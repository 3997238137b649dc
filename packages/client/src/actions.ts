/**
 * Actions (`/me waves`): a text message whose text starts with the marker `/me ` (PROTOCOL.md,
 * "Actions") is shown as `* bob waves` instead of `bob: /me waves`. A peer that does not know the
 * marker shows the text as it is, which still reads right.
 */

/** The four bytes an action's text starts with: `/`, `m`, `e`, space. */
export const ACTION_PREFIX = '/me ';

/** The text to send for the action `does` ("waves" → "/me waves"). */
export function actionText(does: string): string {
  return `${ACTION_PREFIX}${does}`;
}

/** What an action's sender does ("/me waves" → "waves"), or undefined for a plain message. */
export function actionOf(text: string): string | undefined {
  return text.startsWith(ACTION_PREFIX) ? text.slice(ACTION_PREFIX.length) : undefined;
}
