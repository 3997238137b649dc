/**
 * What a receiver holds for offers it has not answered yet, and for the transfers it runs, so a
 * peer can never make it hold more (PROTOCOL.md, Files: transfers, Limits). An offer beyond these
 * is declined (`too_many_offers`, `bad_offer`), its file records read and dropped: memory stays
 * bounded whatever a peer sends.
 */
import { OFFER_LIMITS } from './offer-limits.js';

export const TRANSFER_LIMITS = {
  /** Files in one offer. */
  maxFiles: OFFER_LIMITS.maxFiles,
  /** UTF-8 bytes of one offer's paths together (10,000 paths of 209 bytes on average). */
  maxOfferPathBytes: 2 * 1024 * 1024,
  /** Offers not answered yet, per session. */
  maxPendingOffersPerSession: 8,
  /** Offers not answered yet, in all sessions together, and their files and path bytes. */
  maxPendingOffers: 16,
  maxPendingFiles: 2 * OFFER_LIMITS.maxFiles,
  maxPendingPathBytes: 4 * 1024 * 1024,
  /** Offers being received at once (accepted, not done), in all sessions together. */
  maxActiveReceives: 32,
  /**
   * Files asked for and not settled yet (each with its partial file open until it is verified),
   * in all receives together: each receive may always have `ownFilesAsked` (4), and up to its
   * `wantAhead` (16) while all together have fewer than `sharedFilesAsked` (64), and those of
   * its peer fewer than `peerFilesAsked` (32). So at most 32 × 4 + 64 = 192 partial files are
   * open at once, whatever peers offer (receiving.ts).
   */
  ownFilesAsked: 4,
  sharedFilesAsked: 64,
  /**
   * Files asked for and not settled by the receives of one peer (its key) together, past which
   * each of them asks only its own `ownFilesAsked`: half of `sharedFilesAsked`, so one peer never
   * takes the whole pool and every other peer's receive can still go past its own 4. One or two
   * receives of a peer at once never reach it (16 each).
   */
  peerFilesAsked: 32,
  /**
   * An accepted receive must get this much (bytes written; a file whose data ended counts
   * `stallFileBytes`) in each window of `stallWindowMs` spent waiting on its sender, or it ends
   * `stalled` (receive-stalls.ts); when every slot is taken, one behind that pace after
   * `stallGraceMs` of its window makes room for a new offer.
   */
  stallWindowMs: 30_000,
  stallFloorBytes: 16 * 1024,
  stallGraceMs: 5_000,
  stallFileBytes: 1024,
  /** Transfers that ended kept for `list` (the oldest forgotten first). */
  maxEndedKept: 64,
} as const;

export type TransferLimits = { readonly [K in keyof typeof TRANSFER_LIMITS]: number };
