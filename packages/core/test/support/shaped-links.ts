/** Shaped links on the virtual network: one implementation, in @netchat/core/testing (src/testing/shaped-links.ts). */
export {
  type Admits,
  type PathShape,
  pathLink,
  RelayBudget,
  ShapedLinks,
  shapePath,
} from '../../src/testing/shaped-links.js';
