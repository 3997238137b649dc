/**
 * The apps' docs against what the programs print: the bot's log counters, the TUI's commands
 * (help overlay, --help, README, man page), and every program's options in its man page.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshHome } from '@netchat/testkit';
import { usageOptions } from '@netchat/options';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './installed.js';

const read = (...path: string[]) => readFileSync(join(repoRoot, ...path), 'utf8');
const helpOf = async (app: string): Promise<string> =>
  (await import(pathToFileURL(join(repoRoot, app, 'dist', 'arguments.js')).href)).usage;

/** Runs the built bot on a free port, stops it with SIGTERM, and returns its summary log line. */
async function botSummary(): Promise<Record<string, unknown>> {
  const home = freshHome();
  try {
    return await summaryOfBot(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function summaryOfBot(home: string): Promise<Record<string, unknown>> {
  const bot = spawn(process.execPath, [join(repoRoot, 'apps/bot/dist/main.js'), '0'], {
    env: { ...process.env, NETCHAT_HOME: home },
  });
  let out = '';
  bot.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (chunk.includes('"event":"listening"')) bot.kill('SIGTERM');
  });
  const timer = setTimeout(() => bot.kill('SIGKILL'), 15_000);
  // 'close', not 'exit': the last lines may still be in the pipe when the process exits.
  await new Promise((resolve) => bot.on('close', resolve));
  clearTimeout(timer);
  const line = out.split('\n').find((l) => l.includes('"event":"summary"'));
  if (!line) throw new Error(`no summary in:\n${out}`);
  return JSON.parse(line);
}

describe('netchat-bot docs', () => {
  it('its README names every counter of the summary it logs, and no counter it does not log', async () => {
    const summary = await botSummary();
    const readme = read('apps/bot/README.md');
    const logs = readme.slice(readme.indexOf('## Logs'), readme.indexOf('## Shutting down'));
    const security = Object.keys(summary.security as object);
    expect(security.length).toBeGreaterThan(10);
    for (const key of [...security, 'sessionsServed', 'messagesIn', 'messagesOut'])
      expect(logs, `apps/bot/README.md ## Logs should name ${key}`).toContain(`\`${key}\``);
    const counters = logs.indexOf('`security` counters') + '`security` counters'.length;
    const named = [...logs.slice(counters).matchAll(/`(\w+)`/g)].map((m) => m[1]);
    for (const key of named) expect(security, `${key} is named in the README but not logged`).toContain(key);
  });

  it('its README lists the options --help lists, with the same value names', async () => {
    const readme = read('apps/bot/README.md');
    const block = /## Options\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const fromHelp = usageOptions(await helpOf('apps/bot'))
      .filter((o) => !['help', 'version', 'fingerprint'].includes(o.long))
      .map((o) => `--${o.long} ${o.value ?? ''}`.trim());
    expect(usageOptions(block).map((o) => `--${o.long} ${o.value ?? ''}`.trim())).toEqual(fromHelp);
  });
});

describe('netchat-tui docs', () => {
  /** The `/commands` a text names (`/help`, `/quit`…), without `//text`. */
  const commandsIn = (text: string) => new Set([...text.matchAll(/(?<![/\w])\/([a-z]+)\b/g)].map((m) => `/${m[1]}`));

  it('the help overlay, --help, the README and the man page name the same commands', async () => {
    const { COMMAND_HELP } = await import(pathToFileURL(join(repoRoot, 'apps/tui/dist/model/commands.js')).href);
    const overlay = commandsIn((COMMAND_HELP as [string, string][]).map(([what]) => what).join(' '));
    expect(overlay.size).toBeGreaterThan(8);
    const readme = read('apps/tui/README.md');
    const table = readme.slice(readme.indexOf('## Commands and keys'), readme.indexOf('| key |'));
    const help = await helpOf('apps/tui');
    const inside = help.slice(help.indexOf('Inside:'));
    const manual = read('packages/release/man/netchat-tui.1');
    const manCommands = manual.slice(manual.indexOf('.SH COMMANDS'), manual.indexOf('.SH KEYS'));
    for (const [where, text] of [
      ['apps/tui/README.md', table],
      ['netchat-tui --help', inside],
      ['man netchat-tui', manCommands],
    ] as const) {
      expect([...commandsIn(text)].sort(), where).toEqual([...overlay].sort());
    }
  });
});

describe('man pages', () => {
  it.each([
    ['netchat', 'apps/cli'],
    ['netchat-tui', 'apps/tui'],
    ['netchat-bot', 'apps/bot'],
  ])('man %s describes every option %s prints in --help, and no other', async (name, app) => {
    const page = read('packages/release/man', `${name}.1`);
    const section = page.slice(page.indexOf('.SH OPTIONS'), page.indexOf('.SH', page.indexOf('.SH OPTIONS') + 4));
    const optionLines = section.split('\n').filter((line) => line.startsWith('.B'));
    const inPage = optionLines.flatMap((line) =>
      [...line.matchAll(/\\-\\-((?:[a-z]|\\-)+)/g)].map((m) => (m[1] ?? '').replace(/\\-/g, '-')),
    );
    const inHelp = usageOptions(await helpOf(app)).map((o) => o.long);
    expect(inPage.sort()).toEqual(inHelp.sort());
  });
});
