// @types/sodium-native (2.3.9) predates these; sodium-native 5 has libsodium's streaming
// generichash with a caller-held state (crypto_generichash_STATEBYTES bytes).
import 'sodium-native';

declare module 'sodium-native' {
  export function crypto_generichash_init(
    state: Uint8Array,
    key: Uint8Array | null,
    outputLength: number,
  ): void;
  export function crypto_generichash_update(state: Uint8Array, input: Uint8Array): void;
  export function crypto_generichash_final(state: Uint8Array, output: Uint8Array): void;
}
