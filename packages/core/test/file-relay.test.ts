/**
 * A file through the rendezvous's relay: the CLI's NAT lab (apps/cli/test/lab/nat-lab.sh: real
 * network namespaces, two homes behind port-randomising NATs, MASQUERADE --random-fully), its
 * rendezvous (apps/cli/test/lab/rendezvous.mjs, the built @netchat/core) on the "public"
 * network, and a file-process.ts in each home. The sender finds the receiver by fingerprint; no
 * direct path can be made, so the chat is relayed; a file goes through it whole and verified,
 * within the relay's per-pair budget (64 KiB/s in bursts of 128 KiB, the default). Needs root, ip
 * and iptables; skipped with the reason otherwise. Every wait is bounded; traffic goes only to
 * addresses inside the namespaces this test made, which it removes.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { contentHash, DEFAULT_RENDEZVOUS_SERVER_OPTIONS } from '../src/index.js';
import { FileProcess, stopAll, type } from './support/file-children.js';
import { randomData, temporaryFolder } from './support/partial-files.js';

const lab = fileURLToPath(new URL('../../../apps/cli/test/lab/nat-lab.sh', import.meta.url));
const rendezvousScript = fileURLToPath(new URL('../../../apps/cli/test/lab/rendezvous.mjs', import.meta.url));

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const missing =
  process.getuid?.() !== 0
    ? 'not root'
    : !has('ip')
      ? 'no ip (iproute2)'
      : !has('iptables')
        ? 'no iptables'
        : '';
if (missing)
  console.log(`[file-relay] skipped: ${missing} (needs root, iproute2 and iptables for the NAT lab)`);

const folders: ReturnType<typeof temporaryFolder>[] = [];
const rendezvousChildren: ChildProcessWithoutNullStreams[] = [];
let prefix: string | undefined;
afterEach(async () => {
  await stopAll();
  for (const child of rendezvousChildren.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
  if (prefix) spawnSync(lab, ['down', prefix]);
  prefix = undefined;
  for (const f of folders.splice(0)) f.remove();
});

describe.skipIf(missing !== '')('a file through the relay (NAT lab, network namespaces)', () => {
  it('crosses two port-randomising NATs through the rendezvous, whole, verified and within the relay budget', async () => {
    // Short (interface names are the prefix and two characters, at most 15) and this process's own.
    prefix = `f${process.pid.toString(36)}r`;
    const up = spawnSync(lab, ['up', prefix, 'random'], { encoding: 'utf8', timeout: 30_000 });
    if (up.status !== 0) throw new Error(`nat-lab.sh up failed: ${up.stderr}`);
    const source = temporaryFolder('relay-src');
    const downloads = temporaryFolder('relay-dst');
    folders.push(source, downloads);
    const data = randomData(384 * 1024 + 7, 384);
    writeFileSync(join(source.folder, 'photo.jpg'), data);

    const rendezvous = new RendezvousProcess(`${prefix}-pub`);
    await rendezvous.listening();
    const env = { NETCHAT_TEST_RENDEZVOUS: '10.200.0.1:3478' };
    const sender = new FileProcess(['send', '33'.repeat(32), '192.168.1.2'], {
      namespace: `${prefix}-a`,
      env,
    });
    const receiver = new FileProcess(['receive', '44'.repeat(32), '192.168.2.2', downloads.folder], {
      namespace: `${prefix}-b`,
      env,
    });
    const [, ready] = await Promise.all([sender.waitFor(type('ready')), receiver.waitFor(type('ready'))]);
    await Promise.all([sender.waitFor(type('registered')), receiver.waitFor(type('registered'))]);
    sender.send(`find ${ready.fingerprint}`);
    await sender.waitFor(type('open'), 30_000);
    const before = await rendezvous.stats();
    const started = performance.now();
    sender.send(`offer ${join(source.folder, 'photo.jpg')}`);
    const received = await receiver.waitFor(type('file_received'), 60_000);
    const seconds = (performance.now() - started) / 1000;
    await sender.waitFor((l) => l.type === 'file_done' && l.direction === 'send' && l.verified === 1);
    const after = await rendezvous.stats();

    expect(received.hash).toBe(contentHash(data));
    expect(readFileSync(received.path as string).equals(data)).toBe(true);
    // It went through the relay: at least the file's bytes were relayed meanwhile.
    const relayedBytes = after.relayedBytes - before.relayedBytes;
    expect(relayedBytes).toBeGreaterThan(data.length);
    // Within the budget: the relay forwards a pair's bytes at most at its rate after a burst
    // (both directions together, so the file's direction is at most that), and it had to drop
    // little (the congestion control keeps to the rate it finds).
    const { relayBytesPerSecond, relayBurstBytes } = DEFAULT_RENDEZVOUS_SERVER_OPTIONS;
    const elapsed = (performance.now() - started) / 1000;
    expect(relayedBytes).toBeLessThanOrEqual(2 * (relayBurstBytes + relayBytesPerSecond * elapsed));
    const dropped = after.relayOverBudget - before.relayOverBudget;
    console.log(
      `[file-relay] ${data.length} bytes relayed in ${seconds.toFixed(1)} s (${(data.length / 1024 / seconds).toFixed(1)} KiB/s; budget ${relayBytesPerSecond / 1024} KiB/s per pair): the relay forwarded ${after.relayed - before.relayed} packets, ${relayedBytes} bytes, dropped ${dropped} over budget`,
    );
  }, 120_000);
});

/** The lab's rendezvous in the public namespace: its JSON lines, and its counters on request. */
class RendezvousProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private output = '';

  constructor(namespace: string) {
    const command = [process.execPath, rendezvousScript, '10.200.0.1', '3478'];
    this.child = spawn('ip', ['netns', 'exec', namespace, ...command]);
    rendezvousChildren.push(this.child);
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.output += chunk;
    });
  }

  async listening(): Promise<void> {
    await this.until(() => this.output.includes('"listening"'), 'listening');
  }

  async stats(): Promise<{ relayed: number; relayedBytes: number; relayOverBudget: number }> {
    const seen = this.output.split('"stats"').length;
    this.child.stdin.write('stats\n');
    await this.until(() => this.output.split('"stats"').length > seen, 'stats');
    const lines = this.output.split('\n').filter((l) => l.includes('"stats"'));
    return JSON.parse(lines.at(-1) as string);
  }

  private async until(done: () => boolean, what: string): Promise<void> {
    const deadline = performance.now() + 10_000;
    while (!done()) {
      if (this.child.exitCode !== null || performance.now() > deadline)
        throw new Error(`the rendezvous: no ${what}\n${this.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
