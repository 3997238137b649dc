import { describe, expect, it } from 'vitest';
import { usage } from '../src/arguments.js';

describe('--help', () => {
  it('lists the options together, with no paragraph inside the list', () => {
    const after = usage.split('Options:\n')[1] ?? '';
    const list = after.split('\n\n')[0]?.split('\n') ?? [];
    expect(list.length).toBeGreaterThan(8);
    for (const line of list) expect(line).toMatch(/^ {2}-/);
    expect(after.split('\n\n')[1]).toMatch(/^Your key is kept in \$NETCHAT_HOME/);
  });
});

describe('--rendezvous', () => {
  it('is a switch, off by default', async () => {
    const { parseBotArguments } = await import('../src/arguments.js');
    expect(parseBotArguments(['7000', '--rendezvous'])).toMatchObject({ rendezvous: true });
    expect(parseBotArguments(['7000'])).toMatchObject({ rendezvous: false });
    expect(() => parseBotArguments(['7000', '--rendezvous=1.2.3.4:5'])).toThrow(
      '--rendezvous takes no value',
    );
  });
});
