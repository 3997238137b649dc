/** The client's words for people: never an empty name, never doubled brackets. */
import { assessTrust, describeTrust } from '@netchat/core';
import { describe, expect, it } from 'vitest';
import { peerName, texts } from '../src/index.js';

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

  it('an IPv6 peer is bracketed once before its lines and prompts', () => {
    expect(texts.peerTag({ host: '::1', port: 8888 })).toBe('[::1]:8888');
    expect(texts.peerTag({ host: '127.0.0.1', port: 8888 })).toBe('[127.0.0.1:8888]');
  });
});
