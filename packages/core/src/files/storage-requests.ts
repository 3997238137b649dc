/**
 * What the engine asks of its storage, and what the storage answers (toxcore's
 * `file_chunk_request`, as data): the sender's file is read a chunk at a time at the offset the
 * stream has room for; the receiver's partial file is opened, written, finished or put away. The
 * engine never waits: it queues a request (`pollRequest`) and goes on when its completion comes
 * back (`complete`). The node adapter does them with FileSource and PartialStore; tests with
 * memory, on virtual time.
 *
 * Requests with an `id` are answered once each; the others (release, close, discard) are not
 * answered. A request may be answered late, after its transfer ended: the engine drops such an
 * answer.
 */
import type { FileFailure } from './file-errors.js';
import type { TransferId } from './file-events.js';

/** Which file a request is about. */
interface About {
  readonly transfer: TransferId;
  readonly file: number;
}

export type StorageRequest =
  /** send: `length` bytes of the file at `offset` (answer: `{ ok, bytes }`, all of them). */
  | (About & {
      readonly kind: 'read';
      readonly id: number;
      readonly offset: number;
      readonly length: number;
      /**
       * A chunk buffer (at least `length` bytes) the engine is done with: the storage may read into
       * it and answer with it, rather than allocate one per read.
       */
      readonly into?: Uint8Array;
    })
  /** send: no more reads of this file (its source can be closed). */
  | (About & { readonly kind: 'release' })
  /**
   * receive: open the partial file for (senderKey, hash, size), to be placed at `name` (a safe
   * relative path); answer `{ ok, offset }`: the bytes of it held durably, where the data goes on.
   */
  | (About & {
      readonly kind: 'open';
      readonly id: number;
      readonly senderKey: string;
      readonly hash: string;
      readonly size: number;
      readonly name: string;
    })
  /**
   * receive: write `bytes` at `offset` (the next in order); answer `{ ok }` once the next may come.
   * `bytes` is a view of the engine's chunk buffer, lent until the answer: the storage copies or
   * writes it before answering, and keeps no reference to it after. Or it is a view, from its
   * start, of the buffer the storage lent with its last answer (`into`): the bytes are already
   * where the storage wants them, and it takes them without a copy.
   */
  | (About & {
      readonly kind: 'write';
      readonly id: number;
      readonly offset: number;
      readonly bytes: Uint8Array;
    })
  /**
   * receive: every byte arrived: verify size and hash, make it durable, place it; answer `{ ok, path }`.
   * `keepRecord`: another offer of the same content from the same peer waits for this one: where
   * the file is placed is recorded, so that offer's `open` answers that every byte is held (no
   * byte sent or written twice, no second copy).
   */
  | (About & { readonly kind: 'finish'; readonly id: number; readonly keepRecord?: boolean })
  /**
   * receive: interrupted: make what was written durable and keep it for a resume. Of a file whose
   * `finish` is pending: let the finish go on, and if it places the file, record where (the
   * sender heard no verdict and will offer it again: the next `open` of it answers that every
   * byte is held, and its `finish` the path it took, with nothing written twice).
   */
  | (About & { readonly kind: 'close' })
  /** receive: cancelled or failed for good: remove the partial file and its state. */
  | (About & { readonly kind: 'discard' });

export type StorageRequestKind = StorageRequest['kind'];

export type StorageOutcome =
  | {
      readonly ok: true;
      /** read: the bytes. */
      readonly bytes?: Uint8Array;
      /** open: the bytes held. */
      readonly offset?: number;
      /** finish: the relative path the file took (`name (1).ext` if its name was taken). */
      readonly path?: string;
      /**
       * write: where the next bytes may be read into (the free part of the storage's own write
       * buffer), lent until the next write, whose `bytes` is then a view of it from its start; the
       * engine reads there rather than into its own buffer, so each byte is copied once. The
       * storage does not touch it meanwhile. None: the engine uses its own.
       */
      readonly into?: Uint8Array;
    }
  | { readonly ok: false; readonly code: FileFailure; readonly message: string };
