/**
 * The cycle model: cycles of one op (an IR layer as the kernels run it) from the kernel
 * program's counters (generator/schedule/program.ts, which C simulation counts too) and the
 * loop timing table (generator/schedule/timing.ts):
 *
 *   cycles(op) = sum over its pipelined loops L of
 *                  iterations(L) x interval(L) + starts(L) x depth(L)
 *                + control(op kind)
 *   interval(L) = max(II(L), bus cycles per iteration of L)
 *
 * Loads and compute overlap only where the code overlaps them: inside the one pipelined loop
 * that moves a transfer (its bus interval), and in mac_engine's DATAFLOW region, where
 * WEIGHT_READ streams the next row tile while MAC_STEPS computes (MAC_STEPS's counted
 * iterations are already max(compute steps, words) per job, so WEIGHT_READ adds only its
 * fill). Elsewhere a load and a compute are separate loops of one FSM (UG1399 overlaps calls
 * only in a DATAFLOW region) and their cycles add: the expert loads, the conv weights.
 * `control` is the op kind's non-pipelined work, each term named after its C++ loop.
 */
import type { LayerKind } from '../ir/types';
import type { OpCounters } from '../schedule/program';
import type { Schedule } from '../schedule/schedule';
import { isLoopLabel, LOOP_TIMING, loopInterval, type LoopFigures, type LoopLabel, type LoopTiming, type PortRates } from '../schedule/timing';
import { sequentialLoopCycles } from './formulas';

/** What the model needs besides the counters: the schedule, the timing figures, the port rates. */
export interface CycleContext {
  sched: Schedule;
  figures: LoopFigures;
  ports: PortRates;
}

export interface OpCycles {
  /** Model cycles of the op. */
  cycles: number;
  /** Of which loops that move no bus words, and control. */
  compute: number;
  /** Cycles per loop label. */
  loops: Partial<Record<LoopLabel, number>>;
  /** Non-pipelined control of the op kind. */
  control: number;
}

/** One pipelined loop: `iterations` at `interval` cycles each, `starts` fills of `depth`. */
export function loopCycles(iterations: number, starts: number, interval: number, depth: number): number {
  return iterations * interval + starts * depth;
}

/** The MoE expert scheduler whose control an experts op pays (expert_major / token_major). */
export type ExpertScheduler = 'expert-major' | 'token-major';

/**
 * Non-pipelined control of an op, from its counters (every term is a loop of the C++ that
 * has no pipeline pragma: sequentialLoopCycles, LOOP_ITERATION_OVERHEAD per iteration plus
 * its body):
 * - moe_gate: ENGINE_TILES of the gate's engine call (its routing, ROUTE_SCAN, ROUTE_PREFIX
 *   and ROUTE_FILL, is pipelined; ROUTE_CLEAR unrolled, no loop);
 * - moe_experts: expert-major: EXPERT_USED (E), EXPERT_PINGPONG (one per used expert) and
 *   EXPERT_QUEUE (one per group, with its FC1 job's FEED_PRIME of BLOCK_PARTS parts; the
 *   group's token table is the pipelined EXPERT_GROUP_TOKENS); token-major: per group
 *   FEED_PRIME and the token table TM_GROUP (BLOCK_PARTS each), TM_LOOKUP (the slots) per
 *   (token, rank) and TM_VICTIM (the slots) per load;
 * - conv3x3 / conv1x1: FEED_PRIME per MAC job (every conv row job primes the feed), and
 *   CONV_SLOTS (3) per conv3x3 row;
 * - linear layers (and the gate's engine): ENGINE_TILES, one iteration per MAC job (the
 *   load-only first job included);
 * - attention: ONCHIP_TILES likewise, one iteration per MAC job, and ATT_TILES, one per
 *   (head, query tile, key tile);
 * - every other kind: none (its loops are all pipelined).
 */
export function controlCycles(kind: LayerKind, op: OpCounters, ctx: CycleContext, scheduler?: ExpertScheduler): number {
  const s = ctx.sched;
  const macJobs = op.starts.MAC_STEPS ?? 0;
  const seq = sequentialLoopCycles;
  const parts = s.ws?.parts ?? 1;
  switch (kind) {
    case 'linear':
    case 'patch_embed':
    case 'moe_gate':
      return seq(macJobs, 0);
    case 'moe_experts': {
      const m = s.moe!;
      if ((scheduler ?? m.scheduler) === 'expert-major') {
        // EXPERT_QUEUE: one iteration per group (its token table is EXPERT_GROUP_TOKENS, a
        // pipelined loop), FEED_PRIME in its FC1 job; EXPERT_PINGPONG: one per used expert
        // (two bias loads each).
        const groups = op.starts.EXPERT_GROUP_TOKENS ?? 0;
        const used = (op.starts.VEC32_LOAD ?? 0) / 2;
        return seq(m.experts, 1) + seq(used, 0) + seq(groups, parts);
      }
      const groups = macJobs / 2; // an FC1 and an FC2 job per group
      const loads = (op.starts.PARTS_LOAD ?? 0) / 2; // W1 and W2 per expert load
      const perGroup = parts + parts; // FEED_PRIME + the token table
      return seq(groups, m.cacheSlots + perGroup) + loads * m.cacheSlots;
    }
    case 'conv3x3':
      return macJobs * (parts + 3);
    case 'conv1x1':
      return macJobs * parts;
    case 'attention':
      return seq(macJobs, 0) + seq(s.heads * s.attention.query.tiles * s.attention.tiles, 0);
    case 'cls_pos_embed':
    case 'layernorm':
    case 'gelu':
    case 'residual_add':
    case 'upsample2x':
    case 'moe_combine':
    case 'relu':
    case 'drop_cls':
      return 0;
  }
}

/** Cycles of one op from its counters (undefined counters: an op the kernels fuse away, 0). */
export function opCycles(kind: LayerKind, op: OpCounters | undefined, ctx: CycleContext, scheduler?: ExpertScheduler): OpCycles {
  if (!op) return { cycles: 0, compute: 0, loops: {}, control: 0 };
  const loops: Partial<Record<LoopLabel, number>> = {};
  let total = 0;
  let compute = 0;
  for (const label of new Set([...Object.keys(op.loops), ...Object.keys(op.starts)])) {
    if (!isLoopLabel(label)) throw new Error(`no timing for pipelined loop ${label} (generator/schedule/timing.ts LOOP_TIMING)`);
    const t: LoopTiming = LOOP_TIMING[label];
    // A loop beside another in a DATAFLOW region: its iterations run during the other's.
    const iterations = t.overlappedBy ? 0 : (op.loops[label] ?? 0);
    const c = loopCycles(iterations, op.starts[label] ?? 0, loopInterval(label, ctx.sched, ctx.figures, ctx.ports), t.depth(ctx.sched, ctx.figures));
    loops[label] = c;
    total += c;
    if (!t.bus) compute += c;
  }
  const control = controlCycles(kind, op, ctx, scheduler);
  return { cycles: total + control, compute: compute + control, loops, control };
}
