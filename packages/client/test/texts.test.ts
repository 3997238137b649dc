/** The client's words for people: never an empty name, never doubled brackets. */
import { assessTrust, describeTrust } from '@netchat/core';
import { describe, expect, it } from 'vitest';
import { actionOf, actionText, type Conversation, peerName, type Transfer, texts } from '../src/index.js';

const print = 'YRZP-XNNN-LLZO-NRFE';

describe('names', () => {
  it('a peer with no nick is called by the first group of its fingerprint, never ""', () => {
    expect(peerName('', print)).toBe('YRZP');
    expect(peerName('bob', print)).toBe('bob');
    const known = assessTrust(print, '', { status: 'known', knownAs: '' });
    expect(texts.trustNotices(known).map((n) => n.text)).toEqual([`Fingerprint: ${print} (known as YRZP)`]);
    expect(describeTrust(print, '', { status: 'known', knownAs: '' })).toEqual([
      `Fingerprint: ${print} (known as YRZP)`,
    ]);
  });

  it("a transfer's lines name a peer with no nick as its fingerprint line does: by the name we know its key by", () => {
    const trust = assessTrust(print, '', { status: 'known', knownAs: 'bob' });
    expect(texts.trustNotices(trust).map((n) => n.text)).toEqual([`Fingerprint: ${print} (known as bob)`]);
    const conversation = { nick: '', trust } as unknown as Conversation;
    const offer = {
      id: 3,
      conversation,
      files: [{ path: 'a.txt', size: 10 }],
      totalSize: 10,
    } as unknown as Transfer;
    expect(texts.offeredText(offer)).toBe(
      'Offered "a.txt" (10 bytes) to bob: waiting for an answer (transfer 3).',
    );
    const stranger = {
      nick: '',
      trust: assessTrust(print, '', { status: 'new' }),
    } as unknown as Conversation;
    expect(texts.offeredText({ ...offer, conversation: stranger })).toMatch(/ to YRZP: /);
  });

  it('an IPv6 peer is bracketed once before its lines and prompts', () => {
    expect(texts.peerTag({ host: '::1', port: 8888 })).toBe('[::1]:8888');
    expect(texts.peerTag({ host: '127.0.0.1', port: 8888 })).toBe('[127.0.0.1:8888]');
  });
});

describe('actions (/me)', () => {
  it('a text starting with the marker is shown as * nick does', () => {
    const c = {
      peer: { host: '127.0.0.1', port: 6666 },
      target: { host: '127.0.0.1', port: 6666 },
      nick: 'bob',
      trust: undefined,
    } as unknown as Conversation;
    expect(actionText('waves')).toBe('/me waves');
    expect(actionOf('/me waves')).toBe('waves');
    expect(actionOf('/metoo')).toBeUndefined();
    expect(texts.messageText(c, '/me waves 👋')).toBe('[127.0.0.1:6666] * bob waves 👋');
    expect(texts.messageText(c, 'me waves')).toBe('[127.0.0.1:6666] bob: me waves');
    expect(texts.messageText({ ...c, nick: '' }, '/me waves')).toBe(
      '[127.0.0.1:6666] * 127.0.0.1 6666 waves',
    );
  });
});

describe('a transfer that failed', () => {
  const conversation = { nick: 'bob', trust: undefined } as unknown as Conversation;
  const failed = {
    id: 1,
    direction: 'send',
    phase: 'done',
    conversation,
    files: [{ path: 'thirty.bin', size: 30_000_000 }],
    sent: [],
    received: [],
  } as unknown as Transfer;

  it("says once that what arrived is kept (the sender's words for a full disk say it already)", () => {
    const diskFull = {
      file: 0,
      reason: 'disk_full',
      message: "the receiver's disk is full: it goes on from what the receiver could keep when offered again",
      resumable: true,
    } as const;
    expect(texts.fileFailedText(failed, diskFull)).toBe(
      `Transfer 1: "thirty.bin" failed: the receiver's disk is full: it goes on from what the receiver could keep when offered again.`,
    );
    const noSpace = { ...diskFull, message: 'no space left on the disk writing thirty.bin' };
    expect(texts.fileFailedText(failed, noSpace)).toBe(
      'Transfer 1: "thirty.bin" failed: no space left on the disk writing thirty.bin. What arrived is kept: it goes on when offered again.',
    );
  });

  it('ended, not "done", when a file failed', () => {
    expect(texts.endedText(failed)).toBe('Transfer 1 ended: 0 of 1 files verified, 1 failed.');
  });
});

describe('cutToWidth', () => {
  const clusters = (text: string) => [...new Intl.Segmenter().segment(text)].map((s) => s.segment);
  it('cuts between grapheme clusters only: a flag, a family or a skin tone is kept whole or left out', () => {
    for (const text of ['ab🇫🇷🇩🇪xyz', 'a👨‍👩‍👧b👨‍👩‍👧c', 'x👍🏽y👍🏽z', 'éééé', '照片🎉照片']) {
      const whole = clusters(text);
      for (let width = 1; width <= 12; width++) {
        const cut = texts.cutToWidth(text, width);
        if (cut === text) continue;
        expect(cut.endsWith('…')).toBe(true);
        const kept = clusters(cut.slice(0, -1));
        expect(kept, `${text} at ${width}`).toEqual(whole.slice(0, kept.length));
        expect(texts.columnsOf(cut)).toBeLessThanOrEqual(width);
      }
    }
  });
});
