/** Seeded randomness: one implementation, in @netchat/core/testing (src/testing/seeded-random.ts). */
export { seededBytes, seededRandom, seededU32 } from '../../src/testing/seeded-random.js';
