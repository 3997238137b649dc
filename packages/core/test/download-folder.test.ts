/** Where received files go: the resolution order, user-dirs.dirs, and a folder that cannot be used. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  downloadFolder,
  prepareDownloadFolder,
  resolveDownloadFolder,
  userDirsDownload,
  userDirsPath,
} from '../src/index.js';
import { temporaryFolder } from './support/partial-files.js';

const home = '/home/ann';
const base = { env: {}, home, cwd: '/work' };

describe('resolveDownloadFolder', () => {
  it('takes --download-dir first, then settings, then $XDG_DOWNLOAD_DIR, then user-dirs.dirs, then ~/Downloads', () => {
    const all = {
      ...base,
      argument: 'in',
      setting: '/srv/drop',
      env: { XDG_DOWNLOAD_DIR: '/data/dl' },
      userDirs: 'XDG_DOWNLOAD_DIR="$HOME/Téléchargements"\n',
    };
    expect(resolveDownloadFolder(all)).toEqual({ folder: '/work/in', source: 'argument' });
    expect(resolveDownloadFolder({ ...all, argument: undefined })).toEqual({
      folder: '/srv/drop',
      source: 'settings',
    });
    expect(resolveDownloadFolder({ ...all, argument: undefined, setting: undefined })).toEqual({
      folder: '/data/dl',
      source: 'environment',
    });
    expect(resolveDownloadFolder({ ...all, argument: undefined, setting: undefined, env: {} })).toEqual({
      folder: '/home/ann/Téléchargements',
      source: 'user-dirs',
    });
    expect(resolveDownloadFolder(base)).toEqual({ folder: '/home/ann/Downloads', source: 'default' });
  });

  it('expands ~/ in the argument and the setting; a relative setting is relative to the home folder', () => {
    expect(resolveDownloadFolder({ ...base, argument: '~/in' }).folder).toBe('/home/ann/in');
    expect(resolveDownloadFolder({ ...base, argument: '~' }).folder).toBe('/home/ann');
    expect(resolveDownloadFolder({ ...base, setting: '~/dl' }).folder).toBe('/home/ann/dl');
    expect(resolveDownloadFolder({ ...base, setting: 'Downloads/netchat' }).folder).toBe(
      '/home/ann/Downloads/netchat',
    );
  });

  it('ignores a relative $XDG_DOWNLOAD_DIR, as the XDG rules say', () => {
    expect(resolveDownloadFolder({ ...base, env: { XDG_DOWNLOAD_DIR: 'dl' } }).source).toBe('default');
  });
});

describe('user-dirs.dirs', () => {
  it.each([
    ['XDG_DOWNLOAD_DIR="$HOME/Downloads"', '/home/ann/Downloads'],
    ['# comment\nXDG_DESKTOP_DIR="$HOME/Desktop"\nXDG_DOWNLOAD_DIR="/mnt/dl"\n', '/mnt/dl'],
    ['XDG_DOWNLOAD_DIR="$HOME/with \\"quote\\""', '/home/ann/with "quote"'],
    ['XDG_DOWNLOAD_DIR="$HOME"', undefined],
    ['XDG_DOWNLOAD_DIR="$HOME/"', undefined],
    ['XDG_DOWNLOAD_DIR="relative"', undefined],
    ['XDG_DOWNLOAD_DIR=$HOME/unquoted', undefined],
    ['', undefined],
  ])('%j -> %j', (text, folder) => {
    expect(userDirsDownload(text, home)).toBe(folder);
  });

  it('is read from $XDG_CONFIG_HOME, else ~/.config', () => {
    expect(userDirsPath({ XDG_CONFIG_HOME: '/cfg' }, home)).toBe('/cfg/user-dirs.dirs');
    expect(userDirsPath({}, home)).toBe('/home/ann/.config/user-dirs.dirs');
  });
});

describe('prepareDownloadFolder', () => {
  let made: ReturnType<typeof temporaryFolder> | undefined;
  afterEach(() => made?.remove());

  it('makes a missing folder (and its parents) and accepts an existing one', () => {
    made = temporaryFolder('downloads');
    const folder = join(made.folder, 'a', 'b');
    expect(prepareDownloadFolder(folder)).toEqual({ ok: true, folder });
    expect(prepareDownloadFolder(folder)).toEqual({ ok: true, folder });
  });

  it('says in one line why a folder cannot be used', () => {
    made = temporaryFolder('downloads');
    const file = join(made.folder, 'file');
    writeFileSync(file, 'x');
    expect(prepareDownloadFolder(file)).toEqual({
      ok: false,
      message: `the download folder ${file} is not a folder`,
    });
    const under = join(file, 'sub');
    expect(prepareDownloadFolder(under)).toEqual({
      ok: false,
      message: `cannot make the download folder ${under}: a file is where a folder should be`,
    });
  });

  it('downloadFolder resolves with the process environment and prepares the folder', () => {
    made = temporaryFolder('downloads');
    const env = {
      XDG_DOWNLOAD_DIR: join(made.folder, 'from-env'),
      XDG_CONFIG_HOME: join(made.folder, 'cfg'),
    };
    expect(downloadFolder(undefined, undefined, env)).toEqual({
      ok: true,
      folder: join(made.folder, 'from-env'),
      source: 'environment',
    });
    mkdirSync(join(made.folder, 'cfg'));
    writeFileSync(
      join(made.folder, 'cfg', 'user-dirs.dirs'),
      `XDG_DOWNLOAD_DIR="${join(made.folder, 'desk')}"\n`,
    );
    expect(downloadFolder(undefined, undefined, { XDG_CONFIG_HOME: join(made.folder, 'cfg') })).toEqual({
      ok: true,
      folder: join(made.folder, 'desk'),
      source: 'user-dirs',
    });
  });
});
