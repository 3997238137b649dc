/**
 * A peer's offer arriving (the receiver's side): its `offer` record, then one `offer_file` per
 * file in order. Before anything is kept, the offer is held to the limits (transfer-limits.ts):
 * past them it is declined at once (`too_many_offers`, `bad_offer`) and its file records are read
 * and dropped, so what a peer can make us hold is bounded whatever it sends. Once its last file
 * came, each path is made safe or the offer refused (Files: names), and the person is asked. When
 * every receive slot is taken, a receive that stalled makes room, if one has (receive-stalls.ts).
 */
import type { SessionId } from '../events.js';
import { checkOffer } from './offer-limits.js';
import { makeRoom } from './receive-stalls.js';
import { offerBytes, offerKey, type RecordOf } from './records.js';
import type { Collecting, SessionFiles } from './control-streams.js';
import type { TransferContext } from './transfer-context.js';
import { cancelled, declined } from './transfer-ending.js';
import { advance } from './transfer-states.js';
import { fileInfo, newFile, type Transfer } from './transfer-table.js';

/** Takes an offer's header in; returns what broke the protocol, if it did. */
export function onOffer(
  ctx: TransferContext,
  files: SessionFiles,
  record: RecordOf<'offer'>,
): string | undefined {
  const offerId = offerKey(record.offer);
  if (ctx.table.byOfferId(files.session, 'receive', offerId)) return 'an offer id used twice in one session';
  const problem = admit(ctx, files.session, record);
  if (problem) {
    refuse(ctx, files.session, offerId, problem);
    files.collecting = skipping(offerId, record.files);
    return undefined;
  }
  const info = ctx.port.session(files.session);
  const transfer = ctx.table.add({
    direction: 'receive',
    session: files.session,
    peerKey: info?.publicKey ?? '',
    offerId,
    state: 'collecting',
    totalSize: record.totalSize,
    expectedFiles: record.files,
  });
  files.collecting = { offerId, files: record.files, next: 0, transfer: transfer.id };
  return undefined;
}

/** Takes one of the offer's files in; returns what broke the protocol, if it did. */
export function onOfferFile(
  ctx: TransferContext,
  files: SessionFiles,
  record: RecordOf<'offer_file'>,
): string | undefined {
  const collecting = files.collecting;
  if (!collecting || offerKey(record.offer) !== collecting.offerId || record.index !== collecting.next)
    return 'a file record out of its offer, or out of order';
  collecting.next++;
  if (collecting.next >= collecting.files) files.collecting = undefined;
  const transfer = collecting.transfer === undefined ? undefined : ctx.table.get(collecting.transfer);
  if (transfer?.state !== 'collecting') return undefined; // being skipped
  const pathBytes = Buffer.byteLength(record.path, 'utf8');
  transfer.pathBytes += pathBytes;
  if (
    transfer.pathBytes > ctx.options.limits.maxOfferPathBytes ||
    pendingLoad(ctx).pathBytes > ctx.options.limits.maxPendingPathBytes
  ) {
    endCollecting(ctx, files, transfer, 'too_many_offers');
    return undefined;
  }
  const hash = Buffer.from(record.hash).toString('hex');
  transfer.files.push(newFile(record.index, record.path, record.path, record.size, hash));
  if (files.collecting === undefined) offerComplete(ctx, transfer);
  return undefined;
}

/** The sender cancelled an offer, maybe while its file records were still coming. */
export function onCancelSend(ctx: TransferContext, files: SessionFiles, transfer: Transfer): void {
  if (files.collecting?.transfer === transfer.id) files.collecting = undefined;
  if (!cancelled(ctx, transfer, 'peer')) ctx.stats.protocolErrors++;
}

/** Every file of the offer came: made safe and checked, then shown to the person. */
function offerComplete(ctx: TransferContext, transfer: Transfer): void {
  const check = checkOffer(transfer.files.map((f) => ({ path: f.offeredPath, size: f.size })));
  const sum = transfer.files.reduce((total, f) => total + f.size, 0);
  if (!check.ok || sum !== transfer.totalSize) {
    refuse(ctx, transfer.session, transfer.offerId, 'bad_offer');
    // The table's record goes as declined (by us): listed, then forgotten like any ended transfer.
    declined(ctx, transfer, 'bad_offer', 'local');
    return;
  }
  check.files.forEach((safe, index) => {
    const offered = transfer.files[index];
    if (offered)
      transfer.files[index] = newFile(
        index,
        offered.offeredPath,
        safe.path,
        offered.size,
        offered.hash,
        safe.renamed,
      );
  });
  advance(transfer, 'offer_complete');
  ctx.emit({
    type: 'file_offer',
    transfer: transfer.id,
    session: transfer.session,
    direction: 'receive',
    offerId: transfer.offerId,
    files: transfer.files.map(fileInfo),
    totalSize: transfer.totalSize,
  });
}

/** Why an offer cannot be taken in, before its files come; undefined if it can. */
function admit(
  ctx: TransferContext,
  session: SessionId,
  record: RecordOf<'offer'>,
): 'too_many_offers' | 'bad_offer' | undefined {
  const limits = ctx.options.limits;
  if (record.files < 1 || record.files > limits.maxFiles) return 'bad_offer';
  const load = pendingLoad(ctx, session);
  if (
    load.sessionOffers >= limits.maxPendingOffersPerSession ||
    load.offers >= limits.maxPendingOffers ||
    load.files + record.files > limits.maxPendingFiles
  )
    return 'too_many_offers';
  // Every slot taken: a receive behind the floor's pace makes room (receive-stalls.ts), if one is.
  if (load.active >= limits.maxActiveReceives && !makeRoom(ctx)) return 'too_many_offers';
  return undefined;
}

/** What the offers not answered yet hold, and how many are being received. */
function pendingLoad(ctx: TransferContext, session?: SessionId) {
  const load = { offers: 0, sessionOffers: 0, files: 0, pathBytes: 0, active: 0 };
  for (const t of ctx.table.all()) {
    if (t.direction !== 'receive') continue;
    if (t.state === 'accepted') load.active++;
    if (t.state !== 'collecting' && t.state !== 'offered') continue;
    load.offers++;
    if (t.session === session) load.sessionOffers++;
    load.files += t.expectedFiles;
    load.pathBytes += t.pathBytes;
  }
  return load;
}

/** Declines an offer without asking the person, and counts it. */
function refuse(
  ctx: TransferContext,
  session: SessionId,
  offerId: string,
  reason: 'too_many_offers' | 'bad_offer',
): void {
  ctx.stats.offersRefused++;
  ctx.send(session, { type: 'decline', offer: offerBytes(offerId), reason });
}

/** Stops collecting an offer past the limits: declined, the rest of its file records dropped. */
function endCollecting(
  ctx: TransferContext,
  files: SessionFiles,
  transfer: Transfer,
  reason: 'too_many_offers',
): void {
  refuse(ctx, files.session, transfer.offerId, reason);
  if (files.collecting?.transfer === transfer.id)
    files.collecting = { ...files.collecting, transfer: undefined };
  transfer.files.length = 0;
  declined(ctx, transfer, reason, 'local');
}

function skipping(offerId: string, count: number): Collecting | undefined {
  return count > 0 ? { offerId, files: count, next: 0, transfer: undefined } : undefined;
}
