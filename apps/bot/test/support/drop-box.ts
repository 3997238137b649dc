/**
 * The attacker tests' drop box: a real `netchat-bot --accept-files DIR --files-quota Q` in a
 * temporary folder of its own (`root`, removed by `cleanup`; DIR is `root/drop`), and the log
 * lines that answer an offer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BotProcess } from './bot-process.js';

export interface DropBox {
  readonly root: string;
  readonly dir: string;
  readonly bot: BotProcess;
}

/** Starts the bot on 127.0.0.1 with a quota of `quota` bytes; `extra` flags go after it. */
export function startDropBox(
  name: string,
  quota: number,
  cleanup: (() => unknown)[],
  extra: string[] = [],
): DropBox {
  const root = mkdtempSync(join(tmpdir(), `netchat-attack-${name}-`));
  cleanup.push(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'drop');
  const bot = new BotProcess([
    '0',
    '--host',
    '127.0.0.1',
    '--accept-files',
    dir,
    '--files-quota',
    String(quota),
    ...extra,
  ]);
  cleanup.push(() => bot.kill());
  return { root, dir, bot };
}

/** A log line that answers an offer: accepted or refused. */
export const offerAnswered = (l: { event?: string }): boolean =>
  l.event === 'file_accepted' || l.event === 'file_refused';
