/** One direction of a simulated path: one implementation, in @netchat/core/testing (src/testing/link.ts). */
export { Link, type LinkOptions, type LinkStats } from '../../src/testing/link.js';
