/**
 * The commands a usage page lists (`netchat history NAME [--json] [--grep TEXT]`, `netchat
 * contacts rename NAME NEW`, `netchat completion bash|zsh|fish`), and what may come next on a
 * command line that starts with one: a sub-command word, a choice, a placeholder (NAME,
 * FINGERPRINT) for the program to fill from the known peers, or the command's options. Read from
 * the same `--help` text as the options, so completion offers what the help lists. The shells'
 * scripts ask `<program> completion words -- WORD…` for it. Imports nothing.
 */

/** One command of a usage page. */
export interface UsageCommand {
  /** The words that name it: ['history'], or ['contacts', 'rename']. */
  words: string[];
  /** What follows them, in order: placeholders (NAME, NEW, FINGERPRINT) or choices (`bash|zsh|fish`). */
  args: string[];
  /** Its options, as written in brackets: `[--json]`, `[--grep TEXT]`. */
  options: { long: string; value?: string }[];
  description: string;
}

/** The commands `usage` lists for `program`, in its order: lines `  <program> word… ARG… [--opt]   description`. */
export function usageCommands(program: string, usage: string): UsageCommand[] {
  const line = new RegExp(`^ {2}${program.replace(/[^\w-]/g, '\\$&')} (\\S.*?)\\s{2,}(\\S.*)$`);
  const commands: UsageCommand[] = [];
  for (const text of usage.split('\n')) {
    const match = line.exec(text);
    if (!match) continue;
    const command: UsageCommand = { words: [], args: [], options: [], description: match[2] ?? '' };
    const tokens = (match[1] ?? '').split(' ');
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i] ?? '';
      if (token.startsWith('[--')) {
        const long = token.replace(/^\[--|\]$/g, '');
        const value = token.endsWith(']') ? undefined : tokens[++i]?.replace(/\]$/, '');
        command.options.push({ long, ...(value && { value }) });
      } else if (/^[a-z][a-z-]*$/.test(token) && command.args.length === 0) command.words.push(token);
      else command.args.push(token);
    }
    // An example such as `netchat 5555   # then type …` is not a command.
    if (command.words.length > 0) commands.push(command);
  }
  return commands;
}

/** What may come next: words to offer as they are, and placeholders for the program to fill. */
export interface NextWords {
  words: string[];
  /** NAME, FINGERPRINT, …: what the words at this place stand for. */
  placeholders: string[];
}

/**
 * What may come at the last word of `typed` (the words after the program name; the last one is
 * the word being completed, perhaps empty). An option being typed (`-…`) gets the options of the
 * commands that fit; a word after a command's words gets what its place holds.
 */
export function nextWords(commands: readonly UsageCommand[], typed: readonly string[]): NextWords {
  const current = typed.at(-1) ?? '';
  const before = typed.slice(0, -1);
  const next: NextWords = { words: [], placeholders: [] };
  const add = (into: string[], word: string) => {
    if (!into.includes(word)) into.push(word);
  };
  if (before.length === 0) {
    for (const c of commands) add(next.words, c.words[0] ?? '');
    return next;
  }
  const named = commands.filter((c) => c.words[0] === before[0]);
  const valued = new Set(named.flatMap((c) => c.options.filter((o) => o.value).map((o) => `--${o.long}`)));
  const positionals: string[] = [];
  let optionValue = false;
  for (const word of before) {
    if (optionValue) optionValue = false;
    else if (word.startsWith('-')) optionValue = valued.has(word);
    else positionals.push(word);
  }
  // The value of an option such as --grep TEXT: nothing to offer.
  if (optionValue) return next;
  const fitting = named.filter((c) =>
    positionals.every((word, i) => i >= c.words.length || c.words[i] === word),
  );
  for (const c of fitting) {
    if (current.startsWith('-')) {
      if (positionals.length >= c.words.length) for (const o of c.options) add(next.words, `--${o.long}`);
      continue;
    }
    const place = positionals.length;
    if (place < c.words.length) add(next.words, c.words[place] ?? '');
    else {
      const arg = c.args[place - c.words.length];
      if (arg?.includes('|')) for (const choice of arg.split('|')) add(next.words, choice);
      else if (arg) add(next.placeholders, arg);
    }
  }
  return next;
}
