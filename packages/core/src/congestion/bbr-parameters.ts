/** BBR's parameters: the draft's constants and netchat's deviations, each with its reason. */
import { MAX_DATAGRAM_SIZE } from './controller.js';

/** 2/ln(2): the smallest gain that doubles the delivery rate every round in Startup. */
export const HIGH_GAIN = 2 / Math.LN2;
export const PROBE_BW_CWND_GAIN = 2;
export const PACING_GAIN_CYCLE = [1.25, 0.75, 1, 1, 1, 1, 1, 1] as const;
/**
 * The queue (ms) one bandwidth probe may build. ProbeBW's 1.25 phase builds a quarter of the
 * propagation time: 50 ms on a 200 ms path, which a chat line sent then would wait behind. So
 * the probe gain is 1 + min(0.25, PROBE_QUEUE_MS / rtprop), and the drain after it the mirror
 * image (netchat's deviation from the draft: on long paths bandwidth increases are found more
 * slowly, 5 % a cycle at 200 ms, instead of 25 %).
 */
export const PROBE_QUEUE_MS = 10;
/** The bandwidth filter's window, in round trips. */
export const BTL_BW_FILTER_ROUNDS = 10;
/** How long a minimum RTT is believed without being measured again (ms). */
export const RTPROP_FILTER_MS = 10_000;
export const PROBE_RTT_DURATION_MS = 200;
/** The smallest window (BBRMinPipeCwnd: 4 datagrams), and ProbeRTT's. */
export const MIN_PIPE_CWND = 4 * MAX_DATAGRAM_SIZE;
/** Startup ends after this many rounds in which the bandwidth grew by less than 25 %. */
export const FULL_BW_ROUNDS = 3;
export const FULL_BW_GROWTH = 1.25;
/** Pacing a little under the estimate (Linux's bbr_pacing_margin_percent). */
export const PACING_MARGIN = 0.01;
/**
 * BBRv2's loss bound: a round that lost more than 2 % of its bytes (and at least 3 datagrams)
 * caps what may be in flight at 0.7 of the round's peak; each round the flow then spends
 * against the cap raises it, by one datagram, then two, four... (BBRv2's probe up). The bytes
 * here are 1200-byte datagrams; a flow that sends larger ones (1452 after a PMTU raise) counts
 * these minimums and raises in its own datagrams (see `largestSent`).
 */
export const LOSS_THRESHOLD = 0.02;
export const LOSS_MIN_BYTES = 3 * MAX_DATAGRAM_SIZE;
export const LOSS_BETA = 0.7;
/** Startup ends on loss only after at least this much of it in a round (BBRv2's full_loss_cnt: 8). */
export const STARTUP_LOSS_MIN_BYTES = 8 * MAX_DATAGRAM_SIZE;
