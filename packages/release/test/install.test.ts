/** The three commands as installed by `npm install -g`: on the PATH, as processes, with man pages and completion. */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KnownPeers } from '@netchat/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { home, type Installation, installGlobally, Running, repoRoot, run } from './installed.js';

const COMMANDS = [
  { name: 'netchat', app: 'apps/cli' },
  { name: 'netchat-tui', app: 'apps/tui' },
  { name: 'netchat-bot', app: 'apps/bot' },
];
const hasCommand = (name: string) => run('sh', ['-c', `command -v ${name}`], process.env).code === 0;

let installed: Installation;
const running: Running[] = [];
beforeAll(() => {
  installed = installGlobally();
}, 120_000);
afterEach(() => {
  for (const program of running.splice(0)) program.kill();
});

/** The same command run the development way: `node apps/…/dist/main.js`. */
function development(app: string, args: string[]) {
  return run(process.execPath, [join(repoRoot, app, 'dist', 'main.js'), ...args], installed.env);
}

describe('npm install -g of the built tarball (offline, empty npm cache, temporary prefix)', () => {
  it.each(COMMANDS)(
    'puts $name in the prefix bin folder, an executable file with a node shebang',
    ({ name }) => {
      const file = realpathSync(join(installed.bin, name));
      expect(statSync(file).mode & 0o111).not.toBe(0);
      expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    },
  );

  it.each(COMMANDS)(
    '$name answers --help, -h, --version and -V from any folder exactly as the built app does',
    ({ name, app }) => {
      for (const flag of ['--help', '-h', '--version', '-V']) {
        const got = run(name, [flag], installed.env);
        const want = development(app, [flag]);
        expect(got.code, `${name} ${flag}: ${got.stderr}`).toBe(0);
        expect(got.stdout).toBe(want.stdout);
        expect(got.stdout.length).toBeGreaterThan(10);
      }
    },
  );

  it.each(COMMANDS)(
    '$name refuses a bad command line as the built app does: one line, exit code 2',
    ({ name, app }) => {
      for (const args of [['--nick', '--help'], ['--bogus'], ['99999'], ['5555', 'extra']]) {
        const got = run(name, args, installed.env);
        expect(got.code).toBe(2);
        expect(got.stderr).toBe(development(app, args).stderr);
        expect(got.stderr.trim().split('\n')).toHaveLength(1);
      }
    },
  );

  it('netchat --fingerprint makes a key in NETCHAT_HOME and shows it', () => {
    const env = { ...installed.env, NETCHAT_HOME: home() };
    const got = run('netchat', ['--fingerprint'], env);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(
      /^Your fingerprint: [A-Z2-7]{4}(-[A-Z2-7]{4}){3}\nKey file: .*identity\.key\n$/,
    );
  });

  it('netchat starts a peer at its prompt, from a folder outside the repository, and exit quits it', async () => {
    const peer = new Running('netchat', ['0'], installed.env);
    running.push(peer);
    await peer.waitFor(
      /Listening on UDP port \d+\. .*\nYour fingerprint: .*\nStart chat with\? \(IP Port\): /,
    );
    peer.type('exit');
    expect(await peer.exit()).toBe(0);
  });

  it('netchat-bot run directly gets SIGTERM itself: it closes, logs its summary and exits 0', async () => {
    const bot = new Running('netchat-bot', ['0'], installed.env);
    running.push(bot);
    await bot.waitFor('"event":"listening"');
    bot.child.kill('SIGTERM');
    expect(await bot.exit(5_000)).toBe(0);
    expect(bot.stdout).toContain('"event":"summary"');
  });

  it.skipIf(!hasCommand('man'))(
    'man finds every page through the PATH alone (npm put them beside bin)',
    () => {
      for (const { name } of COMMANDS) {
        const found = run('man', ['-w', name], { ...installed.env, MANPATH: '' });
        expect(found.code, found.stderr).toBe(0);
        expect(realpathSync(found.stdout.trim())).toBe(
          realpathSync(join(installed.prefix, 'lib', 'node_modules', 'netchat', 'man', `${name}.1`)),
        );
        const page = run('man', [name], { ...installed.env, MANPATH: '', MANPAGER: 'cat', MANWIDTH: '80' });
        expect(page.stdout).toMatch(new RegExp(`NAME\\s+${name}\\s+-\\s`));
      }
    },
  );
});

describe('shell completion', () => {
  /** What bash offers for `line` (the cursor at its end), with the installed script loaded. */
  function bashOffers(program: string, line: string, env = installed.env): string[] {
    const script = `source <(${program} completion bash) && COMP_LINE='${line}' && COMP_POINT=\${#COMP_LINE} && _${program.replace(/-/g, '_')} && printf '%s\\n' "\${COMPREPLY[@]}"`;
    const got = run('bash', ['-c', script], env);
    expect(got.stderr).toBe('');
    return got.stdout.split('\n').filter(Boolean);
  }

  it('completes the options of each program from its own --help', () => {
    expect(bashOffers('netchat', 'netchat --co').sort()).toEqual(['--connect', '--connect-timeout']);
    expect(bashOffers('netchat', 'netchat 5555 --j')).toEqual(['--json']);
    expect(bashOffers('netchat-tui', 'netchat-tui --j')).toEqual([]);
    expect(bashOffers('netchat-bot', 'netchat-bot --max').sort()).toEqual([
      '--max-file-size',
      '--max-registrations',
      '--max-sessions',
      '--max-sessions-per-host',
    ]);
    expect(bashOffers('netchat', 'netchat 5555 --send')).toEqual(['--send-file']);
    expect(bashOffers('netchat-bot', 'netchat-bot --accept a').sort()).toEqual(['all', 'allow']);
  });

  it('completes --connect with where the known peers were last seen, most recent first', () => {
    const netchatHome = home();
    const known = KnownPeers.load(netchatHome);
    known.remember('1'.repeat(64), 'bob', 'F1', {
      address: { host: '127.0.0.1', port: 6666 },
      at: new Date(1),
    });
    known.remember('2'.repeat(64), 'carol', 'F2', { address: { host: '::1', port: 7000 }, at: new Date(2) });
    const env = { ...installed.env, NETCHAT_HOME: netchatHome };
    expect(run('netchat', ['completion', 'peers'], env).stdout).toBe('[::1]:7000\n127.0.0.1:6666\n');
    expect(bashOffers('netchat', 'netchat 5555 --connect ', env)).toEqual(['[::1]:7000', '127.0.0.1:6666']);
    // bash splits words at ":": only what follows the last colon is given back.
    expect(bashOffers('netchat', 'netchat 5555 --connect 127.0.0.1:6', env)).toEqual(['6666']);
  });

  /** A home whose known peers are bob, a nick that is shell code, and a nick with a space. */
  function commandsHome(): { env: NodeJS.ProcessEnv; marker: string; fingerprints: string[] } {
    const netchatHome = home();
    const marker = join(netchatHome, 'ran');
    const known = KnownPeers.load(netchatHome);
    known.remember('1'.repeat(64), 'bob', 'BBBB-BBBB-BBBB-BBBB', { at: new Date(3) });
    known.remember('2'.repeat(64), `$(touch ${marker})`, 'CCCC-CCCC-CCCC-CCCC', { at: new Date(2) });
    known.remember('3'.repeat(64), 'carol smith', 'DDDD-DDDD-DDDD-DDDD', { at: new Date(1) });
    return {
      env: { ...installed.env, NETCHAT_HOME: netchatHome },
      marker,
      fingerprints: ['BBBB-BBBB-BBBB-BBBB', 'CCCC-CCCC-CCCC-CCCC', 'DDDD-DDDD-DDDD-DDDD'],
    };
  }
  const names = ['bob', 'CCCC-CCCC-CCCC-CCCC', 'DDDD-DDDD-DDDD-DDDD'];

  it('bash completes netchat history and netchat contacts: the commands, and names and fingerprints of the known peers', () => {
    const { env, marker, fingerprints } = commandsHome();
    expect(bashOffers('netchat', 'netchat ', env)).toEqual(['history', 'contacts', 'completion']);
    expect(bashOffers('netchat', 'netchat con', env)).toEqual(['contacts']);
    expect(bashOffers('netchat', 'netchat history ', env).sort()).toEqual([...names].sort());
    expect(bashOffers('netchat', 'netchat history b', env)).toEqual(['bob']);
    expect(bashOffers('netchat', 'netchat history bob --', env)).toEqual(['--json', '--grep']);
    expect(bashOffers('netchat', 'netchat contacts ', env)).toEqual(['forget', 'rename', 'verify']);
    expect(bashOffers('netchat', 'netchat contacts rename ', env).sort()).toEqual([...names].sort());
    expect(bashOffers('netchat', 'netchat contacts rename bob ', env)).toEqual([]);
    expect(bashOffers('netchat', 'netchat contacts verify ', env).sort()).toEqual(fingerprints);
    expect(bashOffers('netchat', 'netchat contacts verify C', env)).toEqual(['CCCC-CCCC-CCCC-CCCC']);
    expect(bashOffers('netchat', 'netchat completion ', env)).toEqual(['bash', 'zsh', 'fish']);
    // A nick is the peer's choice: completing never runs it.
    expect(existsSync(marker)).toBe(false);
    // netchat-tui lists no commands: after a port, nothing.
    expect(bashOffers('netchat-tui', 'netchat-tui ', env)).toEqual([]);
  });

  it.skipIf(!hasCommand('zsh'))(
    'zsh completes the same words after netchat history and netchat contacts',
    () => {
      const { env, marker, fingerprints } = commandsHome();
      // compadd, as the completion system would be given the words (the rest of the system is zsh's own).
      const offers = (words: string[]) => {
        const quoted = words.map((w) => `'${w}'`).join(' ');
        const script = `autoload -Uz compinit && compinit -u -D && source <(netchat completion zsh) && compadd() { [[ $1 == -a ]] && print -rl -- \${(P)2} } && words=(${quoted}) && CURRENT=${words.length} && _netchat`;
        const got = run('zsh', ['-fc', script], env);
        expect(got.stderr).toBe('');
        return got.stdout.split('\n').filter(Boolean);
      };
      expect(offers(['netchat', 'history', '']).sort()).toEqual([...names].sort());
      expect(offers(['netchat', 'contacts', ''])).toEqual(['forget', 'rename', 'verify']);
      expect(offers(['netchat', 'contacts', 'verify', '']).sort()).toEqual(fingerprints);
      expect(offers(['netchat', 'history', '--grep', ''])).toEqual([]);
      expect(existsSync(marker)).toBe(false);
    },
  );

  it.skipIf(!hasCommand('fish'))(
    'fish completes the commands with their descriptions, and the same words after them',
    () => {
      const { env, marker, fingerprints } = commandsHome();
      const offers = (line: string) => {
        const got = run('fish', ['-c', `netchat completion fish | source; and complete -C '${line}'`], env);
        expect(got.stderr).toBe('');
        return got.stdout.split('\n').filter(Boolean);
      };
      expect(offers('netchat h')).toEqual([
        'history\tprint the chat history with a peer (nick or fingerprint)',
      ]);
      expect(offers('netchat history ').sort()).toEqual([...names].sort());
      expect(offers('netchat contacts ')).toEqual(['forget', 'rename', 'verify']);
      expect(offers('netchat contacts verify ')).toEqual(fingerprints);
      expect(offers('netchat history bob --')).toEqual(['--grep', '--json']);
      expect(existsSync(marker)).toBe(false);
    },
  );

  it.skipIf(!hasCommand('fish'))('the fish script is valid fish, and offers the options', () => {
    for (const { name } of COMMANDS) {
      const got = run(
        'fish',
        ['-c', `${name} completion fish | source; and complete -C '${name} --versi'`],
        installed.env,
      );
      expect(got.stderr).toBe('');
      expect(got.stdout).toMatch(/^--version\tshow the version\n/);
    }
  });

  it('completion with no shell, or an unknown one, says which shells there are (exit 2)', () => {
    const none = run('netchat', ['completion'], installed.env);
    expect([none.code, none.stderr]).toEqual([
      2,
      'netchat: completion needs a shell: bash, zsh or fish (e.g. source <(netchat completion bash))\n',
    ]);
    const tcsh = run('netchat-tui', ['completion', 'tcsh'], installed.env);
    expect([tcsh.code, tcsh.stderr]).toEqual([
      2,
      'netchat-tui: no completion for "tcsh": the shells are bash, zsh and fish\n',
    ]);
  });

  it.skipIf(!hasCommand('zsh'))('the zsh script is valid zsh', () => {
    for (const { name } of COMMANDS) {
      const got = run(
        'zsh',
        ['-c', `autoload -Uz compinit && compinit -u -D && source <(${name} completion zsh) && echo loaded`],
        installed.env,
      );
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe('loaded\n');
    }
  });
});
