import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRulesFile, RulesEngine, truncateUtf8 } from '../src/rules.js';
import { closest } from '../src/rules-problems.js';

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

  it('keeps a leading U+FEFF when it cuts (a character of the text, as core decodes it, not a byte order mark)', () => {
    expect(truncateUtf8('\ufeffabc', 5)).toBe('\ufeffab');
  });
});

describe('rules files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netchat-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  /** The one line loading `text` as a rules file throws, without the `rules file PATH: ` before it. */
  const problem = (text: string): string => {
    const path = file('rules.json', text);
    try {
      loadRulesFile(path);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      return message.replace(`rules file ${path}: `, '').replace(`rules file ${path} `, '');
    }
    throw new Error(`${text} loaded without a problem`);
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

  it('names an unknown key, where it is, and the key it most likely meant', () => {
    expect(problem('{ "greting": "typo" }')).toBe(
      'unknown key "greting" at the top level (did you mean "greeting"?)',
    );
    const rules = [
      { match: 'a', reply: 'x' },
      { match: 'b', reply: 'y' },
    ];
    expect(problem(JSON.stringify({ rules: [...rules, { match: 'c', rply: 'z' }] }))).toBe(
      // The typo also leaves "reply" missing: the typo is named, the rest counted.
      'unknown key "rply" in rule 3 (did you mean "reply"?) (and 1 more problem)',
    );
    expect(problem('{ "rules": [ { "mtach": "a", "reply": "x" } ] }')).toMatch(
      /^unknown key "mtach" in rule 1 \(did you mean "match"\?\)/,
    );
    // The top level's typo first, as the file is read.
    expect(problem('{ "greting": "hi", "rules": [ { "mtach": "a", "reply": "x" } ] }')).toBe(
      'unknown key "greting" at the top level (did you mean "greeting"?) (and 2 more problems)',
    );
    expect(problem('{ "colour": "red" }')).toBe(
      'unknown key "colour" at the top level (the keys are "greeting", "rules", "fallback")',
    );
  });

  it.each([
    ['{ "fallback": 3 }', '"fallback" must be a string, not the number 3'],
    ['{ "rules": { "match": "a" } }', '"rules" must be a list ([ ... ]), not an object'],
    ['{ "rules": [ "ping" ] }', 'rule 1 must be an object ({ ... }), not a string'],
    ['[]', 'the file must be an object ({ ... }), not a list'],
    ['{ "rules": [ { "match": "a" } ] }', 'rule 1 needs "reply" (a string)'],
    ['{ "rules": [ { "match": "", "reply": "x" } ] }', '"match" in rule 1 must not be empty'],
    [
      '{ "rules": [ { "match": "a", "flags": "g", "reply": "x" } ] }',
      '"flags" in rule 1 may hold only the flags i, m, s and u',
    ],
  ])('%s: %s', (text, expected) => expect(problem(text)).toBe(expected));

  it('says which rule holds a bad regular expression, and why', () => {
    expect(problem('{ "rules": [ { "match": "(", "reply": "x" } ] }')).toMatch(
      /^"match" in rule 1 is not a valid regular expression \(.*Unterminated group\)$/,
    );
  });

  it('points at the line and column of broken JSON', () => {
    expect(problem('{\n  "rules": [\n    { "match": "a" "reply": "x" }\n  ]\n}')).toMatch(
      /^is not valid JSON: .* at line 3, column 20$/,
    );
    expect(problem('{ "rules": [')).toMatch(/^is not valid JSON: /);
  });

  it('says why a file cannot be read', () => {
    expect(() => loadRulesFile(join(dir, 'missing.json'))).toThrow(
      /^cannot read rules file .*missing\.json: no such file \(ENOENT\)$/,
    );
    expect(() => loadRulesFile(dir)).toThrow(/: a folder, not a file \(EISDIR\)$/);
    if (process.getuid?.() === 0) return; // root reads any file
    const locked = file('locked.json', '{}');
    chmodSync(locked, 0);
    expect(() => loadRulesFile(locked)).toThrow(/: permission denied \(EACCES\)$/);
  });
});

describe('did you mean', () => {
  it('suggests a key one or two edits away, and nothing for a word far from every key', () => {
    const keys = ['greeting', 'rules', 'fallback'];
    expect(closest('greting', keys)).toBe('greeting');
    expect(closest('Rules', keys)).toBe('rules');
    expect(closest('rule', keys)).toBe('rules');
    expect(closest('fallbak', keys)).toBe('fallback');
    expect(closest('colour', keys)).toBeUndefined();
    expect(closest('x', ['match', 'flags', 'reply'])).toBeUndefined();
    expect(closest('mtach', ['match', 'flags', 'reply'])).toBe('match');
  });
});
