/** A FilePort that records what the model asks and lets a test play the file link's events. */
import type { FilePort } from '@netchat/client';
import type {
  AcceptOutcome,
  LinkEvent,
  OfferDeclineReason,
  TransferFileInfo,
  TransferId,
  TransferInfo,
} from '@netchat/core';

export class FakeFiles implements FilePort {
  calls: string[] = [];
  /** Where the link's events go (the model's Transfers.handle), set by the test. */
  deliver: (event: LinkEvent) => void = () => {};
  private nextId = 1;

  async offer(session: number, paths: readonly string[]): Promise<TransferId> {
    this.calls.push(`offer ${session} ${paths.join('|')}`);
    const transfer = this.nextId++;
    // As the link does: the offer's event comes before the promise resolves.
    this.deliver({
      type: 'file_offer',
      transfer,
      session,
      direction: 'send',
      offerId: `offer${transfer}`,
      files: paths.map((p, i) => fileInfo(p.split('/').at(-1) ?? p, 1000, i)),
      totalSize: 1000 * paths.length,
      held: paths.map(() => 0),
      resuming: false,
    });
    return transfer;
  }

  async accept(transfer: TransferId): Promise<AcceptOutcome> {
    this.calls.push(`accept ${transfer}`);
    return { accepted: true, folder: '/home/zoe/Downloads', held: 0 };
  }

  decline(transfer: TransferId, reason: OfferDeclineReason = 'declined'): void {
    this.calls.push(`decline ${transfer}`);
    this.deliver({ type: 'file_declined', transfer, session: 1, direction: 'receive', reason, by: 'local' });
  }

  cancel(transfer: TransferId): boolean {
    this.calls.push(`cancel ${transfer}`);
    return true;
  }

  transfer(): TransferInfo | undefined {
    return undefined;
  }
}

/** A file as an offer lists it. */
export function fileInfo(path: string, size: number, index = 0): TransferFileInfo {
  return {
    index,
    path,
    offeredPath: path,
    renamed: false,
    size,
    hash: 'ab'.repeat(32),
    state: 'waiting',
    offset: 0,
    bytes: 0,
  };
}

/** A peer's offer of `files` in `session`, as the link reports it. */
export function offerIn(transfer: number, session: number, files: TransferFileInfo[]): LinkEvent {
  return {
    type: 'file_offer',
    transfer,
    session,
    direction: 'receive',
    offerId: `in${transfer}`,
    files,
    totalSize: files.reduce((sum, f) => sum + f.size, 0),
    held: files.map(() => 0),
    resuming: false,
  };
}

/** The link's figures for file 0 of a receive in `session` 1, as a `file_progress` event. */
export function progressIn(
  transfer: number,
  figures: { bytes: number; size: number; rate: number; eta: number },
): LinkEvent {
  return { type: 'file_progress', transfer, session: 1, direction: 'receive', file: 0, ...figures };
}
