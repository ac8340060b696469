/**
 * MoE expert layers under the three schedulers the report compares:
 * - expert-major (M³ViT's computation reordering, kernels/moe.h expert_major): every used
 *   expert read once into one ping-pong half, streamed through the engine's weight reader
 *   during the previous expert's compute_expert from the other half (the first alone, and
 *   the words a short queue's jobs have no steps for after them);
 * - token-major with an LRU cache of S experts (token_major, the ablation baseline): tokens in
 *   order, a miss stalls for load_expert;
 * - all-on-chip (the paper's naive baseline, not generated): every expert of the layer loaded,
 *   then the tokens in order.
 * Which experts a token uses depends on the gate and the input, so traffic and the
 * expert-major queue lengths use the routing model of ./formulas.ts (uniform random top-k);
 * the cycles are the kernel program's (generator/schedule/program.ts) through the cycle
 * model (./cycles.ts), like every other layer's.
 */
import type { ModelIR } from '../ir/types';
import { expertLoadWords, programCounters } from '../schedule/program';
import type { Schedule } from '../schedule/schedule';
import { opCycles } from './cycles';
import { expectedExpertsUsed, expectedLruMisses } from './formulas';
import type { HardwarePlan } from './hardware';
import { cycleContext } from './layers';
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

/** The kernel program's counters of one MoE experts op under `scheduler` (the first MoE
 * block; every block has the same shape), with expected values of the routing model:
 * uniform queues (expert-major) or `loads` expert loads (token-major), and its cycles
 * through the cycle model. `cacheSlots` is the token-major cache (0: no lookup at all). */
function expertsOpCycles(hw: HardwarePlan, scheduler: 'expert-major' | 'token-major', cacheSlots: number, loads?: number): number {
  const s = hw.sched;
  const m = s.moe!;
  const sched: Schedule = { ...s, moe: { ...m, scheduler, cacheSlots } };
  const op = programCounters(sched, sched.tasks[0], true, undefined, loads)[`blocks.${m.blocks[0]}.mlp.experts`];
  return opCycles('moe_experts', op, { ...cycleContext(hw), sched }, scheduler).cycles;
}

/** Per scheduler: on-chip expert memory, expected expert loads and their DDR bytes (routing
 * model), and the cycles of one experts op (MOE_CLEAR included) from the kernel program
 * through the cycle model. All-on-chip (not generated) is the token-major program with
 * every expert loaded once up front and no cache lookup. */
export function schedulerFigures(hw: HardwarePlan, ir: ModelIR, slots: number): Record<SchedulerName, SchedulerFigures> {
  const m = ir.dims.moe!;
  const N = ir.dims.tokens;
  const bytes = expertBytes(hw);
  const buffer = expertBufferBytes(hw);

  const used = expectedExpertsUsed(m.experts, m.topK, N);
  const expertMajor: SchedulerFigures = {
    onchip_weight_bytes: 2 * buffer,
    expert_weight_ddr_bytes: used * bytes,
    expert_loads: used,
    cycles: expertsOpCycles(hw, 'expert-major', hw.sched.moe!.cacheSlots),
  };
  const misses = expectedLruMisses(m.experts, m.topK, slots, N);
  const tokenMajor: SchedulerFigures = {
    onchip_weight_bytes: slots * buffer,
    expert_weight_ddr_bytes: misses * bytes,
    expert_loads: misses,
    cycles: expertsOpCycles(hw, 'token-major', slots, misses),
  };
  const allOnChip: SchedulerFigures = {
    onchip_weight_bytes: m.experts * buffer,
    expert_weight_ddr_bytes: m.experts * bytes,
    expert_loads: m.experts,
    cycles: expertsOpCycles(hw, 'token-major', 0, m.experts),
  };
  return { 'expert-major': expertMajor, 'token-major': tokenMajor, 'all-on-chip': allOnChip };
}
