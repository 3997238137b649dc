/**
 * blessed (unchanged since 2016) has no "dim" attribute (SGR 2), which is how old lines are shown
 * faint on any theme without picking a colour. It does have "invisible" (SGR 8), which netchat
 * never needs: lines are styled `{invisible}` and what blessed writes is rewritten so that SGR
 * 8 reads SGR 2 (and 28, its end, reads 22).
 */
export const DIM: readonly [string, string] = ['{invisible}', '{/invisible}'];

const ESC = String.fromCharCode(27);
const SGR = new RegExp(`${ESC}\\[([\\d;]*)m`, 'g');

/** `text` with every SGR 8 turned into 2 and 28 into 22; colour arguments (38;5;8 …) untouched. */
export function invisibleAsDim(text: string): string {
  if (!text.includes('8')) return text;
  return text.replace(SGR, (_sequence, list: string) => {
    const params = list.split(';');
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      // 38;5;N, 48;5;N, 38;2;R;G;B, 48;2;R;G;B: skip the arguments.
      if ((p === '38' || p === '48') && params[i + 1] === '5') i += 2;
      else if ((p === '38' || p === '48') && params[i + 1] === '2') i += 4;
      else if (p === '8') params[i] = '2';
      else if (p === '28') params[i] = '22';
    }
    return `${ESC}[${params.join(';')}m`;
  });
}
