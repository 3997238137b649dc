/**
 * Every TypeScript example in packages/core/README.md, as a developer meets it: each is the README
 * part of a file in test/readme-examples/ (or support/file-readme-example.ts) word for word; they
 * are compiled against the built package (dist, imported as '@netchat/core') by a strict
 * tsconfig without skipLibCheck, in a folder outside the workspace, and the programs are run.
 * Needs `pnpm build` first (turbo's test task builds).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NetchatPeer } from '../src/index.js';
import { randomData } from './support/partial-files.js';

const core = new URL('..', import.meta.url).pathname;
const examples = join(core, 'test', 'readme-examples');
const fileExample = join(core, 'test', 'support', 'file-readme-example.ts');
const START = '// ---- README ----\n';
const END = '\n// ---- end README ----';

/** A file's source as a developer writes it: imported from the package, not from src. */
function asPublished(source: string): string {
  return source
    .replaceAll("'../../src/testing/index.js'", "'@netchat/core/testing'")
    .replaceAll("'../../src/index.js'", "'@netchat/core'");
}

/** The part of an example file the README shows. */
function readmePart(file: string): string {
  const text = asPublished(readFileSync(file, 'utf8'));
  if (file === fileExample)
    return text
      .split('\n')
      .filter((line) => !line.startsWith('//'))
      .join('\n')
      .trim();
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} has no README part`);
  return text.slice(start + START.length, end);
}

const exampleFiles = readdirSync(examples)
  .filter((name) => name.endsWith('.ts'))
  .map((name) => join(examples, name));

describe("packages/core/README.md's examples", () => {
  it('are each an example file word for word, and every example file is in the README', () => {
    const readme = readFileSync(join(core, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)\n```/g)].map((m) => m[1]);
    const parts = [...exampleFiles, fileExample].map(readmePart);
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    for (const block of blocks) expect(parts).toContain(block);
    for (const part of parts) expect(blocks).toContain(part);
  });
});

describe("packages/core/README.md's Errors", () => {
  it('are what listen throws: the options line the README quotes, a BindError for a bad or taken port', async () => {
    const readme = readFileSync(join(core, 'README.md'), 'utf8');
    const quoted = readme.match(/\(`(invalid options: heartbeatInterval: [^`]+)`\)/)?.[1];
    expect(quoted).toBeDefined();
    await expect(NetchatPeer.listen({ port: 0, heartbeatInterval: -1 })).rejects.toMatchObject({
      name: 'NetchatError',
      code: 'INVALID_OPTIONS',
      message: quoted,
    });
    await expect(NetchatPeer.listen({ port: 99_999 })).rejects.toMatchObject({
      name: 'BindError',
      code: 'EINVAL',
    });
    const taken = await NetchatPeer.listen({ port: 0, host: '127.0.0.1' });
    try {
      await expect(NetchatPeer.listen({ port: taken.address.port, host: '127.0.0.1' })).rejects.toMatchObject(
        {
          name: 'BindError',
          code: 'EADDRINUSE',
        },
      );
    } finally {
      await taken.close(100);
    }
  });
});

describe("packages/core/README.md's examples, built by a developer's strict tsconfig and run", () => {
  let folder = '';
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    if (!existsSync(join(core, 'dist', 'index.d.ts'))) throw new Error('run pnpm build first');
    folder = mkdtempSync(join(tmpdir(), 'netchat-readme-'));
    mkdirSync(join(folder, 'node_modules', '@netchat'), { recursive: true });
    symlinkSync(core, join(folder, 'node_modules', '@netchat', 'core'));
    symlinkSync(join(core, 'node_modules', '@types'), join(folder, 'node_modules', '@types'));
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ type: 'module' }));
    const compilerOptions = {
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      skipLibCheck: false,
      types: ['node'],
      outDir: 'out',
    };
    writeFileSync(join(folder, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts'] }));
    for (const file of [...exampleFiles, fileExample]) {
      const name = file.slice(file.lastIndexOf('/') + 1);
      writeFileSync(join(folder, name), asPublished(readFileSync(file, 'utf8')));
    }
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const built = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [tsc, '-p', folder], { timeout: 120_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    expect(built.output).toBe('');
    expect(built.code).toBe(0);
  }, 150_000);

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });
  afterAll(() => {
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  /** A compiled example running, its output gathered. */
  function run(name: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
    const child = spawn(process.execPath, [join(folder, 'out', `${name}.js`), ...args], {
      cwd: folder,
      env: { ...process.env, ...env },
    });
    children.push(child);
    const program = { child, output: '' };
    child.stdout.on('data', (d: Buffer) => {
      program.output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      program.output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    /** Resolves with the first match of `pattern` in the output, waiting at most `ms`. */
    const waitFor = async (pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray> => {
      const deadline = performance.now() + ms;
      for (;;) {
        const found = program.output.match(pattern);
        if (found) return found;
        if (performance.now() > deadline || child.exitCode !== null)
          throw new Error(`${name}: no ${pattern} in:\n${program.output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    /** The exit code, waiting at most `ms`. */
    const exit = (ms = 20_000) =>
      Promise.race([
        exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`${name} did not exit:\n${program.output}`)), ms),
        ),
      ]);
    return { child, output: () => program.output, waitFor, exit };
  }

  it('chat: one program asks the other to chat; hello! arrives and is delivered; SIGINT ends both with 0', async () => {
    const alice = run('chat');
    const port = (await alice.waitFor(/listening on port (\d+)/))[1] ?? '';
    const bob = run('chat', ['127.0.0.1', port]);
    await alice.waitFor(/request from 127\.0\.0\.1 \d+ \(alice\)/);
    await alice.waitFor(/127\.0\.0\.1: hello!/);
    await bob.waitFor(/message \d+ arrived/);
    alice.child.kill('SIGINT');
    expect(await alice.exit()).toBe(0);
    await bob.waitFor(/the peer closed the session/);
    bob.child.kill('SIGINT');
    expect(await bob.exit()).toBe(0);
  });

  it('identity: a new key that asks is told as new, from the identity kept in NETCHAT_HOME', async () => {
    const home = join(folder, 'identity-home');
    const program = run('identity', [], { NETCHAT_HOME: home });
    const port = Number((await program.waitFor(/listening on port (\d+)/))[1]);
    const asker = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'bob' });
    cleanups.push(() => asker.close(100));
    asker.connectTo({ host: '127.0.0.1', port });
    await program.waitFor(/Fingerprint: [\w-]+ \(new: this key has not been seen before\)/);
    expect(existsSync(join(home, 'identity.key'))).toBe(true);
    program.child.kill('SIGINT');
    expect(await program.exit()).toBe(0);
  });

  it('streams: two programs send each other a file through a slow sink; each arrives whole', async () => {
    const a = randomData(3_000_000, 11);
    const b = randomData(2_000_001, 12);
    for (const [name, data] of [
      ['a.in', a],
      ['b.in', b],
    ] as const)
      writeFileSync(join(folder, name), data);
    const first = run('streams', ['a.in', 'a.out']);
    const port = (await first.waitFor(/listening on port (\d+)/))[1] ?? '';
    const second = run('streams', ['b.in', 'b.out', port]);
    expect(await second.exit(60_000)).toBe(0);
    expect(await first.exit(60_000)).toBe(0);
    expect(first.output()).toContain(`done: ${b.length} bytes written`);
    expect(second.output()).toContain(`done: ${a.length} bytes written`);
    expect(readFileSync(join(folder, 'a.out')).equals(b)).toBe(true);
    expect(readFileSync(join(folder, 'b.out')).equals(a)).toBe(true);
  }, 90_000);

  it('endpoint: the sans-IO fragment sends its request and drops what is not a datagram', async () => {
    const program = run('endpoint');
    expect(await program.exit()).toBe(0);
    expect(program.output()).toContain('session 1: 1 datagram(s) sent to 127.0.0.1:6666');
    expect(program.output()).toMatch(/dropped 1; next deadline in \d+ ms/);
  });

  it('testing: the virtual network opens the session at 10 % loss', async () => {
    const program = run('testing');
    expect(await program.exit()).toBe(0);
    expect(program.output()).toMatch(/session 1: open at \d+ ms/);
  });

  it("file blocks: a folder's files go through the sender's and the receiver's blocks into place", async () => {
    const photos = join(folder, 'photos');
    mkdirSync(join(photos, '2026'), { recursive: true });
    const a = randomData(300_000, 21);
    writeFileSync(join(photos, 'a.jpg'), a);
    writeFileSync(join(photos, '2026', 'b.jpg'), '');
    const downloads = join(folder, 'downloads');
    const home = join(folder, 'blocks-home');
    mkdirSync(home);
    const program = run('file-blocks', [photos, downloads, home]);
    expect(await program.exit()).toBe(0);
    expect(program.output()).toMatch(/photos\/a\.jpg: 300000 bytes/);
    expect(program.output()).toMatch(/photos\/2026\/b\.jpg: 0 bytes/);
    expect(program.output()).toContain('0 unfinished offers recorded');
    expect(readFileSync(join(downloads, 'photos', 'a.jpg')).equals(a)).toBe(true);
    expect(readFileSync(join(downloads, 'photos', '2026', 'b.jpg')).length).toBe(0);
  });
});
