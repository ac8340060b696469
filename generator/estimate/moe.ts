/**
 * MoE expert layers under the three schedulers the report compares:
 * - expert-major (M³ViT's computation reordering, m3vit_top.cpp expert_major): every used
 *   expert read once (load_expert) into one ping-pong half, then compute_expert over its
 *   whole token queue from the other half (the two calls share one FSM: without a DATAFLOW
 *   region they do not overlap, and the estimate adds them);
 * - token-major with an LRU cache of S experts (token_major, the ablation baseline): tokens in
 *   order, a miss stalls for load_expert;
 * - all-on-chip (the paper's naive baseline, not generated): every expert of the layer loaded,
 *   then the tokens in order.
 * Which experts a token uses depends on the gate and the input, so traffic and the
 * expert-major queue lengths use the routing model of ./formulas.ts (uniform random top-k).
 */
import type { ModelIR } from '../ir/types';
import {
  expectedExpertsUsed,
  expectedLruMisses,
  expectedTokenGroups,
  pipelinedLoopCycles as piped,
  sequentialLoopCycles as seqLoop,
  singleReadsCycles,
  transferCycles,
  serialLoadComputeCycles,
} from './formulas';
import { expertLoadWords } from '../schedule/program';
import type { HardwarePlan } from './hardware';
import { KernelModel, type LayerCost } from './layers';
import type { SchedulerFigures, SchedulerName } from './types';

export const ROUTING_MODEL =
  'uniform random routing: every token picks k distinct experts uniformly at random, independently of other tokens, ' +
  'and looks them up in random order; expected values (token-major LRU misses computed exactly by a Markov chain over the cache state). ' +
  'Real gates are input-dependent, so these are model figures, not measurements.';

/** Bytes load_expert moves on the bus for one expert (W1, W2 blocks; b1, b2 a word per
 * element): what csim counts on gmem_w (generator/schedule/program.ts). */
export function expertBytes(hw: HardwarePlan): number {
  return expertLoadWords(hw.sched) * 16;
}

/** On-chip bytes of one expert (W1, W2 in a weight-store bank, b1, b2) at its element widths. */
export function expertBufferBytes(hw: HardwarePlan): number {
  return Math.ceil((hw.expertWeightWords * hw.bits.weight) / 8) + Math.ceil((hw.expertBiasWords * hw.bits.bias) / 8);
}

/** load_expert: W1 and W2 blocks in bursts of one word per cycle (load_parts), b1 and b2
 * one word read per element (load_vec32). */
export function loadExpertCycles(hw: HardwarePlan, ir: ModelIR): number {
  const D = ir.dims.embedDim;
  const He = ir.dims.moe!.hidden;
  const t = hw.timing;
  const port = hw.ports.weights.bytesPerCycle;
  const w1Words = ((He * D) / (hw.pe * hw.simd)) * hw.sched.blockWords;
  return (
    transferCycles(w1Words * 16, port, t.axiLatency) +
    singleReadsCycles(He, t.axiLatency, t.axiOutstanding) +
    transferCycles(w1Words * 16, port, t.axiLatency) +
    singleReadsCycles(D, t.axiLatency, t.axiOutstanding)
  );
}

/** One group of BLOCK_PARTS tokens: the token/gate table (EXPERT_GROUP_TOKENS or TM_GROUP),
 * then expert_group: the FC1 job (the feed primed with the first block), the FC2 job,
 * each one pipelined loop of W1_BLOCKS x BLOCK_PARTS steps (a block serves the
 * group's BLOCK_PARTS tokens, absent ones masked) with GELU or combine_term at the end. */
export function expertGroupCycles(hw: HardwarePlan, ir: ModelIR): number {
  const D = ir.dims.embedDim;
  const He = ir.dims.moe!.hidden;
  const parts = hw.sched.ws!.parts;
  const steps = ((He * D) / (hw.pe * hw.simd)) * parts;
  const e = hw.timing.elementwise;
  const table = piped(parts, 1, 2);
  const clear = piped(parts, 1, 1);
  const prime = piped(parts, 1, 2);
  return table + clear + prime + piped(steps, 1, hw.timing.dot + e + 6) + piped(steps, 1, hw.timing.dot + e + 4);
}

export function schedulerFigures(hw: HardwarePlan, ir: ModelIR, slots: number): Record<SchedulerName, SchedulerFigures> {
  const m = ir.dims.moe!;
  const N = ir.dims.tokens;
  const bytes = expertBytes(hw);
  const buffer = expertBufferBytes(hw);
  const load = loadExpertCycles(hw, ir);
  const perGroup = expertGroupCycles(hw, ir);
  const pairs = N * m.topK;

  const used = expectedExpertsUsed(m.experts, m.topK, N);
  // EXPERT_QUEUE cuts each queue into groups of BLOCK_PARTS tokens (exact expectation).
  const groups = expectedTokenGroups(m.experts, m.topK, N, hw.sched.ws!.parts);
  const expertMajor: SchedulerFigures = {
    onchip_weight_bytes: 2 * buffer,
    expert_weight_ddr_bytes: used * bytes,
    expert_loads: used,
    // EXPERT_USED, then EXPERT_PINGPONG over used + 1 iterations.
    cycles: piped(m.experts, 1, 2) + serialLoadComputeCycles(used, load, seqLoop(groups / used, perGroup)) + 2 * (used + 1),
  };
  const misses = expectedLruMisses(m.experts, m.topK, slots, N);
  const tokenMajor: SchedulerFigures = {
    onchip_weight_bytes: slots * buffer,
    expert_weight_ddr_bytes: misses * bytes,
    expert_loads: misses,
    // TM_TOKENS x TM_RANK: lookup over the slots, the token alone through its expert (a group
    // of one: no other token shares the blocks); a miss adds the victim search and the load.
    cycles: seqLoop(pairs, slots + perGroup) + misses * (slots + load),
  };
  const allOnChip: SchedulerFigures = {
    onchip_weight_bytes: m.experts * buffer,
    expert_weight_ddr_bytes: m.experts * bytes,
    expert_loads: m.experts,
    // Tokens in order, as token-major, with every expert already on chip.
    cycles: m.experts * load + seqLoop(pairs, perGroup),
  };
  return { 'expert-major': expertMajor, 'token-major': tokenMajor, 'all-on-chip': allOnChip };
}

/** The layer cost of the configured scheduler, with MOE_CLEAR (a word of PE accumulators per cycle) before it. */
export function moeExpertsCost(hw: HardwarePlan, ir: ModelIR, figures: Record<SchedulerName, SchedulerFigures>, scheduler: 'expert-major' | 'token-major'): LayerCost {
  const f = figures[scheduler];
  const pairs = ir.dims.tokens * ir.dims.moe!.topK;
  const clear = seqLoop(ir.dims.tokens, piped(ir.dims.embedDim / hw.pe, 1, 2));
  return {
    engine: 'moe',
    cycles: clear + f.cycles,
    // Busy cycles of the group loops: expert-major runs the expected token groups, token-major one group per (token, rank).
    compute: (scheduler === 'expert-major' ? expectedTokenGroups(ir.dims.moe!.experts, ir.dims.moe!.topK, ir.dims.tokens, hw.sched.ws!.parts) : pairs) * expertGroupCycles(hw, ir),
    traffic: { 'weights.read': f.expert_weight_ddr_bytes },
    overlap: 'serial',
    macsPerCycle: hw.pe * hw.simd,
    note:
      scheduler === 'expert-major'
        ? `expected ${f.expert_loads.toFixed(2)} experts loaded once each (routing model); a load and the previous expert's compute do not overlap (no DATAFLOW)`
        : `expected ${f.expert_loads.toFixed(1)} expert loads (LRU misses, routing model); a miss stalls`,
  };
}
