/**
 * Shell completion for bash, zsh and fish, written from the program's own `--help` text: the options
 * listed there are the options completed, so the two cannot drift apart. `--connect` completes
 * where known peers were last seen (`<program> completion peers` lists them).
 * Imports nothing, so `completion bash` answers as fast as `--help`.
 */
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
  if (shell === 'fish') return fishScript(program, options);
  return shell === 'bash' ? bashScript(program, options) : zshScript(program, options);
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

function bashScript(program: string, options: UsageOption[]): string {
  const words = options.flatMap((o) => [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])]).join(' ');
  const cases = options
    .filter((o) => o.value)
    .map((o) => {
      const names = [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])].join('|');
      if (o.long === 'connect')
        return `    ${names}) _netchat_words "$(${program} completion peers 2>/dev/null)"; return ;;`;
      if (choices(o).length > 0) return `    ${names}) _netchat_words "${choices(o).join(' ')}"; return ;;`;
      if (o.value === 'FILE') return `    ${names}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`;
      return `    ${names}) return ;;`;
    })
    .join('\n');
  const fn = functionName(program);
  return `# bash completion for ${program}. Load it with: source <(${program} completion bash)
# (or save it as ~/.local/share/bash-completion/completions/${program}).
_netchat_words() {
  # Words containing ":" (HOST:PORT) would be split by bash at the colon: complete the whole
  # word, then give back only the part after the last colon, as bash-completion does.
  COMPREPLY=($(compgen -W "$1" -- "$cur"))
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
  case $prev in
${cases}
  esac
  if [[ $cur == -* ]]; then _netchat_words "${words}"; fi
}
complete -F ${fn} ${program}
`;
}

/** Text for inside single quotes in fish (only \\ and \' are special there). */
function fishText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}

function fishScript(program: string, options: UsageOption[]): string {
  const lines = options.map((o) => {
    const names = `${o.short ? `-s ${o.short} ` : ''}-l ${o.long}`;
    const described = `-d '${fishText(o.description)}'`;
    if (!o.value) return `complete -c ${program} ${names} ${described}`;
    if (o.long === 'connect')
      return `complete -c ${program} ${names} -x -a '(${program} completion peers 2>/dev/null)' ${described}`;
    if (choices(o).length > 0)
      return `complete -c ${program} ${names} -x -a '${choices(o).join(' ')}' ${described}`;
    if (o.value === 'FILE') return `complete -c ${program} ${names} -r -F ${described}`;
    return `complete -c ${program} ${names} -x ${described}`;
  });
  return `# fish completion for ${program}. Load it with: ${program} completion fish | source
# (or save it as ~/.config/fish/completions/${program}.fish).
complete -c ${program} -f
${lines.join('\n')}
`;
}

/** Text for inside a single-quoted zsh _arguments spec: brackets and colons escaped for _arguments. */
function zshText(text: string): string {
  return text.replace(/([[\]:\\])/g, '\\$1').replace(/'/g, "'\\''");
}

function zshScript(program: string, options: UsageOption[]): string {
  const specs = options.map((o) => {
    const description = zshText(o.description);
    let action = '';
    if (o.value) {
      const label = zshText(o.value.toLowerCase());
      if (o.long === 'connect') action = `:${label}:->peers`;
      else if (choices(o).length > 0) action = `:${label}:(${choices(o).join(' ')})`;
      else if (o.value === 'FILE') action = `:${label}:_files`;
      else action = `:${label}: `;
    }
    // A repeatable option (--allow, the bot's --connect) may be given again: prefix with '*'.
    const repeat = /repeatable/.test(o.description) ? '*' : '';
    if (o.short) return `    '(-${o.short} --${o.long})'{-${o.short},--${o.long}}'[${description}]${action}'`;
    return `    '${repeat}--${o.long}[${description}]${action}'`;
  });
  const fn = functionName(program);
  return `#compdef ${program}
# zsh completion for ${program}. Load it with: source <(${program} completion zsh)
# (after compinit), or save it as _${program} in a directory of your $fpath.
${fn}() {
  local state
  _arguments -s \\
${specs.join(' \\\n')} \\
    '1:port (0 picks a free one): '
  if [[ $state == peers ]]; then
    local -a peers
    peers=(\${(f)"$(${program} completion peers 2>/dev/null)"})
    compadd -a peers
  fi
}
compdef ${fn} ${program}
`;
}
