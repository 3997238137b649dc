/**
 * The user's long-term key pair, kept in the netchat home: $NETCHAT_HOME, else
 * $XDG_CONFIG_HOME/netchat, else ~/.config/netchat. Created on first run; the key file is
 * mode 0600 and refused, with a line that says how to fix it, if others can read it.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { equalBytes, generateKeyPair, type KeyPair, keyPairFromSecret, toHex } from '../secure/crypto.js';
import { fileProblem } from './home-files.js';
import { makeFolder } from './make-folder.js';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

export function netchatHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NETCHAT_HOME) return env.NETCHAT_HOME;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'netchat');
  return join(homedir(), '.config', 'netchat');
}

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 32 bytes of lowercase hex');
const KeyFile = z.strictObject({ version: z.literal(1), publicKey: hex32, secretKey: hex32 });

export interface LoadedIdentity {
  keyPair: KeyPair;
  path: string;
  /** True when this run made the key (the first run). */
  created: boolean;
}

export function identityPath(home: string): string {
  return join(home, 'identity.key');
}

/** Reads the key pair from `home`, or makes one there. Throws IdentityError with one clear line. */
export function loadIdentity(home: string = netchatHome()): LoadedIdentity {
  const path = identityPath(home);
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No key yet, or no home yet (a file where a folder of it should be is said when making it).
    if (code !== 'ENOENT' && code !== 'ENOTDIR')
      throw new IdentityError(`cannot read ${path}: ${fileProblem(error)}`);
    return { keyPair: createIdentity(home, path), path, created: true };
  }
  if ((mode & 0o077) !== 0) {
    throw new IdentityError(
      `${path} can be read by others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    );
  }
  let parsed: z.infer<typeof KeyFile>;
  try {
    parsed = KeyFile.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    throw new IdentityError(
      `${path} is corrupt (not a netchat key file); move it away to make a new identity`,
    );
  }
  const keyPair = keyPairFromSecret(Buffer.from(parsed.secretKey, 'hex'));
  if (!equalBytes(keyPair.publicKey, Buffer.from(parsed.publicKey, 'hex'))) {
    throw new IdentityError(`${path} is corrupt (its public key does not match its secret key)`);
  }
  return { keyPair, path, created: false };
}

const WRITABLE_HOME = 'set NETCHAT_HOME to a folder you can write';

function createIdentity(home: string, path: string): KeyPair {
  try {
    makeFolder(home, 0o700);
  } catch (error) {
    throw new IdentityError(`cannot make the netchat home ${home}: ${fileProblem(error)}; ${WRITABLE_HOME}`);
  }
  const keyPair = generateKeyPair();
  const file = { version: 1, publicKey: toHex(keyPair.publicKey), secretKey: toHex(keyPair.secretKey) };
  try {
    // 'wx': never overwrite a key another process just made.
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600); // in case the umask took bits the mode asked for
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new IdentityError(`${path} was made by another netchat at the same moment; start again`);
    throw new IdentityError(`cannot create ${path}: ${fileProblem(error)}; ${WRITABLE_HOME}`);
  }
  return keyPair;
}
