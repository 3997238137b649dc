/**
 * README's options table is where a developer looks up what `NetchatPeer.listen` and `new
 * Endpoint` take: every option the schema accepts has its row there (`files` had none, so the
 * option a FileLink needs could be found only in the Files section), and every row is an option.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EndpointOptions } from '../src/options.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The option names in the first column of the table under "### Options". */
function documentedOptions(): string[] {
  const section = readme.split('### Options')[1]?.split('\n### ')[0] ?? '';
  const names: string[] = [];
  for (const line of section.split('\n')) {
    const first = /^\| ([^|]+) \|/.exec(line)?.[1];
    if (first === undefined || first === 'option' || first.startsWith('---')) continue;
    for (const name of first.matchAll(/`([A-Za-z]+)`/g)) if (name[1]) names.push(name[1]);
  }
  return names;
}

describe("packages/core/README.md's options table", () => {
  it('has a row for every option the schema takes, and no other', () => {
    expect(documentedOptions().sort()).toEqual(Object.keys(EndpointOptions.shape).sort());
  });
});
