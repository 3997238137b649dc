/** A peer's request to chat, waiting for the person's answer, and the queue of them, oldest first. */
import type { Address, SessionId, TrustAssessment } from '@netchat/core';

export interface WaitingRequest {
  readonly session: SessionId;
  readonly peer: Address;
  /** Raw: texts make it terminal-safe. */
  readonly nick: string;
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly trust: TrustAssessment;
  /** When it arrived, on the client's clock (ms). */
  readonly since: number;
}

export class RequestQueue {
  private readonly waiting: WaitingRequest[] = [];

  get size(): number {
    return this.waiting.length;
  }

  /** Oldest first. */
  list(): readonly WaitingRequest[] {
    return this.waiting;
  }

  first(): WaitingRequest | undefined {
    return this.waiting[0];
  }

  add(request: WaitingRequest): void {
    this.waiting.push(request);
  }

  find(session: SessionId): WaitingRequest | undefined {
    return this.waiting.find((r) => r.session === session);
  }

  /** Takes the request out of the queue; undefined if it was not waiting. */
  take(session: SessionId): WaitingRequest | undefined {
    const index = this.waiting.findIndex((r) => r.session === session);
    if (index < 0) return undefined;
    return this.waiting.splice(index, 1)[0];
  }
}
