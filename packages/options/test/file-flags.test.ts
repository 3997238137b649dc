import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  completionScript,
  downloadFolderOf,
  FileArguments,
  fileFlags,
  PeerArguments,
  parseCommandLine,
  parseSize,
  peerFlags,
  peerOptionsFrom,
  Settings,
  UsageError,
} from '../src/index.js';

const parse = (...argv: string[]) =>
  parseCommandLine(argv, { ...peerFlags, ...fileFlags }, PeerArguments.extend(FileArguments));

describe('file flags', () => {
  it('reads sizes as people type them: K, M, G, T in 1000s, KiB, MiB, GiB in 1024s', () => {
    expect(parseSize('10M')).toBe(10_000_000);
    expect(parseSize('1.5G')).toBe(1_500_000_000);
    expect(parseSize('700k')).toBe(700_000);
    expect(parseSize('2GiB')).toBe(2 * 2 ** 30);
    expect(parseSize('123')).toBe(123);
    expect(parseSize('0')).toBe(0);
    expect(parseSize('10 MB')).toBe(10_000_000);
    for (const bad of ['', 'M', '-1M', '10X', '1e9', 'ten']) expect(parseSize(bad), bad).toBeUndefined();
  });

  it('--max-file-size and --download-dir on the command line; a bad size is a usage error', () => {
    expect(parse('0', '--max-file-size', '1.5G', '--download-dir', 'in')).toMatchObject({
      'max-file-size': 1_500_000_000,
      'download-dir': 'in',
    });
    expect(() => parse('0', '--max-file-size', 'lots')).toThrow(
      new UsageError('--max-file-size must be a size, e.g. 500k, 10M, 1.5G or 2GiB'),
    );
  });

  it('the download folder: --download-dir, else downloadDir in settings.json, else XDG, else ~/Downloads', () => {
    const env = { XDG_CONFIG_HOME: '/nonexistent-config', XDG_DOWNLOAD_DIR: '/xdg/dl' };
    expect(downloadFolderOf('in', 'fromSettings', env)).toBe(join(process.cwd(), 'in'));
    expect(downloadFolderOf(undefined, 'fromSettings', env)).toBe(join(homedir(), 'fromSettings'));
    expect(downloadFolderOf(undefined, undefined, env)).toBe('/xdg/dl');
    expect(downloadFolderOf(undefined, undefined, { XDG_CONFIG_HOME: '/nonexistent-config' })).toBe(
      join(homedir(), 'Downloads'),
    );
    expect(Settings.safeParse({ downloadDir: '~/in' }).success).toBe(true);
    expect(Settings.safeParse({ downloadDir: '' }).success).toBe(false);
  });

  it('streams and files are turned on only for a program that takes files', () => {
    const args = PeerArguments.parse({ port: '0' });
    expect(peerOptionsFrom(args)).toEqual({ port: 0 });
    expect(peerOptionsFrom(args, { files: true })).toEqual({ port: 0, streams: true, files: true });
  });
});

describe('completion of the file flags', () => {
  const usage = `Usage: x [options] <port>

Options:
  --send-file PATH            offer this file
  --download-dir DIR          save received files in DIR
  --max-file-size SIZE        decline larger
`;
  it('a PATH completes file names, a DIR folders, a SIZE nothing, in every shell', () => {
    const bash = completionScript('x', usage, 'bash');
    expect(bash).toContain('--send-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;');
    expect(bash).toContain('--download-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;');
    expect(bash).toContain('--max-file-size) return ;;');
    const zsh = completionScript('x', usage, 'zsh');
    expect(zsh).toContain("'--send-file[offer this file]:path:_files'");
    expect(zsh).toContain("'--download-dir[save received files in DIR]:dir:_files -/'");
    const fish = completionScript('x', usage, 'fish');
    expect(fish).toContain("complete -c x -l send-file -r -F -d 'offer this file'");
    expect(fish).toContain(
      "complete -c x -l download-dir -x -a '(__fish_complete_directories (commandline -ct))'",
    );
  });
});
