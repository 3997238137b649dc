import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTuiArguments, usage } from '../src/arguments.js';
import { COMMAND_HELP, COMMAND_NAMES, KEY_HELP } from '../src/model/commands.js';

describe('--help', () => {
  it('lists the options together, with no paragraph inside the list', () => {
    const after = usage.split('Options:\n')[1] ?? '';
    const list = after.split('\n\n')[0]?.split('\n') ?? [];
    expect(list.length).toBeGreaterThan(8);
    for (const line of list) expect(line).toMatch(/^ {2}-/);
    expect(after.split('\n\n')[1]).toMatch(/^Your key is kept in \$NETCHAT_HOME/);
  });
});

describe('flags', () => {
  it('--mouse and --no-bell are off unless given', () => {
    expect(parseTuiArguments(['5555'])).toMatchObject({ mouse: false, 'no-bell': false });
    expect(parseTuiArguments(['5555', '--mouse', '--no-bell'])).toMatchObject({
      mouse: true,
      'no-bell': true,
    });
  });
});

describe('the README', () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

  it('documents every command the help lists and Tab completes', () => {
    for (const name of COMMAND_NAMES) expect(readme).toContain(`\`${name}`);
    for (const [what] of COMMAND_HELP)
      expect(usage + readme).toContain(what.split(' ')[0]?.replace(/,$/, ''));
  });

  it('has Tab complete every command the help lists', () => {
    const listed = COMMAND_HELP.flatMap(([what]) => what.match(/\/[a-z]+/g) ?? []).filter(
      (c) => c !== '/text',
    );
    expect([...new Set(listed)].sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it('documents every key the help lists', () => {
    for (const [keys] of KEY_HELP)
      for (const key of keys.split(', '))
        expect(readme).toContain(key.replace(' … ', '…').replace('Alt+9', '9'));
  });
});
