/**
 * What each event of the streams does to the file engine (file-transfers.ts): a stream opened is
 * told apart (control or data, control-streams.ts), records of the peer's control stream are acted
 * on (peer-records.ts), data streams read and written as they become readable and writable, a
 * stream stopped by the peer fails or interrupts what it carried, and a session that ended
 * interrupts its transfers. It owns each session's control streams (`SessionFiles`).
 */
import type { NetchatEvent, SessionId } from '../events.js';
import {
  breakControl,
  classify,
  flushControl,
  newSessionFiles,
  readControl,
  type SessionFiles,
} from './control-streams.js';
import { actOnRecord } from './peer-records.js';
import { onDataStream, onReceiveEnd, onReceiveStopped, pumpReceive } from './receive-pipe.js';
import { RecordReader } from './record-reader.js';
import type { FileRecord } from './records.js';
import { onSendComplete, onSendStopped, pumpSend, startSending } from './send-pipe.js';
import type { TransferContext } from './transfer-context.js';
import { failed, interrupted } from './transfer-ending.js';
import { isFinal } from './transfer-table.js';

export class StreamEvents {
  private readonly sessions = new Map<SessionId, SessionFiles>();

  constructor(private readonly ctx: TransferContext) {}

  /**
   * A stream event told after its session ended (a batch is told after the engine call that made
   * it): its stream calls throw, and it is dropped; the session's end comes next. The session is
   * looked at only then (its info is not free, and stream events come with most datagrams).
   */
  handle(event: NetchatEvent): void {
    try {
      this.dispatch(event);
    } catch (error) {
      if (!event.type.startsWith('stream') || this.ctx.port.session(event.session)?.state === 'open')
        throw error;
    }
  }

  private dispatch(event: NetchatEvent): void {
    switch (event.type) {
      case 'stream_opened': {
        const files = this.sessionFiles(event.session);
        files.unknown.set(event.stream, new RecordReader());
        this.onReadable(files, event.stream);
        break;
      }
      case 'stream_readable':
        this.onReadable(this.sessionFiles(event.session), event.stream);
        break;
      case 'stream_writable': {
        const files = this.sessions.get(event.session);
        const data = this.ctx.table.fileOfStream(event.session, event.stream);
        if (files && event.stream === files.ours) flushControl(this.ctx, files);
        else if (data) pumpSend(this.ctx, data.transfer, data.file);
        break;
      }
      case 'stream_finished': {
        const data = this.ctx.table.fileOfStream(event.session, event.stream);
        if (data && event.direction === 'send') onSendComplete(this.ctx, data.transfer, data.file);
        else if (data) onReceiveEnd(this.ctx, data.transfer, data.file);
        break;
      }
      case 'stream_cancelled':
        this.onStreamCancelled(event);
        break;
      case 'streams_available': {
        const files = this.sessions.get(event.session);
        if (files?.blocked) flushControl(this.ctx, files);
        for (const t of this.ctx.table.forSession(event.session))
          if (t.direction === 'send') startSending(this.ctx, t);
        break;
      }
      case 'closed':
      case 'lost':
        this.sessionEnded(
          event.session,
          event.type === 'lost' ? 'the peer was lost' : 'the peer closed the chat',
        );
        break;
      default:
        break;
    }
  }

  private onReadable(files: SessionFiles, stream: number): void {
    if (stream === files.theirs) {
      readControl(
        this.ctx,
        files,
        (r) => this.onRecord(files, r),
        (why) => this.controlBroken(files, why),
      );
      return;
    }
    if (files.unknown.has(stream)) {
      const kind = classify(this.ctx, files, stream);
      if (kind.kind === 'data') onDataStream(this.ctx, files, stream, kind.first);
      if (kind.kind !== 'control') return;
      this.onRecord(files, kind.first);
      if (files.broken) breakControl(this.ctx, files, (why) => this.controlBroken(files, why));
      else this.onReadable(files, stream);
      return;
    }
    const data = this.ctx.table.fileOfStream(files.session, stream);
    if (data?.transfer.direction === 'receive') pumpReceive(this.ctx, data.transfer, data.file);
  }

  private onStreamCancelled(event: Extract<NetchatEvent, { type: 'stream_cancelled' }>): void {
    if (event.reason === 'session_ended') {
      this.sessionEnded(event.session, 'the chat ended');
      return;
    }
    const files = this.sessions.get(event.session);
    if (!files) return;
    files.unknown.delete(event.stream);
    if (event.stream === files.theirs || event.stream === files.ours) {
      if (event.by === 'peer') this.controlBroken(files, 'the peer stopped a control stream');
      return;
    }
    const data = this.ctx.table.fileOfStream(event.session, event.stream);
    if (!data || event.by !== 'peer') return;
    if (event.direction === 'send') onSendStopped(this.ctx, data.transfer, data.file);
    else onReceiveStopped(this.ctx, data.transfer, data.file);
  }

  /** A record of the peer's control stream. */
  private onRecord(files: SessionFiles, record: FileRecord): void {
    const problem = actOnRecord(this.ctx, files, record);
    if (problem) {
      files.broken = true;
      files.brokenWhy = problem;
      this.ctx.stats.protocolErrors++;
    }
  }

  /** The peer's control stream broke the protocol: the session's transfers fail; what arrived is kept. */
  private controlBroken(files: SessionFiles, why: string): void {
    files.broken = true;
    files.collecting = undefined;
    for (const t of this.ctx.table.forSession(files.session)) failed(this.ctx, t, why);
  }

  /** The session ended: every transfer of it is interrupted (resumed when a chat with the peer opens again). */
  private sessionEnded(session: SessionId, why: string): void {
    if (!this.sessions.has(session) && this.ctx.table.forSession(session).every((t) => isFinal(t.state)))
      return;
    this.sessions.delete(session);
    for (const t of this.ctx.table.forSession(session)) interrupted(this.ctx, t, why);
  }

  /** The control streams of `session`, made at its first use. */
  sessionFiles(session: SessionId): SessionFiles {
    let files = this.sessions.get(session);
    if (!files) {
      files = newSessionFiles(session);
      this.sessions.set(session, files);
    }
    return files;
  }
}
