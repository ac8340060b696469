/**
 * The estimator's general formulas, each with where it comes from: memory geometry, DSPs,
 * loop latency, ports, roofline, energy, logic and the MoE routing model. Cycles come from
 * the cycle model (./cycles.ts: the kernel program's loop counts with the loop timing table
 * of generator/schedule/timing.ts), which uses the loop formulas here. Every figure computed here is an ESTIMATE: it models what
 * Vitis HLS and the board should do; synthesis (csynth.xml) and the board are the truth.
 *
 * Sources:
 * - UG1399 (Vitis HLS user guide): pipelined loop latency = (trip - 1) * II + depth;
 *   a non-pipelined loop pays about one cycle to enter and one to exit each iteration;
 *   m_axi bursts, `latency` option (default 64 cycles round trip assumed here).
 * - UG573 (UltraScale memory resources): BRAM_18K = 18 Kb, aspect ratios width x depth
 *   1x16K, 2x8K, 4x4K, 9x2K, 18x1K, 36x512 (36 in simple dual-port mode); URAM = 4K x 72
 *   bits, fixed aspect ratio (288 Kb). UG1085 (Zynq UltraScale+ TRM): PL-to-PS HP ports
 *   are 32/64/128 bits wide; one beat per cycle per port.
 * - UG579 (UltraScale DSP slice): DSP48E2 has a 27 x 18 signed multiplier, so one
 *   16 x 16 multiply-accumulate takes one DSP; wider operands split into partial products.
 */

// ---------------------------------------------------------------------------------------
// On-chip memory geometry (UG573)

/** One BRAM_18K aspect ratio: data width (bits) x depth (words). */
export interface BlockShape {
  width: number;
  depth: number;
}

/** UG573, RAMB18E2 port aspect ratios: the six shapes of an 18 Kb block RAM (the 36-bit
 * shape in simple dual-port mode, which is how HLS uses a one-read one-write buffer). */
export const BRAM18_SHAPES: readonly BlockShape[] = [
  { width: 1, depth: 16384 },
  { width: 2, depth: 8192 },
  { width: 4, depth: 4096 },
  { width: 9, depth: 2048 },
  { width: 18, depth: 1024 },
  { width: 36, depth: 512 },
];
export const BRAM18_BITS = 18 * 1024;

/** UG573 (URAM288): 4096 words of 72 bits, no other aspect ratio; wider or deeper memories
 * are built from several blocks side by side / cascaded. */
export const URAM_WIDTH = 72;
export const URAM_DEPTH = 4096;
export const URAM_BITS = URAM_WIDTH * URAM_DEPTH;

/** BRAM_18K blocks for one memory of `depth` words of `width` bits: the cheapest aspect
 * ratio, blocks placed side by side for width and stacked for depth (what Vivado does for a
 * single-ported or simple-dual-ported RAM). */
export function bram18Blocks(width: number, depth: number): number {
  if (width <= 0 || depth <= 0) return 0;
  let best = Infinity;
  for (const s of BRAM18_SHAPES) best = Math.min(best, Math.ceil(width / s.width) * Math.ceil(depth / s.depth));
  return best;
}

/** URAM blocks for one memory of `depth` words of `width` bits (72 x 4K each). */
export function uramBlocks(width: number, depth: number): number {
  if (width <= 0 || depth <= 0) return 0;
  return Math.ceil(width / URAM_WIDTH) * Math.ceil(depth / URAM_DEPTH);
}

/** LUTs used as distributed RAM for one memory: a SLICEM LUT6 holds 64 x 1 bit (UG574). */
export function lutramLuts(width: number, depth: number): number {
  if (width <= 0 || depth <= 0) return 0;
  return width * Math.ceil(depth / 64);
}

/** Arrays without bind_storage: Vitis HLS picks the memory itself. Our model of its choice:
 * LUTRAM for a shallow memory (a LUT6 holds 64 x 1, so up to 64 words cost one LUT per bit)
 * or a tiny one (at most 1 Kb), else block RAM. It never picks URAM on its own. */
export const LUTRAM_MAX_DEPTH = 64;
export const LUTRAM_MAX_BITS = 1024;

export function defaultStorage(width: number, depth: number): 'bram' | 'lutram' {
  return depth <= LUTRAM_MAX_DEPTH || width * depth <= LUTRAM_MAX_BITS ? 'lutram' : 'bram';
}

export type Storage = 'bram' | 'uram' | 'lutram';

/**
 * Physical memories of one array after its pragmas (UG1399):
 * - ARRAY_PARTITION cyclic factor=`memories`: independent memories, read in parallel;
 * - ARRAY_RESHAPE cyclic factor=`wordElems` on the innermost dimension: that many elements
 *   concatenated into one wide memory word (read together in one cycle);
 * - `copies` (2 for ping-pong) either as separate memories, or stacked in the same memory
 *   (`copiesShareMemory`: one port loads one half while the other port reads the other).
 * Returns the memory width (bits), depth (words) and count.
 */
export function physicalMemories(a: {
  elements: number;
  elemBits: number;
  memories: number;
  wordElems: number;
  copies: number;
  copiesShareMemory: boolean;
}): { width: number; depth: number; count: number } {
  const perCopy = Math.ceil(a.elements / (a.memories * a.wordElems));
  return a.copiesShareMemory
    ? { width: a.elemBits * a.wordElems, depth: perCopy * a.copies, count: a.memories }
    : { width: a.elemBits * a.wordElems, depth: perCopy, count: a.memories * a.copies };
}

/** Blocks of `count` identical memories of width x depth in the given storage. */
export function memoryBlocks(m: { width: number; depth: number; count: number }, storage: Storage): { BRAM_18K: number; URAM: number; LUT: number } {
  switch (storage) {
    case 'bram':
      return { BRAM_18K: m.count * bram18Blocks(m.width, m.depth), URAM: 0, LUT: 0 };
    case 'uram':
      return { BRAM_18K: 0, URAM: m.count * uramBlocks(m.width, m.depth), LUT: 0 };
    case 'lutram':
      return { BRAM_18K: 0, URAM: 0, LUT: m.count * lutramLuts(m.width, m.depth) };
  }
}

// ---------------------------------------------------------------------------------------
// Arithmetic (UG579)

/** Pieces of a `bits`-wide signed operand on a `port`-bit signed DSP input: a signed top
 * piece and unsigned lower pieces of port - 1 bits. */
function operandPieces(bits: number, port: number): number {
  return bits <= port ? 1 : 1 + Math.ceil((bits - port) / (port - 1));
}

/** DSP48E2 slices for one signed a x b multiplier (operands in signed bits). The multiplier
 * is 27 x 18 two's complement; a wider product is tiled, every pair of operand pieces one
 * slice (the PCIN cascade's 17-bit shift adds the partial products), with the better of the
 * two port assignments: 16 x 16 -> 1, 32 x 32 -> 4, 45 x 23 -> 3, 64 x 64 -> 12. */
export function dspsPerMultiplier(aBits: number, bBits: number): number {
  return Math.min(operandPieces(aBits, 27) * operandPieces(bBits, 18), operandPieces(bBits, 27) * operandPieces(aBits, 18));
}

// ---------------------------------------------------------------------------------------
// Loop latency (UG1399, "Pipelining" and "Loop latency")

/** Latency of a pipelined loop: the last iteration starts (trip - 1) * II cycles after the
 * first and finishes `depth` cycles after it starts. */
export function pipelinedLoopCycles(trip: number, ii: number, depth: number): number {
  return trip <= 0 ? 0 : (trip - 1) * ii + depth;
}

/** Cycles a non-pipelined loop adds per iteration for entering and leaving its body. */
export const LOOP_ITERATION_OVERHEAD = 2;

/** A non-pipelined loop of `trip` iterations around a body of `bodyCycles`. */
export function sequentialLoopCycles(trip: number, bodyCycles: number): number {
  return trip <= 0 ? 0 : trip * (bodyCycles + LOOP_ITERATION_OVERHEAD);
}

/** Pipeline depth of a dot product engine with `lanes` products summed per cycle: block RAM
 * read (2, output register on), DSP48E2 multiply with A/B, M and P registers (3), a
 * balanced adder tree of ceil(log2 lanes) levels (one level per cycle at 300 MHz), the
 * accumulator (1) and the write (1). An estimate: Vitis HLS schedules by its own delays. */
export function dotPipelineDepth(lanes: number): number {
  return 2 + 3 + Math.ceil(Math.log2(Math.max(1, lanes))) + 1 + 1;
}

/** Latency of an integer division of `bits`-bit operands: Vitis HLS implements `/` and `%`
 * on wide integers with a radix-2 divider, about one cycle per quotient bit plus a few. */
export function divLatency(bits: number): number {
  return bits + 4;
}

// ---------------------------------------------------------------------------------------
// DDR transfers (UG1085, UG1399 m_axi)

/** Bytes one m_axi port moves per kernel cycle: min(port width / 8, the DDR's share).
 * The DDR's peak is shared by the ports that are active at the same time. */
export function portBytesPerCycle(portWidthBits: number, ddrGBps: number, clockMHz: number, activePorts = 1): number {
  const portPeak = portWidthBits / 8;
  const ddrShare = (ddrGBps * 1e9) / (clockMHz * 1e6) / Math.max(1, activePorts);
  return Math.min(portPeak, ddrShare);
}

/** Round-trip latency of an m_axi read, cycles: the kernels' interface pragmas set
 * latency=64 (UG1399: the latency HLS plans for; PS DDR on Zynq UltraScale+ is in that range). */
export const AXI_LATENCY_CYCLES = 64;

// ---------------------------------------------------------------------------------------
// Roofline (Williams, Waterman, Patterson, CACM 2009)

/** Lower bound on cycles from compute: every multiplier busy every cycle. */
export function computeBoundCycles(macs: number, macsPerCycle: number): number {
  return macs <= 0 || macsPerCycle <= 0 ? 0 : macs / macsPerCycle;
}

/** Lower bound on cycles from DDR: bytes at the port's bandwidth, no latency. */
export function memoryBoundCycles(bytes: number, bytesPerCycle: number): number {
  return bytes <= 0 ? 0 : bytes / bytesPerCycle;
}

// ---------------------------------------------------------------------------------------
// Time and energy

export function cyclesToMs(cycles: number, clockMHz: number): number {
  return cycles / (clockMHz * 1e3);
}

/** Energy of one inference: board power x latency (the whole board's power, as the M³ViT
 * paper's ~10 W for ZCU104 is; not a per-resource power model). Millijoules. */
export function energyMj(latencyMs: number, powerW: number): number {
  return latencyMs * powerW;
}

// ---------------------------------------------------------------------------------------
// Rough logic (LUT/FF). The least reliable figures of the estimator: typical per-unit
// costs of HLS-generated datapaths, +-50%. Integer adders cost about one LUT per bit on
// UltraScale+ (LUT6 + CARRY8), and pipelined adders one FF per bit per stage.

/** Adder tree summing `lanes` products of `productBits` into an accumulator of `accBits`. */
export function adderTreeLogic(lanes: number, productBits: number, accBits: number): { LUT: number; FF: number } {
  let lut = 0;
  let width = productBits;
  for (let n = lanes; n > 1; n = Math.ceil(n / 2)) {
    width += 1;
    lut += Math.floor(n / 2) * width;
  }
  lut += accBits; // the accumulator adder
  return { LUT: lut, FF: lut + lanes * productBits }; // every adder output registered, plus the product registers
}

/** Fixed costs per unit, rough typical figures of Vitis HLS output (not from a datasheet). */
export const UNIT_LOGIC = {
  /** One m_axi adapter, 128-bit data, read or write channel with burst support. */
  maxiPort: { LUT: 1800, FF: 2600 },
  /** s_axilite control block with a handful of registers and ap_ctrl_hs. */
  axiliteControl: { LUT: 350, FF: 450 },
  /** A finite-state-machine controller per loop nest / function. */
  controller: { LUT: 150, FF: 120 },
  /** LayerNorm unit: integer square root and divider (iterative), three passes. */
  layerNorm: { LUT: 2500, FF: 3000 },
  /** Online softmax: max, exp table lookup, rescale, final divide. */
  softmax: { LUT: 2000, FF: 2500 },
  /** Requantization per output lane: round, shift, saturate. */
  requantLane: { LUT: 120, FF: 100 },
} as const;

/** A divider pipelined at II = 1 (a `/` in a pipelined loop): one stage per quotient bit,
 * each a `bits`-wide subtract with its remainder and quotient registers. Rough, like the rest
 * of the logic figures. */
export function pipelinedDividerLogic(bits: number): { LUT: number; FF: number } {
  return { LUT: bits * bits, FF: 2 * bits * bits };
}

/** The MoE gate's routing logic besides its exp and its divider (moe.h ROUTE_SCAN,
 * ROUTE_PREFIX, ROUTE_FILL), a LUT per bit of each compare, adder and 2:1 mux:
 * - per kept rank: gate_insert's compare of two logits and the 2:1 mux of its (logit,
 *   index) entry; the compare of two indices and the mux that keeps a term;
 * - the exp sum's adder;
 * - per expert: the count and the fill register, each with an incrementer and a write
 *   enable (an adder and a 2:1 mux of `INDEX_BITS`), and the E:1 read mux of each;
 * FF: three stages of TOPK entries (logits of A and B, indices of A, B and C, terms of B and
 * C), two sums, E counts and E fills. Expert indices and counts are `int`s (32 bits). Rough,
 * like the rest of the logic figures. */
export function gateRoutingLogic(experts: number, topK: number, actBits: number, sumBits: number, probBits: number): { LUT: number; FF: number } {
  const INDEX_BITS = 32;
  const perRank = actBits + (actBits + INDEX_BITS) + INDEX_BITS + probBits;
  const perExpert = 2 * (INDEX_BITS + INDEX_BITS);
  const reads = 2 * bankMuxLuts(experts, INDEX_BITS, 1);
  return {
    LUT: topK * perRank + sumBits + experts * perExpert + reads,
    FF: topK * (2 * actBits + 3 * INDEX_BITS + 2 * probBits) + 2 * sumBits + 2 * experts * INDEX_BITS,
  };
}

/** Read multiplexer for a partitioned array read at a variable index: one `width`-bit
 * `banks`:1 mux per read port; a LUT6 is a 4:1 mux of one bit. */
export function bankMuxLuts(banks: number, width: number, readPorts: number): number {
  return banks <= 1 ? 0 : readPorts * width * Math.ceil((banks - 1) / 3);
}

// ---------------------------------------------------------------------------------------
// MoE routing models (for DDR traffic of expert weights). The gate's choices depend on the
// input, so traffic is estimated under a stated model: every token picks a uniformly random
// set of k distinct experts out of E, independently of other tokens, and looks them up in a
// uniformly random order. Real gates are not uniform (they are trained to balance load, not
// to be random), so these are model figures, labelled as such wherever they are shown.

/** Expected number of distinct experts used by N tokens (expert-major loads each once):
 * an expert is missed by one token with probability (E - k) / E, so
 * E * (1 - ((E - k) / E)^N). */
export function expectedExpertsUsed(experts: number, topK: number, tokens: number): number {
  return experts * (1 - Math.pow((experts - topK) / experts, tokens));
}

/** Expected number of token groups of `group` tokens that expert-major runs in one MoE layer
 * (each expert's queue is cut into ceil(queue / group) groups; an unused expert runs none).
 * Under the uniform model an expert's queue length is Binomial(N, k / E), so the expectation
 * is exact: E * sum_q P(q) * ceil(q / group). */
export function expectedTokenGroups(experts: number, topK: number, tokens: number, group: number): number {
  const p = topK / experts;
  if (p >= 1) return experts * Math.ceil(tokens / group);
  let pmf = Math.pow(1 - p, tokens); // P(q = 0)
  let sum = 0;
  for (let q = 1; q <= tokens; q++) {
    pmf *= ((tokens - q + 1) / q) * (p / (1 - p));
    sum += pmf * Math.ceil(q / group);
  }
  return experts * sum;
}

/** What expert-major's streamed loads cost in one MoE layer (program.ts expertMajor): the
 * used experts and their token groups, the words their jobs have no steps for (loaded alone),
 * those load-only jobs, and every job that reads words (WEIGHT_READ starts). */
export interface ExpertStreaming {
  used: number;
  groups: number;
  aloneWords: number;
  aloneJobs: number;
  loadingJobs: number;
}

/**
 * Expected ExpertStreaming under the uniform routing model. Expert e's queue is
 * Binomial(N, k / E), so sums over all experts are exact; a used expert carries the next
 * one's burst of `burstWords` over its 2 x ceil(q / group) jobs of `groupSteps / 2` steps
 * (the rest loads alone), except the last used expert, which carries nothing. That exception
 * is taken as an average used expert's share, (1 - 1 / used) of the sums: an approximation
 * (the last used expert is the highest-numbered one with a token, not a typical one).
 */
export function expectedExpertStreaming(experts: number, topK: number, tokens: number, group: number, groupSteps: number, burstWords: number): ExpertStreaming {
  const p = topK / experts;
  const jobSteps = groupSteps / 2;
  let groups = 0;
  let short = 0; // E[max(0, W - 2 G S)] over used experts
  let shortJobs = 0; // E[1(W > 2 G S)]
  let carrying = 0; // E[min(2 G, ceil(W / S))]: jobs that carry words
  const add = (prob: number, q: number): void => {
    const g = Math.ceil(q / group);
    groups += prob * g;
    short += prob * Math.max(0, burstWords - g * groupSteps);
    shortJobs += prob * (burstWords > g * groupSteps ? 1 : 0);
    carrying += prob * Math.min(2 * g, Math.ceil(burstWords / jobSteps));
  };
  if (p >= 1) add(1, tokens);
  else {
    let pmf = Math.pow(1 - p, tokens); // P(q = 0)
    for (let q = 1; q <= tokens; q++) {
      pmf *= ((tokens - q + 1) / q) * (p / (1 - p));
      add(pmf, q);
    }
  }
  const used = expectedExpertsUsed(experts, topK, tokens);
  const carriers = used > 0 ? 1 - 1 / used : 0; // all used experts but the last
  return {
    used,
    groups: experts * groups,
    aloneWords: burstWords + experts * short * carriers,
    aloneJobs: 1 + experts * shortJobs * carriers,
    loadingJobs: 1 + experts * (carrying + shortJobs) * carriers,
  };
}

/** Expected number of expert loads (misses) of a token-major pass over N tokens with an LRU
 * cache of `slots` experts, starting empty, under the uniform routing model. Computed
 * EXACTLY by a Markov chain: by symmetry (experts are exchangeable under uniform routing),
 * the state is (c = filled slots, a = slots holding experts this token already used).
 * Entries used by the current token are always more recent than older ones, so LRU evicts
 * an older entry while one exists, and which one does not change what happens next. */
export function expectedLruMisses(experts: number, topK: number, slots: number, tokens: number): number {
  // dist[c][a] = probability; a = 0 between tokens.
  let between = new Float64Array(slots + 1);
  between[0] = 1;
  let misses = 0;
  for (let t = 0; t < tokens; t++) {
    // within a token: state (c, a) after i accesses
    let dist = new Map<number, number>(); // key c * (slots + 1) + a
    for (let c = 0; c <= slots; c++) if (between[c] > 0) dist.set(c * (slots + 1), between[c]);
    for (let i = 0; i < topK; i++) {
      const next = new Map<number, number>();
      const add = (c: number, a: number, p: number): void => {
        const key = c * (slots + 1) + a;
        next.set(key, (next.get(key) ?? 0) + p);
      };
      for (const [key, p] of dist) {
        const c = Math.floor(key / (slots + 1));
        const a = key % (slots + 1);
        const old = c - a; // cached experts this token has not used yet (all candidates)
        const pHit = old / (experts - i); // the access is uniform over the E - i unused experts
        if (pHit > 0) add(c, a + 1, p * pHit);
        const pMiss = 1 - pHit;
        if (pMiss > 0) {
          misses += p * pMiss;
          if (c < slots) add(c + 1, a + 1, p * pMiss);
          else if (old > 0) add(c, a + 1, p * pMiss); // evict an older entry
          else add(c, a, p * pMiss); // all slots hold this token's experts: evict one of them
        }
      }
      dist = next;
    }
    between = new Float64Array(slots + 1);
    for (const [key, p] of dist) between[Math.floor(key / (slots + 1))] += p;
  }
  return misses;
}

/** Upper bound on expert loads of a token-major pass: every lookup misses. */
export function worstCaseTokenMajorLoads(topK: number, tokens: number): number {
  return topK * tokens;
}
