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

describe('--relay-rate', () => {
  it('is a size a second like the other size flags (an operator writes 64K or 1M), 0 turns the relay off', async () => {
    const { parseBotArguments } = await import('../src/arguments.js');
    const rate = (value: string) => {
      const args = parseBotArguments(['7000', '--rendezvous', '--relay-rate', value]);
      return 'relay-rate' in args ? args['relay-rate'] : undefined;
    };
    expect(parseBotArguments(['7000', '--rendezvous'])).toMatchObject({ 'relay-rate': 65_536 });
    expect(rate('65536')).toBe(65_536);
    expect(rate('64K')).toBe(64_000);
    expect(rate('64KiB')).toBe(65_536);
    expect(rate('1.5M')).toBe(1_500_000);
    expect(rate('0')).toBe(0);
    expect(() => rate('10XB')).toThrow(
      '--relay-rate must be bytes a second, e.g. 65536, 64K, 1.5M or 64KiB (0: no relay)',
    );
    expect(() => parseBotArguments(['7000', '--rendezvous', '--relay-rate=-1'])).toThrow(
      '--relay-rate must be bytes a second',
    );
    expect(() => rate('2G')).toThrow('--relay-rate must be at most 1G (a second)');
  });
});

describe('the rendezvous options without --rendezvous', () => {
  it('are refused, as --files-quota without --accept-files is, never silently ignored', async () => {
    const { parseBotArguments } = await import('../src/arguments.js');
    expect(() => parseBotArguments(['7000', '--relay-rate', '1M'])).toThrow(
      '--relay-rate needs --rendezvous (it limits what the relay carries)',
    );
    expect(() => parseBotArguments(['7000', '--max-registrations', '50'])).toThrow(
      '--max-registrations needs --rendezvous (it limits the peers registered)',
    );
    expect(parseBotArguments(['7000', '--rendezvous', '--max-registrations', '50'])).toMatchObject({
      'max-registrations': 50,
      'relay-rate': 65_536,
    });
    expect(parseBotArguments(['7000'])).toMatchObject({ 'max-registrations': 10_000, 'relay-rate': 65_536 });
  });
});

describe('--max-sessions-per-host', () => {
  it('is a tenth of --max-sessions unless given, at least 1', async () => {
    const { defaultSessionsPerHost, parseBotArguments } = await import('../src/arguments.js');
    const perHost = (...argv: string[]) => {
      const args = parseBotArguments(['7000', ...argv]);
      return 'max-sessions-per-host' in args ? args['max-sessions-per-host'] : undefined;
    };
    // Not given: main.ts takes a tenth, and spares loopback peers (the bot's own machine).
    expect(perHost()).toBeUndefined();
    expect(defaultSessionsPerHost(1000)).toBe(100);
    expect(defaultSessionsPerHost(55)).toBe(5);
    expect(defaultSessionsPerHost(5)).toBe(1);
    expect(perHost('--max-sessions-per-host', '1000')).toBe(1000);
    expect(() => perHost('--max-sessions-per-host', '0')).toThrow(
      '--max-sessions-per-host must be at least 1',
    );
  });
});
