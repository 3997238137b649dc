/**
 * Shell completion for bash, zsh and fish, written from the program's own `--help` text: the options
 * listed there are the options completed, so the two cannot drift apart. `--connect` completes
 * where known peers were last seen (`<program> completion peers` lists them). The commands the
 * text lists (`netchat history NAME`, `netchat contacts verify FINGERPRINT`) complete their words,
 * and their arguments from the known peers, by asking `<program> completion words -- WORD…`
 * (completion-commands.ts). No word offered is ever expanded by the shell: a nick is the peer's
 * choice, and completing must not run it. A FILE or PATH value completes file names, a DIR one
 * folders (`--send-file`, `--download-dir`).
 * Imports nothing heavy, so `completion bash` answers as fast as `--help`.
 */
import { type UsageCommand, usageCommands } from './completion-commands.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** One option line of a usage page, e.g. `  -y, --yes   accept every …` or `  --accept all|none|allow   …`. */
export interface UsageOption {
  long: string;
  short?: string;
  /** The value's name (`ADDR`, `HOST:PORT`) or its choices (`all|none|allow`); none for a switch. */
  value?: string;
  description: string;
}

const OPTION_LINE = /^ {2}(?:-(\w), )?--([\w-]+)(?: (\S+))?\s{2,}(.*)$/;

/** The options a usage page lists, in its order (`-h, --help` and `-V, --version` included). */
export function usageOptions(usage: string): UsageOption[] {
  const options: UsageOption[] = [];
  for (const line of usage.split('\n')) {
    const match = OPTION_LINE.exec(line);
    if (!match) continue;
    const [, short, long = '', value, description = ''] = match;
    options.push({
      long,
      description: description.trim(),
      ...(short ? { short } : {}),
      ...(value ? { value } : {}),
    });
  }
  return options;
}

/** The fixed choices of an option's value (`all|none|allow`), if it has some. */
function choices(option: UsageOption): string[] {
  return option.value?.includes('|') ? option.value.split('|') : [];
}

/** A shell function name made from the program name (`netchat-tui` → `_netchat_tui`). */
function functionName(program: string): string {
  return `_${program.replace(/\W/g, '_')}`;
}

export function completionScript(program: string, usage: string, shell: Shell): string {
  const options = usageOptions(usage);
  const commands = usageCommands(program, usage);
  if (shell === 'fish') return fishScript(program, options, commands);
  return shell === 'bash' ? bashScript(program, options, commands) : zshScript(program, options, commands);
}

/** The first words of the commands (history, contacts, completion), once each, with the first one's description. */
function commandNames(commands: readonly UsageCommand[]): { name: string; description: string }[] {
  const names = new Map<string, string>();
  for (const c of commands) if (c.words[0] && !names.has(c.words[0])) names.set(c.words[0], c.description);
  return [...names].map(([name, description]) => ({ name, description }));
}

/**
 * What `completion` with no shell, or one we have no script for, says (exit code 2): which
 * shells there are, and how to load one.
 */
export function completionProblem(program: string, shell: string | undefined): string {
  const shells = (last: string) => `${SHELLS.slice(0, -1).join(', ')} ${last} ${SHELLS.at(-1)}`;
  return shell === undefined
    ? `completion needs a shell: ${shells('or')} (e.g. source <(${program} completion bash))`
    : `no completion for "${shell}": the shells are ${shells('and')}`;
}

function bashScript(program: string, options: UsageOption[], commands: UsageCommand[]): string {
  const words = options.flatMap((o) => [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])]).join(' ');
  const cases = options
    .filter((o) => o.value)
    .map((o) => {
      const names = [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])].join('|');
      if (o.long === 'connect')
        return `    ${names}) _netchat_words "$(${program} completion peers 2>/dev/null)"; return ;;`;
      if (choices(o).length > 0) return `    ${names}) _netchat_words "${choices(o).join(' ')}"; return ;;`;
      if (o.value === 'FILE' || o.value === 'PATH')
        return `    ${names}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`;
      if (o.value === 'DIR') return `    ${names}) COMPREPLY=($(compgen -d -- "$cur")); return ;;`;
      return `    ${names}) return ;;`;
    })
    .join('\n');
  const fn = functionName(program);
  const names = commandNames(commands).map((c) => c.name);
  const commandLines =
    names.length === 0
      ? ''
      : `  # A command (${names.join(', ')}): the program says what may come next.
  if ((\${#typed[@]} > 1)) && [[ " ${names.join(' ')} " == *" \${typed[1]} "* ]]; then
    _netchat_words "$(${program} completion words -- "\${typed[@]:1}" "$cur" 2>/dev/null)"
    return
  fi
`;
  const firstWord =
    names.length === 0
      ? ''
      : `
  elif ((\${#typed[@]} == 1)); then _netchat_words "${names.join(' ')}"`;
  return `# bash completion for ${program}. Load it with: source <(${program} completion bash)
# (or save it as ~/.local/share/bash-completion/completions/${program}).
_netchat_words() {
  # The words of $1 that start with what is typed, as they are: split at blanks, never expanded
  # (compgen -W would run a $(…) in a word). Words containing ":" (HOST:PORT) would be split by
  # bash at the colon: complete the whole word, then give back only the part after the last
  # colon, as bash-completion does.
  local IFS=$' \\t\\n' word
  local -a all
  read -rd '' -a all <<< "$1"
  COMPREPLY=()
  for word in "\${all[@]}"; do
    if [[ $word == "$cur"* ]]; then COMPREPLY+=("$word"); fi
  done
  if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
    local colon_prefix=\${cur%"\${cur##*:}"}
    local i=\${#COMPREPLY[@]}
    while ((i-- > 0)); do COMPREPLY[i]=\${COMPREPLY[i]#"$colon_prefix"}; done
  fi
}
${fn}() {
  # Split the line by spaces ourselves, so a HOST:PORT being typed is one word.
  local line=\${COMP_LINE:0:COMP_POINT}
  local cur=\${line##*[[:space:]]}
  local before=\${line%"$cur"}
  while [[ $before == *[[:space:]] ]]; do before=\${before%?}; done
  local prev=\${before##*[[:space:]]}
  local IFS=$' \\t\\n'
  local -a typed
  read -ra typed <<< "$before"
${commandLines}  case $prev in
${cases}
  esac
  if [[ $cur == -* ]]; then _netchat_words "${words}"${firstWord}
  fi
}
complete -F ${fn} ${program}
`;
}

/** Text for inside single quotes in fish (only \\ and \' are special there). */
function fishText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}

function fishScript(program: string, options: UsageOption[], commands: UsageCommand[]): string {
  const names = commandNames(commands);
  const list = names.map((c) => c.name).join(' ');
  // The program's options before a command; a command's own words and options come from the program.
  const beforeCommand = names.length === 0 ? '' : ` -n 'not __fish_seen_subcommand_from ${list}'`;
  const commandLines = names.flatMap((c) => [
    `complete -c ${program} -n __fish_use_subcommand -a ${c.name} -d '${fishText(c.description)}'`,
  ]);
  if (names.length > 0)
    commandLines.push(
      `complete -c ${program} -n '__fish_seen_subcommand_from ${list}' -x -a '(${program} completion words -- (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'`,
    );
  const lines = options.map((o) => {
    const names = `${o.short ? `-s ${o.short} ` : ''}-l ${o.long}${beforeCommand}`;
    const described = `-d '${fishText(o.description)}'`;
    if (!o.value) return `complete -c ${program} ${names} ${described}`;
    if (o.long === 'connect')
      return `complete -c ${program} ${names} -x -a '(${program} completion peers 2>/dev/null)' ${described}`;
    if (choices(o).length > 0)
      return `complete -c ${program} ${names} -x -a '${choices(o).join(' ')}' ${described}`;
    if (o.value === 'FILE' || o.value === 'PATH') return `complete -c ${program} ${names} -r -F ${described}`;
    if (o.value === 'DIR')
      return `complete -c ${program} ${names} -x -a '(__fish_complete_directories (commandline -ct))' ${described}`;
    return `complete -c ${program} ${names} -x ${described}`;
  });
  return `# fish completion for ${program}. Load it with: ${program} completion fish | source
# (or save it as ~/.config/fish/completions/${program}.fish).
complete -c ${program} -f
${[...lines, ...commandLines].join('\n')}
`;
}

/** Text for inside a single-quoted zsh _arguments spec: brackets and colons escaped for _arguments. */
function zshText(text: string): string {
  return text.replace(/([[\]:\\])/g, '\\$1').replace(/'/g, "'\\''");
}

function zshScript(program: string, options: UsageOption[], commands: UsageCommand[]): string {
  const specs = options.map((o) => {
    const description = zshText(o.description);
    let action = '';
    if (o.value) {
      const label = zshText(o.value.toLowerCase());
      if (o.long === 'connect') action = `:${label}:->peers`;
      else if (choices(o).length > 0) action = `:${label}:(${choices(o).join(' ')})`;
      else if (o.value === 'FILE' || o.value === 'PATH') action = `:${label}:_files`;
      else if (o.value === 'DIR') action = `:${label}:_files -/`;
      else action = `:${label}: `;
    }
    // A repeatable option (--allow, the bot's --connect) may be given again: prefix with '*'.
    const repeat = /repeatable/.test(o.description) ? '*' : '';
    if (o.short) return `    '(-${o.short} --${o.long})'{-${o.short},--${o.long}}'[${description}]${action}'`;
    return `    '${repeat}--${o.long}[${description}]${action}'`;
  });
  const fn = functionName(program);
  const names = commandNames(commands).map((c) => c.name);
  // After a command's word, the program says what may come next (words as typed, unquoted).
  const commandLines =
    names.length === 0
      ? ''
      : `  if (( CURRENT > 2 )) && [[ \${words[2]} == (${names.join('|')}) ]]; then
    local -a next
    next=(\${(f)"$(${program} completion words -- "\${(@Q)words[2,CURRENT]}" 2>/dev/null)"})
    compadd -a next
    return
  fi
`;
  const first =
    names.length === 0
      ? `'1:port (0 picks a free one): '`
      : `'1:port (0 picks a free one) or command:(${names.join(' ')})'`;
  return `#compdef ${program}
# zsh completion for ${program}. Load it with: source <(${program} completion zsh)
# (after compinit), or save it as _${program} in a directory of your $fpath.
${fn}() {
  local state
${commandLines}  _arguments -s \\
${specs.join(' \\\n')} \\
    ${first}
  if [[ $state == peers ]]; then
    local -a peers
    peers=(\${(f)"$(${program} completion peers 2>/dev/null)"})
    compadd -a peers
  fi
}
compdef ${fn} ${program}
`;
}
