/**
 * The file-transfer flags the front-ends share: `--download-dir DIR` (where accepted files go)
 * and `--max-file-size SIZE` (offers with a larger file are declined), SIZE as people type it,
 * and the download folder a program uses (`--download-dir`, else settings.json's `downloadDir`,
 * else `$XDG_DOWNLOAD_DIR`, else user-dirs.dirs, else `~/Downloads`: core's rules).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import {
  FileLink,
  type NetchatPeer,
  OutgoingTransfers,
  resolveDownloadFolder,
  userDirsPath,
} from '@netchat/core';
import { z } from 'zod';

export const fileFlags = {
  'download-dir': { type: 'string' },
  'max-file-size': { type: 'string' },
} as const;

const FACTORS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * `10M`, `1.5G`, `700k`, `2GiB`, `123` (bytes) in bytes; undefined if it is not a size. K, M, G
 * and T are powers of 1000, as netchat shows sizes (`2.4 MB`); KiB, MiB, GiB, TiB powers of 1024.
 */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(text);
  const factor = match ? FACTORS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || factor === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A size on the command line (`--max-file-size 10M`), in bytes. */
export const sizeArgument = z.string().transform((text, ctx) => {
  const bytes = parseSize(text);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a size, e.g. 500k, 10M, 1.5G or 2GiB' });
    return z.NEVER;
  }
  return bytes;
});

/** Add to a program's argument schema with `.extend(FileArguments)`. */
export const FileArguments = {
  'download-dir': z.string().min(1, 'needs a folder').optional(),
  'max-file-size': sizeArgument.optional(),
};

export const fileFlagsHelp = `  --download-dir DIR          save received files in DIR (default: downloadDir in settings.json, $XDG_DOWNLOAD_DIR, ~/Downloads)
  --max-file-size SIZE        decline offers with a file larger than SIZE (e.g. 10M, 1.5G, 2GiB)`;

/** The download folder (absolute) this process uses; it is made only when a file is accepted. */
export function downloadFolderOf(
  argument: string | undefined,
  setting: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const home = homedir();
  let userDirs: string | undefined;
  try {
    userDirs = readFileSync(userDirsPath(env, home), 'utf8');
  } catch {
    // No user-dirs.dirs (not a desktop): the default follows.
  }
  return resolveDownloadFolder({ argument, setting, env, home, cwd: process.cwd(), userDirs }).folder;
}

/**
 * The files of a front-end that takes them (the CLI and the TUI): a FileLink on `peer` saving
 * into the download folder this process uses (returned too, for what the program shows),
 * declining files over `--max-file-size`, with our unfinished offers kept in the netchat home
 * and made again when a chat with that peer opens (a resume).
 */
export function fileLinkOf(
  peer: NetchatPeer,
  args: { readonly 'download-dir'?: string | undefined; readonly 'max-file-size'?: number | undefined },
  settings: { readonly downloadDir?: string | undefined },
  home: string,
): { readonly files: FileLink; readonly downloadFolder: string } {
  const downloadFolder = downloadFolderOf(args['download-dir'], settings.downloadDir);
  const files = new FileLink(peer, {
    downloadFolder,
    outgoing: OutgoingTransfers.load(home),
    ...(args['max-file-size'] !== undefined && { maxFileSize: args['max-file-size'] }),
  });
  return { files, downloadFolder };
}
