/**
 * The files of the netchat home that could not be written (a read-only home, another owner, a
 * full disk), as the person hears of it: one line per file, the first time, saying what is not
 * kept. The chat goes on; nothing typed is lost (a message is sent whether or not it is logged).
 * Both front-ends use it, so the CLI and the TUI say the same thing.
 */
import { dirname } from 'node:path';
import type { SaveFailure } from '@netchat/core';

/** What a file that failed to save held, for the wording. */
export type StoredThing = 'known peers' | 'chat history' | 'settings';

export interface StorageWarning {
  readonly what: StoredThing;
  readonly failure: SaveFailure;
  /** One line for the person. */
  readonly text: string;
}

/** The parts of KnownPeers and ChatHistory that report failed saves. */
export interface StorageSources {
  knownPeers?: { onSaveFailure(listener: (failure: SaveFailure) => void): void };
  history?: { onWriteFailure(listener: (failure: SaveFailure) => void): void };
}

const CONSEQUENCE: Record<StoredThing, string> = {
  'known peers': "the chat goes on, but peers' keys and addresses are not remembered after you quit",
  'chat history': 'the chat goes on without being logged',
  settings: 'the change lasts until you quit',
};

export function storageWarningText(what: StoredThing, failure: SaveFailure): string {
  const thing = what === 'chat history' ? 'write the chat history' : `save the ${what}`;
  return `Could not ${thing} (${failure.path}: ${failure.reason}): ${CONSEQUENCE[what]}.`;
}

/**
 * Calls `warn` once for each file of the home that fails to save (a second failure of the same
 * file, or of another peer's history file, says nothing new). Settings changes are written by ChatHistory too: a failure on
 * settings.json is worded as settings.
 */
export function watchStorage(sources: StorageSources, warn: (warning: StorageWarning) => void): void {
  const told = new Set<string>();
  const report = (what: StoredThing) => (failure: SaveFailure) => {
    const thing: StoredThing = failure.path.endsWith('settings.json') ? 'settings' : what;
    // One line for the whole history folder, not one per peer's file.
    const key = thing === 'chat history' ? `history:${dirname(failure.path)}` : failure.path;
    if (told.has(key)) return;
    told.add(key);
    warn({ what: thing, failure, text: storageWarningText(thing, failure) });
  };
  sources.knownPeers?.onSaveFailure(report('known peers'));
  sources.history?.onWriteFailure(report('chat history'));
}
