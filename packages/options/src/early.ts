/**
 * What a program can answer before it loads anything heavy: `--help`, `--version` and
 * `completion bash|zsh`. This module imports nothing but node built-ins (no zod, no crypto, no
 * engine), so the installed commands answer these as fast as Node starts (see the `startup`
 * benchmark). A command line it does not recognise gets `undefined`: the full parser decides.
 */
import { completionScript, SHELLS, type Shell } from './completion.js';

export interface EarlyProgram {
  /** As typed: netchat, netchat-bot, netchat-tui. */
  name: string;
  usage: string;
  /** Read only when asked: the version lives in a package.json the program may not need. */
  version: () => string;
}

/**
 * The text to print (exit code 0) for a command line that is only `--help`, `-h`, `--version`,
 * `-V` or `completion SHELL`; otherwise undefined. Any other line, even one with --help in it,
 * goes to the full parser, which treats it exactly as before (so `--nick --help` stays an error).
 */
export function earlyAnswer(program: EarlyProgram, argv: readonly string[]): string | undefined {
  const [first, second] = argv;
  if (argv.length === 1 && (first === '--help' || first === '-h')) return program.usage;
  if (argv.length === 1 && (first === '--version' || first === '-V'))
    return `${program.name} ${program.version()}\n`;
  if (argv.length === 2 && first === 'completion' && SHELLS.includes(second as Shell))
    return completionScript(program.name, program.usage, second as Shell);
  return undefined;
}

/** Prints the early answer and exits 0, or returns false when the full program must run. */
export function answerEarly(program: EarlyProgram, argv: readonly string[] = process.argv.slice(2)): boolean {
  const text = earlyAnswer(program, argv);
  if (text === undefined) return false;
  process.stdout.write(text, () => process.exit(0));
  return true;
}
