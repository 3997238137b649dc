/**
 * The storage's answers (storage-requests.ts), each taken to the transfer and file it was for. An
 * answer may come after its transfer ended: then what it opened is put away again.
 */
import { onFinished, onLateFinish, onWriteDone } from './receive-pipe.js';
import { onOpened } from './receiving.js';
import { onReadDone } from './send-pipe.js';
import type { StorageOutcome, StorageRequest } from './storage-requests.js';
import type { TransferContext } from './transfer-context.js';
import { isFinal } from './transfer-table.js';

/** The storage answered `request` with `outcome`. */
export function onStorageAnswer(
  ctx: TransferContext,
  request: StorageRequest,
  outcome: StorageOutcome,
): void {
  const t = ctx.table.get(request.transfer);
  const file = t?.files[request.file];
  if (!t || !file || isFinal(t.state)) {
    // An answer after its transfer ended is dropped, whatever it says: the ending (interrupted,
    // cancelled, failed) already put away what the transfer held and told the peer what it
    // had to. A storage failure then is the ending's doing (a write whose file was closed
    // under it), never a verdict: an interrupted transfer stays interrupted, and resumable.
    // A partial file opened meanwhile is put away again (removed if it was cancelled).
    if (request.kind === 'open' && outcome.ok)
      ctx.request({
        kind: t?.state === 'cancelled' ? 'discard' : 'close',
        transfer: request.transfer,
        file: request.file,
      });
    // A finish that placed the file all the same: the file is here, and the person is told.
    if (request.kind === 'finish' && t && file) onLateFinish(ctx, t, file, outcome);
    return;
  }
  if (request.kind === 'read') onReadDone(ctx, t, file, request.offset, request.length, outcome);
  else if (request.kind === 'open') onOpened(ctx, t, file, outcome);
  else if (request.kind === 'write') onWriteDone(ctx, t, file, request.bytes.length, outcome);
  else if (request.kind === 'finish') onFinished(ctx, t, file, outcome);
}
