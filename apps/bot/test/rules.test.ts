import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRulesFile, RulesEngine, truncateUtf8 } from '../src/rules.js';

const context = { nick: 'ana', peer: '127.0.0.1:5555' };
const engine = new RulesEngine({
  greeting: 'hello {nick} at {peer}',
  rules: [
    { match: '^ping$', flags: '', reply: 'pong' },
    { match: '^say (.+)$', flags: 'i', reply: 'you said $1' },
    { match: '^(\\w+) and (\\w+)$', flags: '', reply: '$2 and $1 ($3 is empty), {nick}' },
    { match: 'ping', flags: '', reply: 'never reached for "ping" alone' },
  ],
  fallback: 'echo: {text}',
});

describe('rules engine', () => {
  it('tries rules in order and the first match replies', () => {
    expect(engine.reply({ ...context, text: 'ping' })).toBe('pong');
    expect(engine.reply({ ...context, text: 'a ping' })).toBe('never reached for "ping" alone');
  });

  it('fills groups and templates, with flags', () => {
    expect(engine.reply({ ...context, text: 'SAY hello there' })).toBe('you said hello there');
    expect(engine.reply({ ...context, text: 'salt and pepper' })).toBe('pepper and salt ( is empty), ana');
    expect(engine.greeting(context)).toBe('hello ana at 127.0.0.1:5555');
  });

  it('does not expand templates inside what the peer wrote', () => {
    expect(engine.reply({ ...context, text: 'say {nick} $1' })).toBe('you said {nick} $1');
    expect(engine.reply({ ...context, text: '{peer}' })).toBe('echo: {peer}');
  });

  it('falls back, or stays silent without a fallback', () => {
    expect(engine.reply({ ...context, text: 'something else' })).toBe('echo: something else');
    const silent = new RulesEngine({ rules: [{ match: '^hi$', flags: '', reply: 'hey' }] });
    expect(silent.reply({ ...context, text: 'other' })).toBeUndefined();
    expect(silent.greeting(context)).toBeUndefined();
  });

  it('echoes by default', () => {
    expect(RulesEngine.echo().reply({ ...context, text: 'hi' })).toBe('echo: hi');
  });

  it('cuts text to a byte limit without splitting a character', () => {
    expect(truncateUtf8('abc', 10)).toBe('abc');
    expect(truncateUtf8('aé', 2)).toBe('a');
    expect(truncateUtf8('😀😀', 5)).toBe('😀');
  });
});

describe('rules files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netchat-rules-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('loads the documented example', () => {
    const path = file(
      'ok.json',
      JSON.stringify({
        greeting: 'hello {nick}, I am a bot',
        rules: [
          { match: '^ping$', reply: 'pong' },
          { match: '^say (.+)$', flags: 'i', reply: 'you said $1' },
        ],
        fallback: 'echo: {text}',
      }),
    );
    expect(loadRulesFile(path).rules).toHaveLength(2);
  });

  it.each([
    ['missing.json', undefined, /cannot read rules file .*missing.json: ENOENT/],
    ['broken.json', '{ "rules": [', /is not valid JSON/],
    [
      'bad-regex.json',
      '{ "rules": [ { "match": "(", "reply": "x" } ] }',
      /rules\[0\]\.match is not a valid regular expression/,
    ],
    [
      'bad-flags.json',
      '{ "rules": [ { "match": "a", "flags": "g", "reply": "x" } ] }',
      /rules\[0\]\.flags may hold only/,
    ],
    ['no-reply.json', '{ "rules": [ { "match": "a" } ] }', /rules\[0\]\.reply/],
    ['unknown-key.json', '{ "greting": "typo" }', /Unrecognized key.*greting/],
    ['wrong-type.json', '{ "fallback": 3 }', /fallback/],
  ])('%s: one clear line naming the field', (name, text, message) => {
    const path = text === undefined ? join(dir, name) : file(name, text);
    expect(() => loadRulesFile(path)).toThrow(message);
    try {
      loadRulesFile(path);
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
