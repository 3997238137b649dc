import { describe, expect, it } from 'vitest';
import { KEY_BYTES, open, seal, sealInto, TAG_BYTES } from '../src/secure/crypto.js';

// crypto.ts calls sodium-native's addon directly, and the addon's release build checks nothing:
// a wrong size would have libsodium write past an array. These show the checks in front of it
// turn a wrong size or array type into an ordinary error, and that a failed tag is an answer,
// not an exception.
describe('sealing and opening one packet', () => {
  const key = new Uint8Array(KEY_BYTES).fill(7);
  const ad = new Uint8Array([1, 2, 3]);
  const plaintext = new TextEncoder().encode('hello');

  it('opens what it sealed, and nothing with another counter, key, associated data or a flipped bit', () => {
    const sealed = seal(key, 42, ad, plaintext);
    expect(sealed.length).toBe(plaintext.length + TAG_BYTES);
    expect(open(key, 42, ad, sealed)).toEqual(plaintext);
    expect(open(key, 43, ad, sealed)).toBeUndefined();
    expect(open(new Uint8Array(KEY_BYTES), 42, ad, sealed)).toBeUndefined();
    expect(open(key, 42, new Uint8Array([1, 2, 4]), sealed)).toBeUndefined();
    for (let i = 0; i < sealed.length; i++) {
      const flipped = Uint8Array.from(sealed);
      flipped[i] = (flipped[i] as number) ^ 0x01;
      expect(open(key, 42, ad, flipped)).toBeUndefined();
    }
    expect(open(key, 42, ad, sealed.subarray(0, TAG_BYTES - 1))).toBeUndefined();
  });

  it('refuses an output of the wrong length or a short key with a RangeError', () => {
    expect(() => sealInto(new Uint8Array(plaintext.length + TAG_BYTES - 1), key, 0, ad, plaintext)).toThrow(
      RangeError,
    );
    expect(() =>
      sealInto(new Uint8Array(plaintext.length + TAG_BYTES), key.subarray(1), 0, ad, plaintext),
    ).toThrow(RangeError);
    expect(() => open(key.subarray(1), 0, ad, new Uint8Array(32))).toThrow(RangeError);
  });

  it('refuses typed arrays other than Uint8Array, whose length is not their size in bytes', () => {
    // 116 elements = 100 + 16, but 232 bytes against the 216 a Uint16Array plaintext of 100 is.
    expect(() => sealInto(new Uint8Array(116), key, 0, ad, new Uint16Array(100) as never)).toThrow(TypeError);
    expect(() => open(key, 0, ad, new Uint16Array(100) as never)).toThrow(TypeError);
    expect(() => open(new Uint32Array(8) as never, 0, ad, new Uint8Array(32))).toThrow(TypeError);
  });
});
