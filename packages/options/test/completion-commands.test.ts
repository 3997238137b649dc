/** Completion of commands (`netchat history NAME`, `netchat contacts verify FINGERPRINT`) from the usage text and the known peers. */
import { KnownPeers } from '@netchat/core';
import { temporaryDirectory } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import {
  completionScript,
  completionWords,
  knownPeerFingerprints,
  knownPeerNames,
  nextWords,
  usageCommands,
} from '../src/index.js';

const usage = `Usage: demo [options] <port>

Options:
  --host ADDR                 bind to this IP address
  -y, --yes                   accept every request

Commands:
  demo history NAME [--json] [--grep TEXT]   print the chat history with a peer
  demo contacts [--json]                     list known peers
  demo contacts forget NAME                  forget a peer
  demo contacts rename NAME NEW              rename a peer
  demo contacts verify FINGERPRINT           verify a key
  demo completion bash|zsh|fish              print a shell completion script

Example:
  demo 5555                       # then type: 127.0.0.1 6666
`;
const commands = usageCommands('demo', usage);

describe('the commands a usage page lists', () => {
  it('are read with their words, arguments and options; examples are not commands', () => {
    expect(commands).toEqual([
      {
        words: ['history'],
        args: ['NAME'],
        options: [{ long: 'json' }, { long: 'grep', value: 'TEXT' }],
        description: 'print the chat history with a peer',
      },
      { words: ['contacts'], args: [], options: [{ long: 'json' }], description: 'list known peers' },
      { words: ['contacts', 'forget'], args: ['NAME'], options: [], description: 'forget a peer' },
      { words: ['contacts', 'rename'], args: ['NAME', 'NEW'], options: [], description: 'rename a peer' },
      { words: ['contacts', 'verify'], args: ['FINGERPRINT'], options: [], description: 'verify a key' },
      {
        words: ['completion'],
        args: ['bash|zsh|fish'],
        options: [],
        description: 'print a shell completion script',
      },
    ]);
    expect(usageCommands('other', usage)).toEqual([]);
  });

  it('say what may come next: a command, a sub-command, a choice, a placeholder, or the options', () => {
    const next = (...typed: string[]) => nextWords(commands, typed);
    expect(next('')).toEqual({ words: ['history', 'contacts', 'completion'], placeholders: [] });
    expect(next('contacts', '')).toEqual({ words: ['forget', 'rename', 'verify'], placeholders: [] });
    expect(next('contacts', 'verify', 'AB')).toEqual({ words: [], placeholders: ['FINGERPRINT'] });
    expect(next('contacts', 'rename', '')).toEqual({ words: [], placeholders: ['NAME'] });
    expect(next('contacts', 'rename', 'bob', '')).toEqual({ words: [], placeholders: ['NEW'] });
    expect(next('contacts', 'rename', 'bob', 'x', '')).toEqual({ words: [], placeholders: [] });
    expect(next('history', '')).toEqual({ words: [], placeholders: ['NAME'] });
    expect(next('history', '--json', '')).toEqual({ words: [], placeholders: ['NAME'] });
    expect(next('history', 'bob', '--')).toEqual({ words: ['--json', '--grep'], placeholders: [] });
    // The value of --grep is the person's to type.
    expect(next('history', '--grep', '')).toEqual({ words: [], placeholders: [] });
    expect(next('history', '--grep', 'x', '')).toEqual({ words: [], placeholders: ['NAME'] });
    expect(next('completion', '')).toEqual({ words: ['bash', 'zsh', 'fish'], placeholders: [] });
    expect(next('5555', '')).toEqual({ words: [], placeholders: [] });
  });
});

describe('names from the known peers', () => {
  function home(): string {
    const dir = temporaryDirectory('netchat-options-');
    const peers = KnownPeers.load(dir);
    const key = (n: number) => n.toString(16).padStart(64, '0');
    peers.remember(key(1), 'bob', 'BBBB-BBBB-BBBB-BBBB', { at: new Date('2026-01-06') });
    peers.remember(key(2), '$(touch pwned)', 'CCCC-CCCC-CCCC-CCCC', { at: new Date('2026-01-05') });
    peers.remember(key(3), 'carol smith', 'DDDD-DDDD-DDDD-DDDD', { at: new Date('2026-01-04') });
    peers.remember(key(4), 'Dup', 'EEEE-EEEE-EEEE-EEEE', { at: new Date('2026-01-03') });
    peers.remember(key(5), 'dup', 'FFFF-FFFF-FFFF-FFFF', { at: new Date('2026-01-02') });
    peers.remember(key(6), 'Zoë', 'GGGG-GGGG-GGGG-GGGG', { at: new Date('2026-01-01') });
    peers.remember(key(7), '-rf', 'HHHH-HHHH-HHHH-HHHH', { at: new Date('2025-12-31') });
    return dir;
  }

  it('are nicks where they are plain words no other peer has; else the fingerprint (never a word a shell would run, split or take for an option)', () => {
    expect(knownPeerNames(home())).toEqual([
      'bob',
      'CCCC-CCCC-CCCC-CCCC',
      'DDDD-DDDD-DDDD-DDDD',
      'EEEE-EEEE-EEEE-EEEE',
      'FFFF-FFFF-FFFF-FFFF',
      'Zoë',
      'HHHH-HHHH-HHHH-HHHH',
    ]);
    expect(knownPeerFingerprints(home())).toHaveLength(7);
    expect(knownPeerNames(temporaryDirectory('netchat-options-'))).toEqual([]);
  });

  it('fill NAME and FINGERPRINT in what a program offers after its commands', () => {
    const dir = home();
    const program = { name: 'demo', version: '1', usage };
    expect(completionWords(program, ['contacts', 'verify', ''], dir)).toEqual(knownPeerFingerprints(dir));
    expect(completionWords(program, ['history', ''], dir)).toEqual(knownPeerNames(dir));
    expect(completionWords(program, ['contacts', 'rename', 'bob', ''], dir)).toEqual([]);
  });
});

describe('the scripts, for a program with commands', () => {
  it('bash offers the commands first, then asks the program, and never expands a word', () => {
    const script = completionScript('demo', usage, 'bash');
    expect(script).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
      '_netchat_words "$(demo completion words -- "${typed[@]:1}" "$cur" 2>/dev/null)"',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
    expect(script).toContain('elif ((${#typed[@]} == 1)); then _netchat_words "history contacts completion"');
    expect(script).not.toMatch(/compgen -W "/);
  });

  it('zsh and fish ask the program after a command, and offer the commands with their descriptions', () => {
    expect(completionScript('demo', usage, 'zsh')).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
      'next=(${(f)"$(demo completion words -- "${(@Q)words[2,CURRENT]}" 2>/dev/null)"})',
    );
    const fish = completionScript('demo', usage, 'fish');
    expect(fish).toContain(
      "complete -c demo -n __fish_use_subcommand -a history -d 'print the chat history with a peer'",
    );
    expect(fish).toContain(
      "complete -c demo -n '__fish_seen_subcommand_from history contacts completion' -x -a '(demo completion words -- (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'",
    );
  });

  it('a program without commands gets no command lines', () => {
    const plain = usage.slice(0, usage.indexOf('Commands:'));
    expect(completionScript('demo', plain, 'bash')).not.toContain('completion words');
    expect(completionScript('demo', plain, 'zsh')).toContain("'1:port (0 picks a free one): '");
    expect(completionScript('demo', plain, 'fish')).not.toContain('__fish_seen_subcommand_from');
  });
});
