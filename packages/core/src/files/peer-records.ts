/**
 * What a record of the peer's control stream does (PROTOCOL.md Files: transfers, Records): an
 * offer and its file records go to offer-intake.ts; the rest name an offer, ours (the peer
 * receives it: sending.ts) or the peer's (it sends it: receiving.ts, offer-intake.ts), and one
 * that names none we have (it ended meanwhile, or never was) is counted and dropped. A record out
 * of place breaks the control stream (the caller stops it).
 */
import type { SessionFiles } from './control-streams.js';
import { onCancelSend, onOffer, onOfferFile } from './offer-intake.js';
import { type FileRecord, offerKey } from './records.js';
import { onFileFailed } from './receiving.js';
import { onAccept, onCancelReceive, onDecline, onVerdict, onWant } from './sending.js';
import type { TransferContext } from './transfer-context.js';
import { isFinal } from './transfer-table.js';

/** Acts on a record; returns what broke the protocol, if it did (the control stream is then of no more use). */
export function actOnRecord(
  ctx: TransferContext,
  files: SessionFiles,
  record: FileRecord,
): string | undefined {
  if (files.collecting) {
    const cancelsIt = record.type === 'cancel_send' && offerKey(record.offer) === files.collecting.offerId;
    if (record.type !== 'offer_file' && !cancelsIt) return `a ${record.type} record inside an offer's files`;
  }
  if (record.type === 'offer') return onOffer(ctx, files, record);
  if (record.type === 'offer_file') return onOfferFile(ctx, files, record);
  if (record.type === 'data') return 'a data record on a control stream';
  // The rest name an offer: ours (the peer receives it) or the peer's (it sends it).
  const direction = record.type === 'file_failed' || record.type === 'cancel_send' ? 'receive' : 'send';
  const t = ctx.table.byOfferId(files.session, direction, offerKey(record.offer));
  if (!t || isFinal(t.state)) {
    ctx.stats.unknownTransfers++;
    return undefined;
  }
  if (record.type === 'accept') onAccept(ctx, t, record);
  else if (record.type === 'decline') onDecline(ctx, t, record);
  else if (record.type === 'want') onWant(ctx, t, record);
  else if (record.type === 'verdict') onVerdict(ctx, t, record);
  else if (record.type === 'cancel_receive') onCancelReceive(ctx, t);
  else if (record.type === 'file_failed') onFileFailed(ctx, t, record);
  else onCancelSend(ctx, files, t);
  return undefined;
}
