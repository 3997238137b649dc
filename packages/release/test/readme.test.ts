/**
 * README.md as a person reads it: every command it shows, run as shown against the installed
 * package (a temporary npm prefix, offline), with what it says they print compared with what
 * they print. Only two things are changed: each netchat home is a new temporary folder, and a
 * documented port that is taken on this machine is replaced by a free one (loopback only).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasTmux, TmuxTerminal } from '@netchat/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { home, type Installation, installGlobally, Running, repoRoot, run } from './installed.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const pnpmVersion = String(rootManifest.packageManager).split('@')[1];
const blocks = [...readme.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2] ?? '' }));
const shellBlocks = blocks.filter((b) => b.lang === 'sh').map((b) => b.text.trim());
const FINGERPRINT = /[A-Z2-7]{4}(?:-[A-Z2-7]{4}){3}/g;

let installed: Installation;
const running: Array<{ kill(): void }> = [];
const terminals: TmuxTerminal[] = [];
beforeAll(() => {
  installed = installGlobally(join(repoRoot, setupParts()[3]?.replace(/^npm install -g /, '') ?? ''));
}, 120_000);
afterEach(() => {
  for (const program of running.splice(0)) program.kill();
  for (const terminal of terminals.splice(0)) terminal.close();
});

/** The set-up command, split at `&&`. */
function setupParts(): string[] {
  return (shellBlocks[0] ?? '').split(' && ');
}

/**
 * The programs run on port 0 instead of the README's ports (two suites, or a peer someone
 * runs, may hold 5555), and the port each reports stands in for the documented one.
 */
async function reportedPort(program: Running): Promise<number> {
  await program.waitFor(/Listening on UDP port \d+\./);
  return Number(/Listening on UDP port (\d+)\./.exec(program.stdout)?.[1]);
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const [command = '', ...rest] = args;
  const program = new Running(command, rest, { ...installed.env, NETCHAT_HOME: home(), ...env });
  running.push(program);
  return program;
}

describe('README: set-up', () => {
  it('names the Node version that package.json engines requires', () => {
    const named = /You need Node\.js (\d+(?:\.\d+)*) or newer/.exec(readme)?.[1];
    expect(rootManifest.engines.node).toBe(`>=${named}`);
  });

  it('has exactly two set-up commands: install and start a peer, and run the tests (as .ci/run does)', () => {
    expect(readme.slice(readme.indexOf('## Set-up'), readme.indexOf('## Chatting')).match(/```sh/g)).toHaveLength(2);
    expect(shellBlocks[1]).toBe(`npm install -g pnpm@${pnpmVersion} && pnpm install && pnpm test`);
    expect(readFileSync(join(repoRoot, '.ci', 'run'), 'utf8')).toMatch(/^pnpm test +# the README's test command$/m);
  });

  it('install command: pnpm at the packageManager version, then build, then npm install -g of the built tarball, then netchat 5555', async () => {
    const [pnpm, install, build, global, netchat] = setupParts();
    expect([pnpm, install, build]).toEqual([`npm install -g pnpm@${pnpmVersion}`, 'pnpm install', 'pnpm build']);
    expect(global).toMatch(/^npm install -g \.\/packages\/release\/dist\/netchat\.tgz$/);
    expect(existsSync(join(repoRoot, global?.replace('npm install -g ', '') ?? ''))).toBe(true);
    // beforeAll ran that install into a temporary prefix; now the last command, from anywhere.
    const [name, port] = netchat?.split(' ') ?? [];
    expect(name).toBe('netchat');
    expect(port).toBe('5555');
    const peer = start([name ?? '', '0']);
    await peer.waitFor(/Listening on UDP port \d+\. Others can reach you at: .*\nYour fingerprint: .*\nStart chat with\? \(IP Port\): /);
    peer.type('exit');
    expect(await peer.exit()).toBe(0);
  });
});

describe('README: chatting', () => {
  /** The README's transcript blocks of the worked example, in order (Alice, Bob, what Alice sees). */
  function transcripts(): string[] {
    const section = readme.slice(readme.indexOf('## Chatting: a worked example'), readme.indexOf('\n- netchat first'));
    return [...section.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  }

  /** The lines netchat prints in a transcript: prompts without what the person typed after them. */
  function printedLines(transcript: string, ports: Map<string, number>): string[] {
    return transcript
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('$ '))
      .map((line) => line.replace(/(\? \(IP Port\): |\(y\/n\): |Your message: ).*$/, '$1'))
      .map((line) => normalise(line.replace(/\b(5555|6666)\b/g, (port) => String(ports.get(port)))));
  }

  /** Fingerprints and this machine's addresses differ from the README's. */
  function normalise(text: string): string {
    return text.replace(FINGERPRINT, 'FINGERPRINT').replace(/(Others can reach you at: ).*/g, '$1…');
  }

  it('the worked example runs as shown: Alice asks, Bob accepts and writes, Alice exits', async () => {
    const [alice = '', bob = ''] = transcripts().slice(0, 2).map((t) => /^\$ (.*)$/m.exec(t)?.[1] ?? '');
    expect(alice).toBe('NETCHAT_HOME=/tmp/alice netchat 5555 --nick alice');
    expect(bob).toBe('NETCHAT_HOME=/tmp/bob netchat 6666 --nick bob');
    const argv = (line: string) =>
      line
        .replace(/^NETCHAT_HOME=\S+ /, '')
        .split(' ')
        .map((word) => (word === '5555' || word === '6666' ? '0' : word));
    const a = start(argv(alice));
    const b = start(argv(bob));
    const ports = new Map([
      ['5555', await reportedPort(a)],
      ['6666', await reportedPort(b)],
    ]);
    await a.waitFor('Start chat with? (IP Port): ');
    await b.waitFor('Start chat with? (IP Port): ');
    a.type(`127.0.0.1 ${ports.get('6666')}`);
    await b.waitFor('Accept connection? (y/n): ');
    b.type('y');
    await a.waitFor(`Connected to 127.0.0.1 ${ports.get('6666')} (bob).`);
    await b.waitFor('Your message: ');
    b.type('hi alice');
    await a.waitFor('bob: hi alice');
    await a.waitFor('Your message: ');
    a.type('exit');
    await b.waitFor('Peer closed the session.');
    await a.waitFor(/Closing session with peer\.\.\.\n(.*\n)*Start chat with\? \(IP Port\): $/);

    const [aliceBlock = '', bobBlock = '', aliceSees = ''] = transcripts();
    for (const [block, program] of [
      [aliceBlock, a],
      [bobBlock, b],
      [aliceSees, a],
    ] as const) {
      const printed = normalise(program.stdout);
      for (const line of printedLines(block, ports)) expect(printed).toContain(line);
    }
    expect(readme).toContain('Bob sees `Peer closed the session.` and is back at `Start chat with?`');
    // The prompt follows the line, but may reach the pipe in a later chunk: waited for, not read at once.
    await b.waitFor(/Peer closed the session\.\n(?:.*\n)*Start chat with\? \(IP Port\): /);
  });

  it('netchat --fingerprint prints your fingerprint', () => {
    expect(readme).toContain('`netchat --fingerprint` prints your');
    const got = run('netchat', ['--fingerprint'], { ...installed.env, NETCHAT_HOME: home() });
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/^Your fingerprint: [A-Z2-7]{4}(-[A-Z2-7]{4}){3}\n/);
  });

  it('the options block is what netchat --help lists', () => {
    const block = blocks.find((b) => b.text.startsWith('netchat [options] <port>\n'))?.text ?? '';
    const help = run('netchat', ['--help'], installed.env).stdout;
    const listed = (help.split('Options:\n')[1] ?? '').split('\n\n')[0] ?? '';
    // Then the commands, as --help lists them under "Commands", without its indent.
    const commands = (help.split(/^Commands.*:\n/m)[1] ?? '').split('\n\n')[0] ?? '';
    expect(commands).toContain('netchat completion bash|zsh|fish');
    expect(block).toBe(`netchat [options] <port>\n${listed}\n\n${commands.replace(/^ {2}/gm, '')}\n`);
  });

  it('the --json example prints the events shown, each with the fields shown, and exits 0', async () => {
    const command = shellBlocks.find((b) => b.includes('--json --connect'))?.split('\n') ?? [];
    const [line = '', ...shown] = command;
    expect(line).toBe("printf 'hello\\nbye\\n' | netchat 5555 --json --connect 127.0.0.1:6666");
    const bob = start(['netchat', '0', '--nick', 'bob', '--yes']);
    const b = await reportedPort(bob);
    await bob.waitFor('Start chat with? (IP Port): ');
    const got = run('bash', ['-c', line.replace('5555', '0').replace('6666', String(b))], {
      ...installed.env,
      NETCHAT_HOME: home(),
    });
    expect(got.code, got.stderr).toBe(0);
    const events = got.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const expected = shown.map((l) => JSON.parse(l.replace('5dfe…ef22', 'x')));
    expect(events.map((e) => e.type)).toEqual(expected.map((e) => e.type));
    for (const [i, event] of events.entries()) expect(Object.keys(event).sort()).toEqual(Object.keys(expected[i]).sort());
  });

  it('netchat-bot 7000 starts a bot; SIGTERM stops it', async () => {
    expect(readme).toContain('`netchat-bot 7000` starts one');
    const bot = start(['netchat-bot', '0']);
    await bot.waitFor('"event":"listening"');
    bot.child.kill('SIGTERM');
    expect(await bot.exit(5_000)).toBe(0);
  });

  it.skipIf(!hasTmux)('netchat-tui 5555 starts the full-screen client in a terminal; /quit quits', async () => {
    expect(readme.replace(/\s+/g, ' ')).toContain('`netchat-tui 5555` starts it');
    const terminal = new TmuxTerminal([join(installed.bin, 'netchat-tui'), '0'], {
      NETCHAT_HOME: home(),
    });
    terminals.push(terminal);
    await terminal.waitUntil((screen) => /listening on \S+:\d+/.test(screen), 'the listening notice');
    terminal.type('/quit');
    terminal.press('Enter');
    await terminal.waitFor('AFTER-EXIT 0');
  });
});

describe('README: development commands', () => {
  /** Every `pnpm …` the README shows inline names a script (or turbo task) that exists. */
  it('every pnpm command it names exists where it says', () => {
    const commands = [...readme.matchAll(/`(pnpm [^`]+)`/g)].map((m) => m[1] ?? '');
    expect(commands.length).toBeGreaterThan(8);
    const turbo = JSON.parse(readFileSync(join(repoRoot, 'turbo.json'), 'utf8'));
    const manifestOf = (name: string) => {
      for (const group of ['packages', 'apps'])
        for (const dir of ['core', 'client', 'options', 'testkit', 'release', 'cli', 'tui', 'bot']) {
          const path = join(repoRoot, group, dir, 'package.json');
          if (existsSync(path) && JSON.parse(readFileSync(path, 'utf8')).name === name)
            return JSON.parse(readFileSync(path, 'utf8'));
        }
      throw new Error(`no package ${name}`);
    };
    for (const command of commands) {
      const words = command.split(' ').filter((w) => w !== '--silent');
      if (words[1] === 'turbo') {
        expect(Object.keys(turbo.tasks), command).toContain(words[3]);
        manifestOf(words.find((w) => w.startsWith('--filter='))?.slice('--filter='.length) ?? '');
      } else if (words[1] === '--filter') {
        expect(Object.keys(manifestOf(words[2] ?? '').scripts), command).toContain(words[3]);
      } else {
        expect(Object.keys(rootManifest.scripts), command).toContain(words[1]);
      }
    }
  });

  it('pnpm --silent netchat runs the built program from the root', () => {
    const fromRoot = run('sh', ['-c', `cd '${repoRoot}' && pnpm --silent netchat --version`], process.env);
    expect(fromRoot.stdout).toBe(`netchat ${rootManifestVersion()}\n`);
  });
});

function rootManifestVersion(): string {
  return JSON.parse(readFileSync(join(repoRoot, 'apps', 'cli', 'package.json'), 'utf8')).version;
}
