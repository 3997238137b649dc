/**
 * A byte count in words for people: `812 bytes`, `1 byte`, `2.4 MB`, `15 GB` (SI units, three
 * significant figures at most). Core's own messages use it (a folder without room), and the
 * chat front-ends for every size and rate they show, so a size reads the same everywhere.
 */
const UNITS = ['kB', 'MB', 'GB', 'TB', 'PB'];

export function sizeText(bytes: number): string {
  if (bytes < 1000) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes / 1000;
  let unit = 0;
  // 999.5 and up would show as 1000 of this unit (no decimals above 100): the next unit says 1.
  while (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const shown = value >= 100 ? value.toFixed(0) : value.toFixed(1);
  return `${shown.replace(/\.0$/, '')} ${UNITS[unit]}`;
}

/**
 * Two byte counts in words that tell them apart (a size against a limit): exact bytes when the
 * rounded words would read the same (`5000001 bytes` against `5000000 bytes`, not `5 MB` twice).
 */
export function sizesApart(a: number, b: number): [string, string] {
  const words: [string, string] = [sizeText(a), sizeText(b)];
  return words[0] === words[1] && a !== b ? [`${a} bytes`, `${b} bytes`] : words;
}
