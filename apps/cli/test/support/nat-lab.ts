/**
 * The NAT lab's harness (lab/nat-lab.sh builds it): labs named after this process, the programs
 * run inside its namespaces, and what a test does to a router (loss, cut, restore, rate, rebind).
 * Needs root, ip, tc and iptables; `labMissing` says what is missing, so a suite skips with the reason.
 * `removeLabs` (after each test) stops the lab's programs and removes its namespaces.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProgramProcess, temporaryDirectory } from '@netchat/testkit';
import { NetchatProcess } from './netchat-process.js';

export const labScript = fileURLToPath(new URL('../lab/nat-lab.sh', import.meta.url));
const rendezvousScript = fileURLToPath(new URL('../lab/rendezvous.mjs', import.meta.url));

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const root = process.getuid?.() === 0;
/** Why the lab cannot be built here ('' when it can); tc shapes a router's links (nat-lab.sh rate). */
export const labMissing = !root
  ? 'not root'
  : !has('ip') || !has('tc')
    ? 'no ip or tc (iproute2)'
    : !has('iptables')
      ? 'no iptables'
      : '';
export const hasConntrack = has('conntrack');

/** The rendezvous of the lab: a program on the public network, its output collected. */
export class LabRendezvous extends ProgramProcess {
  /** Waits (at most `ms`) until its output holds `text` `times` times. */
  waitFor(text: string, ms = 10_000, times = 1): Promise<void> {
    return this.until(() => this.stdout.split(text).length - 1 >= times, text, ms);
  }

  /** What the rendezvous counted so far (it prints a stats line for each line it reads). */
  async stats(): Promise<Record<string, number>> {
    const before = this.stdout.split('"stats"').length - 1;
    this.type('stats');
    await this.waitFor('"stats"', 5_000, before + 1);
    const lines = this.stdout.split('\n').filter((l) => l.includes('"stats"'));
    return JSON.parse(lines[lines.length - 1] as string);
  }
}

let serial = 0;

/**
 * What the kernel lacks to duplicate and reorder (nat-lab.sh probe: iptables TEE and CLASSIFY, tc
 * htb), '' when it has them all; asked in a namespace of this process's, removed at once.
 */
export function labCannotSpoil(): string {
  if (labMissing) return labMissing;
  const probed = spawnSync(labScript, ['probe', `n${process.pid.toString(36)}x${serial++}`], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (probed.status !== 0) return `nat-lab.sh probe failed: ${probed.stderr}`;
  const missing = probed.stdout.trim();
  return missing ? `no ${missing} in this kernel` : '';
}
const made: string[] = [];

export type NatMode = 'eim' | 'random';
export type Side = 'a' | 'b';
/** What a router does to the datagrams it forwards (nat-lab.sh's sub-commands of that name). */
export type RouterAction = 'loss' | 'cut' | 'restore' | 'rate' | 'rebind' | 'duplicate' | 'reorder';

/** One lab: the namespaces PREFIX-pub, -ra, -rb, -a, -b (nat-lab.sh's picture). */
export class NatLab {
  readonly prefix: string;

  /** `mode`: the routers' NATs; `homeC`: home c's (where a laptop moves), if it differs. */
  constructor(mode: NatMode, homeC: NatMode = mode) {
    // Unique to this process (two suites may run side by side), and short: interface names are
    // the prefix plus two characters, within Linux's 15.
    this.prefix = `n${process.pid.toString(36)}x${serial++}`;
    made.push(this.prefix);
    const up = spawnSync(labScript, ['up', this.prefix, mode, homeC], { encoding: 'utf8', timeout: 30_000 });
    if (up.status !== 0) throw new Error(`nat-lab.sh up failed: ${up.stderr}`);
  }

  /** Runs one of nat-lab.sh's router sub-commands on a side (c: the home a laptop moved to). */
  router(action: RouterAction, side: Side | 'c', ...args: string[]): void {
    const done = spawnSync(labScript, [action, this.prefix, side, ...args], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (done.status !== 0) throw new Error(`nat-lab.sh ${action} ${side} failed: ${done.stderr}`);
  }

  /**
   * Carries home a's laptop to home c (nat-lab.sh move): same private address and sockets, a new
   * router, so the world sees it at 10.200.0.4 instead of 10.200.0.2.
   */
  moveLaptop(): void {
    const done = spawnSync(labScript, ['move', this.prefix], { encoding: 'utf8', timeout: 10_000 });
    if (done.status !== 0) throw new Error(`nat-lab.sh move failed: ${done.stderr}`);
  }

  /**
   * A second laptop behind router a (nat-lab.sh neighbour: namespace PREFIX-n, 192.168.3.2): the
   * same public address as home a's, and the router does not hairpin.
   */
  addNeighbour(): void {
    const done = spawnSync(labScript, ['neighbour', this.prefix], { encoding: 'utf8', timeout: 10_000 });
    if (done.status !== 0) throw new Error(`nat-lab.sh neighbour failed: ${done.stderr}`);
  }

  /** The rendezvous on 10.200.0.1:3478 (MARKER: plaintext it counts; a relay budget in bytes/s). */
  async rendezvous(marker = '', relayBytesPerSecond?: number): Promise<LabRendezvous> {
    const args = [
      '10.200.0.1',
      '3478',
      marker,
      ...(relayBytesPerSecond ? [String(relayBytesPerSecond)] : []),
    ];
    const rendezvous = new LabRendezvous(rendezvousScript, args, {}, { wrapper: this.wrapper('pub') });
    await rendezvous.waitFor('"listening"');
    return rendezvous;
  }

  /**
   * netchat in a home (a at 192.168.1.2, b at 192.168.2.2, n: home a's neighbour at 192.168.3.2,
   * once added) or on the public network beside the rendezvous (pub, 10.200.0.1: no NAT in front
   * of it); `home`: its NETCHAT_HOME; `port`: the one to listen on (0: any, as a test normally
   * asks; a fixed one to start a program again there).
   */
  netchat(side: Side | 'pub' | 'n', args: string[], home?: string, port = 0): NetchatProcess {
    const host = { a: '192.168.1.2', b: '192.168.2.2', n: '192.168.3.2', pub: '10.200.0.1' }[side];
    const at = [String(port), '--host', host];
    return new NetchatProcess([...at, ...args], home ? { NETCHAT_HOME: home } : {}, {
      wrapper: this.wrapper(side),
    });
  }

  /** What a router's conntrack holds for UDP (conntrack -L). */
  conntrack(side: Side | 'c'): string {
    return spawnSync('ip', ['netns', 'exec', `${this.prefix}-r${side}`, 'conntrack', '-L', '-p', 'udp'], {
      encoding: 'utf8',
    }).stdout;
  }

  /**
   * The bytes and datagrams a home's link carried so far (its own end: tx what the home sent, rx
   * what reached it), from the kernel's counters (ip -s link).
   */
  homeLink(side: Side): { txBytes: number; rxBytes: number; txPackets: number; rxPackets: number } {
    const shown = spawnSync(
      'ip',
      ['-n', `${this.prefix}-${side}`, '-j', '-s', 'link', 'show', `${this.prefix}h${side}`],
      {
        encoding: 'utf8',
      },
    );
    const [link] = JSON.parse(shown.stdout || '[]') as {
      stats64: Record<'tx' | 'rx', Record<string, number>>;
    }[];
    if (!link) throw new Error(`no link ${this.prefix}h${side}: ${shown.stderr}`);
    const { tx, rx } = link.stats64;
    return {
      txBytes: Number(tx.bytes),
      rxBytes: Number(rx.bytes),
      txPackets: Number(tx.packets),
      rxPackets: Number(rx.packets),
    };
  }

  /** The router's FORWARD chain with its counters (iptables -L -v -x), to say what it dropped. */
  forwardRules(side: Side): string {
    return spawnSync(
      'ip',
      ['netns', 'exec', `${this.prefix}-r${side}`, 'iptables', '-L', 'FORWARD', '-v', '-x', '-n'],
      {
        encoding: 'utf8',
      },
    ).stdout;
  }

  /** The router's mangle FORWARD chain with its counters: what duplicate and reorder matched. */
  mangleRules(side: Side): string {
    return spawnSync(
      'ip',
      [
        'netns',
        'exec',
        `${this.prefix}-r${side}`,
        'iptables',
        '-t',
        'mangle',
        '-L',
        'FORWARD',
        '-v',
        '-x',
        '-n',
      ],
      { encoding: 'utf8' },
    ).stdout;
  }

  private wrapper(namespace: string): string[] {
    return ['ip', 'netns', 'exec', `${this.prefix}-${namespace}`];
  }
}

/** Stops every program (the labs' too) and removes every lab this process made. For afterEach. */
export async function removeLabs(): Promise<void> {
  await ProgramProcess.stopAll();
  for (const prefix of made.splice(0)) spawnSync(labScript, ['down', prefix]);
}

/** A file of `size` random bytes in a new folder. */
export function randomFile(size: number): string {
  const path = join(temporaryDirectory('nat-lab-src-'), 'payload.bin');
  writeFileSync(path, randomBytes(size));
  return path;
}

/** A file's SHA-256, to compare what arrived with what was sent. */
export const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The events of `type` a program printed. */
export const eventsOf = (p: NetchatProcess, type: string) => p.events().filter((e) => e.type === type);

/** Waits (at most `ms`, polling) until `done()` holds. */
export async function until(done: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * bob in home b, taking every chat (`--yes`) and every file into a fresh download folder, with
 * `flags` before those; resolves once the lab's rendezvous has answered him, with his fingerprint.
 */
export async function receivingBob(
  lab: NatLab,
  flags: readonly string[],
): Promise<{ bob: NetchatProcess; fingerprint: string; downloads: string }> {
  const downloads = temporaryDirectory('nat-lab-dl-');
  const bob = lab.netchat('b', [
    ...flags,
    '--yes',
    '--nick',
    'bob',
    '--accept-files',
    '--download-dir',
    downloads,
  ]);
  await bob.waitFor(/it sees you at 10\.200\.0\.3:\d+\./);
  return { bob, fingerprint: String(eventsOf(bob, 'listening')[0]?.fingerprint), downloads };
}
