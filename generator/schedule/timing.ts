/**
 * The timing of every pipelined loop of src/m3vit_top.cpp and src/kernels/*.h, by its label: the II its
 * `#pragma HLS pipeline II=` states, and the pipeline DEPTH (cycles from an iteration's start
 * to its end, paid once per start of the loop: an entry that runs an iteration, one fill and
 * drain). The IIs are the code's
 * (test/loop-timing.test.ts reads them from the generated kernels); every depth is an
 * ASSUMPTION (no Vitis HLS here: csynth reports the real ones), as is the bus interval of
 * the loops that move m_axi words. The cycle model (generator/estimate/cycles.ts) is
 *
 *   cycles(op) = sum over the op's pipelined loops L of
 *                  iterations(L) x interval(L) + starts(L) x depth(L)
 *                + the op kind's non-pipelined control (cycles.ts, each term stated),
 *   interval(L) = max(II(L), bus cycles per iteration of L),
 *
 * (a loop that runs in a DATAFLOW region beside another, `overlappedBy`, adds only
 * starts x depth: its iterations overlap the other loop's, which counts the max of the two),
 * with iterations and starts from the kernel program (./program.ts), which C simulation
 * counts too (test/csim.test.ts holds the two equal). Per entry this is UG1399's
 * (trip - 1) x II + depth plus one interval for entering and leaving the loop.
 */
import { slotLanes, type Schedule } from './schedule';

/** Timing figures the depths are built from (generator/estimate/hardware.ts Timing has them). */
export interface LoopFigures {
  /** Depth of the PE x SIMD dot product: operand read, multiply, adder tree, accumulate. */
  dot: number;
  /** Depth of an element-wise requant / residual / GELU lane. */
  elementwise: number;
  /** 64-bit divide. */
  div64: number;
  /** Integer square root. */
  isqrt: number;
  /** m_axi read round trip (the interface pragmas' latency). */
  axiLatency: number;
  /** Reads in flight per m_axi port. */
  axiOutstanding: number;
}

/** What a loop moves on the bus per iteration (for its bus interval). */
export interface LoopBus {
  role: 'weights' | 'scratch' | 'input' | 'output';
  dir: 'read' | 'write';
  /** 128-bit words per iteration (a fraction for an ElemReader / Writer16: 1 / 8). */
  words: (s: Schedule) => number;
}

export interface LoopTiming {
  /** The II of the loop's pipeline pragma (a function of the schedule where the template
   * computes it: LB_LOAD, UP_STEPS). */
  ii: (s: Schedule) => number;
  /** Pipeline depth, cycles (ASSUMED). */
  depth: (s: Schedule, f: LoopFigures) => number;
  /** Why that depth. */
  reason: string;
  bus?: LoopBus;
  /** Runs only in debug dumps (never in an estimated run). */
  debugOnly?: boolean;
  /** The loop runs in a DATAFLOW region beside this one (mac_engine: WEIGHT_READ beside
   * MAC_STEPS), which consumes its words one per iteration: the overlap is already in that
   * loop's iterations (max(compute steps, words) per job), so this loop's iterations add no
   * cycles; its starts still pay its depth. */
  overlappedBy?: string;
}

const log2 = (n: number): number => Math.ceil(Math.log2(Math.max(1, n)));
const one = (): number => 1;

/** Every pipelined loop of the kernels (test/loop-timing.test.ts: no more, no fewer). */
export const LOOP_TIMING = {
  WEIGHT_READ: {
    ii: one,
    depth: (_s, f) => f.axiLatency + 1,
    reason: 'm_axi read round trip, then the word onto the stream (1): a job that loads a tile waits for its first word (MAC_STEPS takes the words first)',
    bus: { role: 'weights', dir: 'read', words: one },
    overlappedBy: 'MAC_STEPS',
  },
  ROW_READ: {
    ii: one,
    depth: (_s, f) => f.axiLatency + 1,
    reason: 'm_axi read round trip, then the word onto the row stream (1): an FC2 job\'s gather of the next expert group\'s rows (the row feed, a run of D_WORDS words per row) or an FC1 job\'s running sums of the term feed (a run of E_WORDS per row), the rows\' bursts back to back',
    bus: { role: 'scratch', dir: 'read', words: one },
    overlappedBy: 'MAC_STEPS',
  },
  SCRATCH_WRITE: {
    ii: one,
    depth: () => 3,
    reason: 'mac_engine\'s scratch writer: a word off the store stream (1), onto the bus (1), the next run\'s address (1); the term feed (an FC1 job\'s store of the group before\'s combine terms, a run of E_WORDS words per row) or the q/k/v feed (a q, k or v job\'s outputs, one run of QKV_WORDS per token); a write burst\'s start costs no round trip',
    bus: { role: 'scratch', dir: 'write', words: one },
    overlappedBy: 'MAC_STEPS',
  },
  EXPERT_GROUP_TOKENS: { ii: one, depth: () => 2, reason: 'QTOK and QGATE read (1), the group\'s token and gate registers written (1)' },
  PARTS_LOAD: {
    ii: one,
    depth: (_s, f) => f.axiLatency + 2,
    reason: 'm_axi read round trip, then a word into the part register (1) and a part into the weight store (1)',
    bus: { role: 'weights', dir: 'read', words: one },
  },
  VEC32_LOAD: {
    ii: one,
    depth: (_s, f) => f.axiLatency + 1,
    reason: 'm_axi read round trip (a word per 4 elements, in address order), then the lane written (1)',
    bus: { role: 'weights', dir: 'read', words: () => 1 / 4 },
  },
  VEC16_LOAD: {
    ii: one,
    depth: (_s, f) => f.axiLatency + 1,
    reason: 'm_axi read round trip (ElemReader, a word per 8 elements), then the lane written (1)',
    bus: { role: 'weights', dir: 'read', words: () => 1 / 8 },
  },
  MAC_STEPS: {
    ii: one,
    depth: (s, f) => f.elementwise + 6 + f.dot + f.elementwise + log2(s.pe) + 6 + 2,
    reason: 'the input lanes\' exp of a P word (element-wise depth + table read and interpolation, 6, as GELU), the dot product (operand read 2 + DSP multiply 3 + adder tree log2(SIMD) + accumulate 1 + write 1), then at a job\'s last block the longest epilogue: Q.K^T\'s scores (attn_score, element-wise depth), their maximum tree of log2(PE) and the row factor\'s exp (6) (the requant + GELU / combine / softmax merge epilogues are shorter), then the ACC / O read-modify-write (2)',
  },
  LN_SUM: { ii: one, depth: (s) => 3 + log2(s.lnLanes), reason: 'row read (2), adder tree of log2(LN_LANES), accumulate (1)' },
  LN_MEAN: { ii: one, depth: (_s, f) => f.div64 + 2, reason: 'a 64-bit divide by the constant 2D per row (taken at a divider\'s latency), read and write (2)' },
  LN_VAR: { ii: one, depth: (s, f) => f.elementwise + log2(s.lnLanes), reason: 'centre and square per lane (element-wise depth), adder tree of log2(LN_LANES)' },
  LN_RSQRT: { ii: one, depth: (_s, f) => f.isqrt + f.div64, reason: 'integer square root, then a 64-bit divide per row' },
  LN_OUT: { ii: one, depth: (_s, f) => f.elementwise + 4, reason: 'centre, scale by the reciprocal, gamma and beta (element-wise depth + 4)' },
  BAND_PIXELS: {
    ii: one,
    depth: (_s, f) => f.axiLatency + 2,
    reason: 'm_axi read round trip, then the word\'s 8 pixels (rows of whole words) or one pixel (ElemReader) written to BAND (2)',
    bus: { role: 'input', dir: 'read', words: (s) => (s.patchEmbed.bandWords ? 1 : 1 / 8) },
  },
  PATCH_GATHER: { ii: one, depth: () => 4, reason: 'index arithmetic, BAND read of GATHER_LANES columns (2), Y write (1)' },
  TOKENS: {
    ii: one,
    depth: (_s, f) => f.axiLatency + f.elementwise + 2,
    reason: 'm_axi read round trip (a word of the positional embedding per 8 columns), requant and aligned add of TOKEN_LANES lanes (element-wise depth), X write (2); one loop over every token',
    bus: { role: 'weights', dir: 'read', words: (s) => s.patchEmbed.tokenLanes / 8 },
  },
  ATT_OUT: { ii: one, depth: (_s, f) => f.div64 + 2, reason: 'softmax output: a divide per lane (QKV_LANES lanes, each taken at a 64-bit divider\'s latency), read and write (2)' },
  ROUTE_SCAN: {
    ii: one,
    depth: (_s, f) => Math.max(f.div64 + 2, 2 + f.elementwise + 6 + 1),
    reason: 'the longer of a step\'s stages: the weight divide (operands from registers, taken at a 64-bit divider\'s latency) and the CHOSEN / CGATE writes (2), or the Z read (2), the exp (element-wise depth + table read and interpolation, 6) and the sum (1)',
  },
  ROUTE_PREFIX: { ii: one, depth: () => 2, reason: 'the count register, the running start added (1), QSTART written (1)' },
  ROUTE_FILL: { ii: one, depth: () => 4, reason: 'CHOSEN and CGATE read (2), the expert\'s fill register picked and incremented (1), QTOK and QGATE written (1); the fills are registers, so consecutive slots of one expert carry no memory dependence and II=1 holds' },
  MOE_CLEAR_WORDS: { ii: one, depth: () => 2, reason: 'one ACC word written (address, write)' },
  MOE_RES2: { ii: one, depth: (_s, f) => f.elementwise, reason: 'saturation and residual add of RES_LANES lanes; one loop over every token' },
  LINEAR_HEAD_OUT: {
    ii: one,
    depth: (_s, f) => f.elementwise,
    reason: 'requant of one output element into the Writer16; one loop over every patch',
    bus: { role: 'output', dir: 'write', words: () => 1 / 8 },
  },
  UP_TOKENS_COLS: {
    ii: one,
    depth: () => 3,
    reason: 'Y read (2), the element into the Writer16 (1)',
    bus: { role: 'scratch', dir: 'write', words: () => 1 / 8 },
  },
  LB_LOAD: {
    // generator/emit/kernels.ts trip.lbII
    ii: (s) => Math.max(s.head.mapLanes / 8, s.head.mapLanes / s.simd),
    depth: (_s, f) => f.axiLatency + 3,
    reason: 'm_axi read round trip, unpack (1), line-buffer writes (2)',
    bus: { role: 'scratch', dir: 'read', words: (s) => s.head.mapLanes / 8 },
  },
  CONV_WRITE: {
    ii: one,
    depth: () => 2,
    reason: 'ROW read (1), the word packed and written (1)',
    bus: { role: 'scratch', dir: 'write', words: one },
  },
  UP_STEPS: {
    // generator/emit/kernels.ts trip.upII
    ii: (s) => Math.max((2 * s.head.mapLanes) / s.simd, s.head.mapLanes / 8),
    depth: (_s, f) => f.elementwise,
    reason: 'four line-buffer taps, the bilinear weights and rounding (element-wise depth)',
    bus: { role: 'scratch', dir: 'write', words: (s) => s.head.mapLanes / 8 },
  },
  PUT_WORDS: {
    ii: one,
    depth: (_s, f) => f.axiLatency + 2,
    reason: 'the last word of a row reads the word it keeps lanes of (m_axi round trip), then merge and write (2)',
    bus: { role: 'output', dir: 'write', words: one },
  },
  UP_OUT_COLS: { ii: () => 2, depth: (_s, f) => f.elementwise + 2, reason: 'four C1ROW taps over two cycles, bilinear weights and rounding (element-wise depth + 2)' },
  TILE_LOAD: {
    ii: one,
    depth: (_s, f) => f.axiLatency + 2,
    reason: 'token-tiled activations: m_axi read round trip (a word per 8 / IO_LANES iterations, one burst per call), unpack and write IO_LANES elements (2)',
    bus: { role: 'scratch', dir: 'read', words: (s) => s.patchEmbed.tokenLanes / 8 },
  },
  TILE_STORE: {
    ii: one,
    depth: () => 3,
    reason: 'token-tiled activations: read IO_LANES elements (2), pack and write a word per 8 / IO_LANES iterations (1)',
    bus: { role: 'scratch', dir: 'write', words: (s) => s.patchEmbed.tokenLanes / 8 },
  },
  TERM_ADD: {
    ii: one,
    depth: (_s, f) => f.axiLatency + 3,
    reason: 'token-tiled MoE, store_terms: a token\'s running sum (its ES row) into the ACC row its terms are in, when the expert is not the token\'s first: m_axi read round trip, unpack, ACC read, add and write of SLOT_LANES lanes (3)',
    bus: { role: 'scratch', dir: 'read', words: (s) => slotLanes(s) / 4 },
  },
  TERM_STORE: {
    ii: one,
    depth: () => 3,
    reason: 'token-tiled MoE: an expert group\'s combine terms: read SLOT_LANES ACC lanes (2), pack and write a word per 4 / SLOT_LANES iterations (1)',
    bus: { role: 'scratch', dir: 'write', words: (s) => slotLanes(s) / 4 },
  },
  TERM_LOAD: {
    ii: one,
    depth: (_s, f) => f.axiLatency + 2,
    reason: 'token-tiled MoE: a tile\'s combined outputs (its tokens\' ES rows, the sums of their terms, one loop): m_axi read round trip, unpack and write of SLOT_LANES ACC lanes (2)',
    bus: { role: 'scratch', dir: 'read', words: (s) => slotLanes(s) / 4 },
  },
  DUMP_COLS: { ii: one, depth: () => 2, reason: 'debug dump: a row element into the Writer16', debugOnly: true },
  DUMP_MAP_CH: { ii: one, depth: (_s, f) => f.axiLatency + 2, reason: 'debug dump: ElemReader read round trip, then the Writer16', debugOnly: true },
} satisfies Record<string, LoopTiming>;

export type LoopLabel = keyof typeof LOOP_TIMING;

export function isLoopLabel(label: string): label is LoopLabel {
  return Object.prototype.hasOwnProperty.call(LOOP_TIMING, label);
}

/** Bus bytes per cycle of one m_axi port (the estimator's port plan). */
export type PortRates = Record<LoopBus['role'], number>;

/** Cycles per iteration of a loop: its II, or more when its bus words cannot move that fast. */
export function loopInterval(label: LoopLabel, s: Schedule, f: LoopFigures, ports: PortRates): number {
  const t: LoopTiming = LOOP_TIMING[label];
  const ii = t.ii(s);
  if (!t.bus) return ii;
  return Math.max(ii, t.bus.words(s) * (16 / ports[t.bus.role]));
}
