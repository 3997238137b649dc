/** A PeerPort that records calls and lets a test play the network. */
import type { Address, KnownPeer, PeerTrust, SaveFailure, SessionInfo } from '@netchat/core';
import { type ModelSettings, type PeerPort, TuiModel } from '../src/model/tui-model.js';

export class FakePort implements PeerPort {
  calls: string[] = [];
  nowMs = 10_000;
  infos = new Map<number, SessionInfo>();
  private nextMessageId = 1;
  private nextSession = 100;
  failSend: Error | undefined;

  async resolve(host: string, port: number): Promise<Address> {
    if (host === 'nowhere.invalid') throw new Error('invalid address "nowhere.invalid": host name not found');
    return { host: host === 'localhost' ? '127.0.0.1' : host, port };
  }
  connectTo(address: Address): number {
    this.calls.push(`connect ${address.host}:${address.port}`);
    return this.nextSession++;
  }
  accept(session: number): void {
    this.calls.push(`accept ${session}`);
  }
  decline(session: number): void {
    this.calls.push(`decline ${session}`);
  }
  send(session: number, text: string): number {
    if (this.failSend) throw this.failSend;
    this.calls.push(`send ${session} ${text}`);
    return this.nextMessageId++;
  }
  closeSession(session: number): void {
    this.calls.push(`close ${session}`);
  }
  setNick(nick: string): void {
    if (nick.length > 32) throw new Error('invalid nick: at most 32 bytes');
    this.calls.push(`nick ${nick}`);
  }
  setTyping(session: number, typing: boolean): boolean {
    this.calls.push(`typing ${session} ${typing}`);
    return true;
  }
  /** The known peers /contacts lists and /connect NICK looks up. */
  contactList: KnownPeer[] = [];
  contacts(): readonly KnownPeer[] {
    return this.contactList;
  }
  session(session: number): SessionInfo | undefined {
    return this.infos.get(session);
  }
  now(): number {
    return this.nowMs;
  }
  quit(): void {
    this.calls.push('quit');
  }
  /** Keys the test says are known, by public key: the nick they are known as. */
  known = new Map<string, string>();
  /** Keys the test says the user verified (`netchat contacts verify`). */
  verified = new Set<string>();
  /** Our own key's fingerprint. */
  ownFingerprint = 'MYFP-MYFP-MYFP-MYFP';
  fingerprint(): string {
    return this.ownFingerprint;
  }
  trust(publicKey: string, nick: string): PeerTrust {
    const knownAs = this.known.get(publicKey);
    if (knownAs !== undefined)
      return { status: 'known', knownAs, ...(this.verified.has(publicKey) && { verified: true as const }) };
    for (const [key, name] of this.known)
      if (name === nick && key !== publicKey)
        return {
          status: 'nick_conflict',
          knownFingerprint: 'KNWN-KNWN-KNWN-KNWN',
          ...(this.verified.has(key) && { verified: true as const }),
        };
    return { status: 'new' };
  }
  /** Nicks whose keys the model asked to remember, in order. */
  remembered: string[] = [];
  /**
   * Set: remembering cannot be saved, and (as KnownPeers does when the netchat home cannot be
   * written) the save-failure listeners are told; nothing is thrown.
   */
  rememberFails: SaveFailure | undefined;
  private readonly saveListeners: ((failure: SaveFailure) => void)[] = [];
  onSaveFailure(listener: (failure: SaveFailure) => void): void {
    this.saveListeners.push(listener);
  }
  remember(publicKey: string, nick: string): void {
    this.remembered.push(nick);
    this.known.set(publicKey, nick);
    const failure = this.rememberFails;
    if (failure) for (const listener of this.saveListeners) listener(failure);
  }
}

/** A model on a fake port, at a fixed time, as the tests want it. */
export function testModel(settings: Partial<ModelSettings> = {}): { port: FakePort; model: TuiModel } {
  const port = new FakePort();
  const model = new TuiModel(port, {
    nick: 'me',
    localAddress: '[::]:7000',
    acceptAll: false,
    verbose: false,
    clock: () => new Date('2026-11-24T10:30:00'),
    knownPeers: port,
    ...settings,
  });
  return { port, model };
}

/** A stable made-up identity per nick, for request and accepted events in tests. */
export function identityOf(nick: string): { publicKey: string; fingerprint: string } {
  return {
    publicKey: Buffer.from(nick.padEnd(32, '_').slice(0, 32)).toString('hex'),
    fingerprint: `${`${nick.toUpperCase()}XXXX`.slice(0, 4)}-FPFP-FPFP-FPFP`,
  };
}
