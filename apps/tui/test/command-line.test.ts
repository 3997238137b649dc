import { fileURLToPath } from 'node:url';
import { ProgramProcess } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));

async function run(...args: string[]) {
  const p = new ProgramProcess(bin, args);
  p.endInput();
  const code = await p.exited;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

describe('netchat-tui command line', () => {
  it.each([
    [['65536'], /^netchat-tui: port must be a port number \(0-65535/],
    [['5555', '--json'], /^netchat-tui: unknown option --json /],
    [['5555', '--heartbeat-interval', 'x'], /^netchat-tui: --heartbeat-interval must be a number of seconds/],
  ])('%j exits 2 with one line', async (args, message) => {
    const { code, stderr } = await run(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses to run without a terminal, pointing to netchat --json', async () => {
    const { code, stderr } = await run('5555');
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('netchat-tui: needs a terminal; for scripts use netchat --json');
  });

  it('--help and --version print and exit 0', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: netchat-tui [options] <port>');
    const version = await run('--version');
    expect(version.stdout).toMatch(/^netchat-tui \d+\.\d+\.\d+\n$/);
  });
});
