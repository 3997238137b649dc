/**
 * @netchat/core/testing: the engine on virtual time, for tests of anything built on it (core's
 * own, the client's, the front-ends'; as rxjs ships its TestScheduler). One simulated network
 * for every sans-IO node, programs' timers on its clock, seeded randomness, shaped links, and
 * the text fragment a test's peer sends. Nothing here touches a socket or reads a clock.
 */
export { textFragment } from './fragments.js';
export { Link, type LinkOptions, type LinkStats } from './link.js';
export { seededBytes, seededRandom, seededU32 } from './seeded-random.js';
export {
  type Admits,
  type PathShape,
  pathLink,
  RelayBudget,
  type Shapeable,
  ShapedLinks,
  shapePath,
} from './shaped-links.js';
export {
  type EventOf,
  type LinkConditions,
  type MessageOf,
  type SansIoNode,
  type ShapeFunction,
  SimulatedNetwork,
  type Station,
} from './simulated-network.js';
export { settle, VirtualClock, VirtualTimers } from './virtual-timers.js';
