/**
 * The NAT lab: real network namespaces, veth pairs and iptables MASQUERADE (lab/nat-lab.sh),
 * a rendezvous on the "public" network and a netchat CLI in each home. Needs root, ip and
 * iptables (CI installs them and runs as root); skipped with a message otherwise. Every wait
 * is bounded; traffic goes only to addresses inside the namespaces this test made.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freshHome } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const labScript = fileURLToPath(new URL('./lab/nat-lab.sh', import.meta.url));
const rendezvousScript = fileURLToPath(new URL('./lab/rendezvous.mjs', import.meta.url));
const netchatBin = fileURLToPath(new URL('../dist/main.js', import.meta.url));

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const root = process.getuid?.() === 0;
const missing = !root ? 'not root' : !has('ip') ? 'no ip (iproute2)' : !has('iptables') ? 'no iptables' : '';
if (missing)
  console.log(`[nat-lab] skipped: ${missing} (needs root, iproute2 and iptables to build namespaces)`);
const hasConntrack = has('conntrack');

/** A program run inside a namespace, its output collected. */
class InNamespace {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  private exited = false;

  constructor(namespace: string, script: string, args: string[]) {
    this.child = spawn('ip', ['netns', 'exec', namespace, process.execPath, script, ...args], {
      env: { ...process.env, NETCHAT_HOME: freshHome() },
    });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.on('exit', () => {
      this.exited = true;
    });
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Waits until stdout contains `text` (`times` times), at most `ms`; returns the time it took. */
  async waitFor(text: string | RegExp, ms = 10_000, times = 1): Promise<number> {
    const start = performance.now();
    const count = () =>
      typeof text === 'string'
        ? this.stdout.split(text).length - 1
        : (this.stdout.match(new RegExp(text, 'g')) ?? []).length;
    while (count() < times) {
      if (this.exited || performance.now() - start > ms)
        throw new Error(
          `${this.exited ? 'exited' : 'timed out'} waiting for ${text}\n--- output ---\n${this.stdout}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
    return performance.now() - start;
  }

  stop(): void {
    if (!this.exited) this.child.kill('SIGTERM');
  }
}

const running: InNamespace[] = [];
let labs: string[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.stop();
  for (const prefix of labs) spawnSync(labScript, ['down', prefix]);
  labs = [];
});

let serial = 0;
/** Builds a lab; returns its prefix (namespaces PREFIX-pub, -ra, -rb, -a, -b). */
function lab(mode: 'eim' | 'random'): string {
  // Unique to this process (two suites may run side by side), and short: interface names are
  // the prefix plus two characters, within Linux's 15.
  const prefix = `n${process.pid.toString(36)}x${serial++}`;
  labs.push(prefix);
  const made = spawnSync(labScript, ['up', prefix, mode], { encoding: 'utf8', timeout: 30_000 });
  if (made.status !== 0) throw new Error(`nat-lab.sh up failed: ${made.stderr}`);
  return prefix;
}

function run(namespace: string, script: string, args: string[]): InNamespace {
  const p = new InNamespace(namespace, script, args);
  running.push(p);
  return p;
}

const fingerprintOf = (p: InNamespace) => /Your fingerprint: (\S+)/.exec(p.stdout)?.[1] ?? '';

/** The rendezvous and two registered homes (heartbeats every 2 s, so the flush test stays short). */
const SECRET = 'plaintext the relay must never see';

/** What the rendezvous counted so far (it prints a stats line for each line it reads). */
async function statsOf(rendezvous: InNamespace): Promise<Record<string, number>> {
  const before = rendezvous.stdout.split('"stats"').length - 1;
  rendezvous.type('stats');
  await rendezvous.waitFor('"stats"', 5_000, before + 1);
  const lines = rendezvous.stdout.split('\n').filter((l) => l.includes('"stats"'));
  return JSON.parse(lines[lines.length - 1] as string);
}

async function homes(prefix: string) {
  const rendezvous = run(`${prefix}-pub`, rendezvousScript, ['10.200.0.1', '3478', SECRET]);
  await rendezvous.waitFor('"listening"');
  const common = ['--rendezvous', '10.200.0.1:3478', '--heartbeat-interval', '2', '--connect-timeout', '8'];
  const alice = run(`${prefix}-a`, netchatBin, ['0', '--host', '192.168.1.2', '--nick', 'alice', ...common]);
  const bob = run(`${prefix}-b`, netchatBin, ['0', '--host', '192.168.2.2', '--nick', 'bob', ...common]);
  // The rendezvous sees each behind its router's public address.
  await alice.waitFor(/it sees you at 10\.200\.0\.2:\d+\./);
  await bob.waitFor(/it sees you at 10\.200\.0\.3:\d+\./);
  await alice.waitFor('Start chat with? (IP Port): ');
  return { rendezvous, alice, bob };
}

/** alice asks for bob by fingerprint; bob accepts. The time from typing to `Connected`. */
async function chatByFingerprint(alice: InNamespace, bob: InNamespace, times = 1, via = /10\.200\.0\.3 \d+/) {
  const start = performance.now();
  alice.type(fingerprintOf(bob));
  await bob.waitFor('Accept connection? (y/n): ', 15_000, times);
  const asked = performance.now() - start;
  bob.type('y');
  await alice.waitFor(new RegExp(`Connected to ${via.source} \\(bob\\)\\.`), 10_000, times);
  return { asked, opened: performance.now() - start };
}

describe.skipIf(missing !== '')('NAT lab (network namespaces)', () => {
  it('a lab left by a process that is gone (a killed run) is removed by the next sweep; a living process keeps its own', () => {
    // A process that has exited: its pid names the stale lab (a pid is reused only after many more).
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const stale = `n${Number(gone.stdout.trim()).toString(36)}x0-pub`;
    const living = `n${process.pid.toString(36)}x99-pub`;
    const namespaces = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    try {
      for (const ns of [stale, living]) expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
      expect(spawnSync(labScript, ['sweep']).status).toBe(0);
      expect(namespaces()).not.toContain(stale);
      expect(namespaces()).toContain(living);
    } finally {
      for (const ns of [stale, living]) spawnSync('ip', ['netns', 'del', ns]);
    }
  });

  it('two homes behind endpoint-independent NATs chat directly, found by fingerprint; nothing relayed', async () => {
    const { rendezvous, alice, bob } = await homes(lab('eim'));
    const { asked, opened } = await chatByFingerprint(alice, bob);
    // Direct: alice talks to bob's router's public address, and the chat works both ways.
    alice.type('hello across two NATs');
    await bob.waitFor(/\[10\.200\.0\.2:\d+\] alice: hello across two NATs/);
    bob.type('hello back');
    await alice.waitFor(/\[10\.200\.0\.3:\d+\] bob: hello back/);
    const stats = await statsOf(rendezvous);
    expect(stats.introductions).toBe(1);
    expect(stats.relayed).toBe(0);
    console.log(
      `[nat-lab] direct: request reached bob ${asked.toFixed(0)} ms after alice typed the fingerprint; chat open after ${opened.toFixed(0)} ms (incl. bob answering)`,
    );
  }, 60_000);

  it('behind port-randomising NATs (MASQUERADE --random-fully) the chat is relayed, and the relay sees no plaintext', async () => {
    const { rendezvous, alice, bob } = await homes(lab('random'));
    const { asked, opened } = await chatByFingerprint(alice, bob, 1, /relay \d+/);
    await alice.waitFor('Relayed through the rendezvous');
    alice.type(SECRET);
    await bob.waitFor(new RegExp(`\\[relay:\\d+\\] alice: ${SECRET}`));
    bob.type(`${SECRET} (back)`);
    await alice.waitFor(`bob: ${SECRET} (back)`);
    const stats = await statsOf(rendezvous);
    expect(stats.relayed).toBeGreaterThan(0);
    expect(stats.plaintextSeen).toBe(0);
    console.log(
      `[nat-lab] random-fully: relayed; request reached bob ${asked.toFixed(0)} ms after alice typed the fingerprint (3 s of it waiting for a direct path); chat open after ${opened.toFixed(0)} ms; the relay forwarded ${stats.relayed} packets, ${stats.relayedBytes} bytes`,
    );
  }, 60_000);

  it.skipIf(!hasConntrack)(
    'a NAT that forgets its mappings (conntrack -F) is re-learnt by the next heartbeat',
    async () => {
      const prefix = lab('eim');
      const { alice, bob } = await homes(prefix);
      for (const router of ['ra', 'rb']) {
        const flushed = spawnSync('ip', ['netns', 'exec', `${prefix}-${router}`, 'conntrack', '-F'], {
          encoding: 'utf8',
        });
        expect(flushed.status).toBe(0);
      }
      // Each client's next heartbeat makes a new mapping, and the rendezvous's answer through it
      // proves the rendezvous follows it: wait until both routers hold such a replied mapping.
      const mappingAnswered = (router: string) => {
        const listed = spawnSync(
          'ip',
          ['netns', 'exec', `${prefix}-${router}`, 'conntrack', '-L', '-p', 'udp', '--dport', '3478'],
          {
            encoding: 'utf8',
          },
        );
        return listed.stdout
          .split('\n')
          .some((line) => line.includes('dport=3478') && !line.includes('[UNREPLIED]'));
      };
      const deadline = Date.now() + 15_000;
      while (!(mappingAnswered('ra') && mappingAnswered('rb'))) {
        if (Date.now() > deadline) throw new Error('no heartbeat was answered through a new mapping in 15 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      const { opened } = await chatByFingerprint(alice, bob);
      console.log(`[nat-lab] after conntrack -F on both routers: chat open after ${opened.toFixed(0)} ms`);
      expect(alice.stdout).not.toContain('Lost the rendezvous');
    },
    60_000,
  );
});
