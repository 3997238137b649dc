/**
 * Which controller a path gets. The default is BBR: on the simulated paths of issue 19 it kept
 * the bottleneck busy (≥ 97 %) with a short queue (p95 ≤ 19 ms: a chat line waits little behind
 * a transfer), where NewReno fills the buffer (p95 28 ms at 50 ms, 68 ms at 200 ms) and
 * LEDBAT++ either fills it (its 60 ms target exceeds a 1 BDP buffer) or, with a 15 ms target,
 * leaves 8-10 % of the link idle and shares it unfairly on long paths (bench/congestion.ts
 * prints the figures). It still misses one goal: a second flow started 5 s late on 10 Mbit/s at
 * 200 ms gets only 0.57 of the first's share 10-30 s after it starts (it converges within ~80 s).
 */
import { Bbr } from './bbr.js';
import type { CongestionController, RttSource } from './controller.js';
import { Ledbat } from './ledbat.js';
import { NewReno } from './new-reno.js';

export type ControllerKind = 'bbr' | 'newreno' | 'ledbat++';

export const DEFAULT_CONTROLLER: ControllerKind = 'bbr';

export interface ControllerChoice {
  kind?: ControllerKind;
  /** A uniformly random unsigned 32-bit integer (BBR's starting phase). */
  randomU32?: () => number;
  /** LEDBAT++'s target queueing delay (ms). */
  target?: number;
}

export function createController(rtt: RttSource, choice: ControllerChoice = {}): CongestionController {
  switch (choice.kind ?? DEFAULT_CONTROLLER) {
    case 'newreno':
      return new NewReno(rtt);
    case 'ledbat++':
      return new Ledbat(rtt, choice.target === undefined ? {} : { target: choice.target });
    default:
      return new Bbr(choice.randomU32 ? { randomU32: choice.randomU32 } : {});
  }
}
