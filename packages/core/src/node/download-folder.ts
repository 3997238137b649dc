/**
 * Where received files go. The first of these that is set:
 * 1. `--download-dir DIR` (relative to the working folder; a leading `~/` is the home folder,
 *    since a shell does not expand it in `--download-dir=~/x`);
 * 2. `downloadDir` in settings.json (`~/` likewise; a relative path is relative to the home folder);
 * 3. `$XDG_DOWNLOAD_DIR` in the environment (absolute only, as the XDG base directory rules say);
 * 4. `XDG_DOWNLOAD_DIR` in `$XDG_CONFIG_HOME/user-dirs.dirs` (where desktops keep it, often a
 *    translated name such as `~/Téléchargements`; `"$HOME/..."` or absolute; `"$HOME"` alone
 *    means the desktop turned it off);
 * 5. `~/Downloads`.
 * `resolveDownloadFolder` decides (pure); `prepareDownloadFolder` makes the folder if missing and
 * says in one line why it cannot be used; `downloadFolder` does both with the process's own
 * environment.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileProblem } from './home-files.js';
import { makeFolder } from './make-folder.js';

export type DownloadFolderSource = 'argument' | 'settings' | 'environment' | 'user-dirs' | 'default';

export interface DownloadFolderInputs {
  /** `--download-dir`, as typed. */
  readonly argument?: string | undefined;
  /** `downloadDir` from settings.json. */
  readonly setting?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The user's home folder. */
  readonly home: string;
  /** The working folder (for a relative `--download-dir`). */
  readonly cwd: string;
  /** The text of user-dirs.dirs, if there is one. */
  readonly userDirs?: string | undefined;
}

export interface ResolvedDownloadFolder {
  readonly folder: string;
  readonly source: DownloadFolderSource;
}

export function resolveDownloadFolder(inputs: DownloadFolderInputs): ResolvedDownloadFolder {
  const { argument, setting, env, home, cwd } = inputs;
  if (argument) return { folder: resolve(cwd, expandHome(argument, home)), source: 'argument' };
  if (setting) return { folder: resolve(home, expandHome(setting, home)), source: 'settings' };
  const fromEnv = env.XDG_DOWNLOAD_DIR;
  if (fromEnv && isAbsolute(fromEnv)) return { folder: resolve(fromEnv), source: 'environment' };
  const fromUserDirs = inputs.userDirs === undefined ? undefined : userDirsDownload(inputs.userDirs, home);
  if (fromUserDirs) return { folder: fromUserDirs, source: 'user-dirs' };
  return { folder: join(home, 'Downloads'), source: 'default' };
}

/** Where user-dirs.dirs is: `$XDG_CONFIG_HOME/user-dirs.dirs`, else `~/.config/user-dirs.dirs`. */
export function userDirsPath(env: Readonly<Record<string, string | undefined>>, home: string): string {
  const config =
    env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(home, '.config');
  return join(config, 'user-dirs.dirs');
}

/**
 * XDG_DOWNLOAD_DIR in user-dirs.dirs's shell-like text (`XDG_DOWNLOAD_DIR="$HOME/Downloads"`),
 * or undefined if absent, turned off (`"$HOME"`) or not of the two allowed forms.
 */
export function userDirsDownload(text: string, home: string): string | undefined {
  let value: string | undefined;
  for (const line of text.split('\n')) {
    const match = /^\s*XDG_DOWNLOAD_DIR\s*=\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(line);
    if (match) value = (match[1] ?? '').replace(/\\(.)/g, '$1');
  }
  if (value === undefined) return undefined;
  let folder: string;
  if (value === '$HOME' || value === '$HOME/') return undefined;
  if (value.startsWith('$HOME/')) folder = join(home, value.slice('$HOME/'.length));
  else if (isAbsolute(value)) folder = value;
  else return undefined;
  return resolve(folder) === resolve(home) ? undefined : resolve(folder);
}

export type PreparedDownloadFolder =
  | { readonly ok: true; readonly folder: string }
  | { readonly ok: false; readonly message: string };

/** Makes `folder` (and its parents) if missing, and checks it is a folder we may write in. */
export function prepareDownloadFolder(folder: string): PreparedDownloadFolder {
  let exists = true;
  try {
    if (!statSync(folder).isDirectory())
      return { ok: false, message: `the download folder ${folder} is not a folder` };
  } catch {
    exists = false;
  }
  if (!exists) {
    try {
      makeFolder(folder);
    } catch (error) {
      return { ok: false, message: `cannot make the download folder ${folder}: ${fileProblem(error)}` };
    }
  }
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    return { ok: false, message: `cannot use the download folder ${folder}: ${fileProblem(error)}` };
  }
  return { ok: true, folder };
}

/** The download folder of this process (its environment, home and working folder), ready to use. */
export function downloadFolder(
  argument?: string,
  setting?: string,
  env: NodeJS.ProcessEnv = process.env,
): PreparedDownloadFolder & { readonly source?: DownloadFolderSource } {
  const home = homedir();
  let userDirs: string | undefined;
  try {
    userDirs = readFileSync(userDirsPath(env, home), 'utf8');
  } catch {
    // No user-dirs.dirs: not a desktop, or not set up. The default follows.
  }
  const resolved = resolveDownloadFolder({ argument, setting, env, home, cwd: process.cwd(), userDirs });
  const prepared = prepareDownloadFolder(resolved.folder);
  return prepared.ok ? { ...prepared, source: resolved.source } : prepared;
}

function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}
