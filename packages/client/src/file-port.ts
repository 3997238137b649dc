/**
 * What the client needs of the file-transfer link: core's `FileLink` in the apps (it satisfies
 * this as it is), the engine on virtual time in tests. The client never reaches past it. Its
 * events (`LinkEvent`s) are fed to `Transfers.handle`, as the peer's are to `ChatClient.handle`.
 */
import type {
  AcceptOptions,
  AcceptOutcome,
  OfferDeclineReason,
  TransferId,
  TransferInfo,
} from '@netchat/core';

export interface FilePort {
  /**
   * Hashes and offers files and folders to the peer of `session`. Rejects at once (nothing read)
   * with NetchatError FILES_UNSUPPORTED for a peer that takes no files, SESSION_NOT_OPEN or
   * NO_SUCH_SESSION; with FileTransferError when a path cannot be read.
   */
  offer(
    session: number,
    paths: readonly string[],
    onHashing?: (bytes: number, total: number) => void,
  ): Promise<TransferId>;
  /** Accepts an offer into a folder; declined instead (`too_large`, `no_room`) when it cannot be taken. */
  accept(transfer: TransferId, options?: AcceptOptions): Promise<AcceptOutcome>;
  decline(transfer: TransferId, reason?: OfferDeclineReason): void;
  /** Cancels either way (the peer is told); false if it had ended. */
  cancel(transfer: TransferId): boolean;
  transfer(id: TransferId): TransferInfo | undefined;
  /** Our offers to the peer with this key (hex) left unfinished, made again when a chat with it opens. */
  unfinishedOffers?(peerKey: string): number;
}
