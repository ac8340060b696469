/**
 * The estimator: model IR + config -> resources, cycles per layer and per task pathway, DDR
 * bytes, MoE scheduler comparison, roofline and energy, before any synthesis. Everything
 * it returns is an analytical estimate and is labelled as one.
 */
import type { BuildConfig } from '../config/types';
import type { ModelIR, TaskIR } from '../ir/types';
import { packageVersion } from '../util/package';
import { BRAM18_BITS, computeBoundCycles, cyclesToMs, energyMj, expectedLruMisses, URAM_BITS } from './formulas';
import { hardwarePlan, type HardwarePlan } from './hardware';
import { busiestChannel, cycleContext, layerCost, trafficTotals, type LayerCost } from './layers';
import { expertBytes, ROUTING_MODEL, schedulerFigures } from './moe';
import { LOOP_TIMING, loopInterval, type LoopLabel } from '../schedule/timing';
import { paperComparison } from './paper';
import { bufferEstimates, overflows, resourceTotals, unitEstimates } from './resources';
import type { Estimate, LayerEstimate, MoeLayerEstimate, SchedulerFigures, SchedulerName, TaskEstimate } from './types';
import { ESTIMATE_FORMAT } from './types';
import { programCounters, type ProgramCounters } from '../schedule/program';
import type { Routing } from './routing';

const scopeName = (s: { kind: 'backbone' } | { kind: 'task'; task: string }): string => (s.kind === 'backbone' ? 'backbone' : `task:${s.task}`);

/** `plan` overrides the hardware read from the schedule (what-if studies in bench/);
 * `routing` (the golden run's, ./routing.ts) replaces the routing model in the counters. */
export function estimate(ir: ModelIR, tasks: TaskIR[], config: BuildConfig, plan?: HardwarePlan, routing?: Routing): Estimate {
  const hw = plan ?? hardwarePlan(ir, tasks, config);
  const counters = taskCounters(hw, ir, config, routing);
  const names = new Set(tasks.map((t) => t.name));
  const built = ir.layers.filter((l) => l.scope.kind === 'backbone' || names.has(l.scope.task));

  const moeFigures = ir.dims.moe ? schedulerFigures(hw, ir, config.moe.expertCacheSlots) : undefined;

  // Every layer's cost from its op's counters: a task's own layers (its gates, its head) from
  // that task's counters, backbone layers from the first task's (the same for every task
  // under the routing model; with a measured routing each task's sum below uses its own).
  const counterTask = (l: ModelIR['layers'][number]): string => (l.scope.kind === 'task' ? l.scope.task : tasks[0].name);
  const cost = (l: ModelIR['layers'][number], task: string): LayerCost => layerCost(l, hw, counters[task]?.[l.name]);
  const layers: LayerEstimate[] = built.map((l) => toLayerEstimate(l, cost(l, counterTask(l)), hw));

  const units = unitEstimates(hw, ir, tasks.some((t) => t.head.kind === 'uphead'));
  const buffers = bufferEstimates(hw);
  const resources = resourceTotals(units, buffers, config.board.resources);
  const over = overflows(resources);

  const clock = config.clockMHz;
  const perTask: Record<string, TaskEstimate> = {};
  for (const t of tasks) {
    const own = layers.filter((l) => l.scope === 'backbone' || l.scope === `task:${t.name}`);
    // Gates of other tasks are built but not run on this task's pathway.
    const run = own.filter((l) => !(l.kind === 'moe_gate' && l.scope !== 'backbone' && l.scope !== `task:${t.name}`));
    const sum = (f: (l: LayerEstimate) => number, ls = run): number => ls.reduce((s, l) => s + f(l), 0);
    // This task's own counters (its MoE queues under a measured routing).
    const irLayer = new Map(built.map((l) => [l.name, l]));
    const ownCycles = (ls: LayerEstimate[]): number => ls.reduce((a, l) => a + Math.round(cost(irLayer.get(l.layer)!, t.name).cycles), 0);
    const cycles = ownCycles(run);
    const headCycles = ownCycles(run.filter((l) => l.layer.startsWith('head.')));
    const macs = sum((l) => l.macs);
    const ms = cyclesToMs(cycles, clock);
    perTask[t.name] = {
      cycles,
      latency_ms: ms,
      backbone_ms: cyclesToMs(cycles - headCycles, clock),
      head_ms: cyclesToMs(headCycles, clock),
      ddr_read_bytes: sum((l) => l.ddr_read_bytes),
      ddr_write_bytes: sum((l) => l.ddr_write_bytes),
      macs,
      engine_utilization: macs / (cycles * hw.pe * hw.simd),
      energy_mj: energyMj(ms, config.board.powerW),
    };
  }

  const moeLayers: MoeLayerEstimate[] = [];
  const moeTotal = emptyTotals();
  if (ir.dims.moe && moeFigures) {
    const m = ir.dims.moe;
    for (const b of m.blocks) {
      moeLayers.push({
        layer: `blocks.${b}.mlp.experts`,
        block: b,
        experts: m.experts,
        top_k: m.topK,
        tokens: ir.dims.tokens,
        expert_bytes: expertBytes(hw),
        expected_experts_used: moeFigures['expert-major'].expert_loads,
        schedulers: moeFigures,
      });
      for (const s of Object.keys(moeTotal) as SchedulerName[]) {
        const t = moeTotal[s];
        const f = moeFigures[s];
        t.onchip_weight_bytes = Math.max(t.onchip_weight_bytes, f.onchip_weight_bytes); // buffers are reused by every layer
        t.expert_weight_ddr_bytes += f.expert_weight_ddr_bytes;
        t.expert_loads += f.expert_loads;
        t.cycles += f.cycles;
      }
    }
  }

  const budgetBytes = (config.board.resources.BRAM_18K * BRAM18_BITS + config.board.resources.URAM * URAM_BITS) / 8;
  const activationBytes = buffers.filter((b) => b.group === 'activations').reduce((s, b) => s + b.bytes, 0);
  const totalBytes = buffers.reduce((s, b) => s + b.bytes, 0);

  const est: Estimate = {
    format: ESTIMATE_FORMAT,
    is_estimate: true,
    generator_version: packageVersion(),
    model: ir.dims.name,
    board: config.board.name,
    part: config.board.part,
    clock_mhz: clock,
    parallelism: { pe: hw.pe, simd: hw.simd },
    scheduler: config.moe.scheduler,
    expert_cache_slots: config.moe.expertCacheSlots,
    fits: over.length === 0,
    overflows: over,
    resources,
    units,
    buffers,
    onchip: { total_bytes: totalBytes, activation_bytes: activationBytes, activations_fit: activationBytes <= budgetBytes, budget_bytes: budgetBytes },
    tasks: tasks.map((t) => t.name),
    latency_ms: Object.fromEntries(tasks.map((t) => [t.name, perTask[t.name].latency_ms])),
    per_task: perTask,
    task_switch: {
      extra_cycles: 0,
      extra_ddr_bytes: 0,
      note:
        'the task id is a run-time register: a switch selects another gate and head; every weight streams from DDR on every run anyway, ' +
        'so nothing is reloaded and the next run costs the new task\'s pathway latency, no more',
    },
    power_w: config.board.powerW,
    energy_mj: Object.fromEntries(tasks.map((t) => [t.name, perTask[t.name].energy_mj])),
    layers,
    moe: { routing_model: ROUTING_MODEL, layers: moeLayers, total: moeTotal, token_major_by_slots: slotSweep(ir, hw) },
    roofline: {
      peak_macs_per_cycle: config.board.resources.DSP,
      engine_macs_per_cycle: hw.pe * hw.simd,
      ddr_bytes_per_cycle: (config.board.ddr.bandwidthGBps * 1e9) / (clock * 1e6),
      weights_port_bytes_per_cycle: hw.ports.weights.bytesPerCycle,
    },
    timing: {
      dot_depth: hw.timing.dot,
      elementwise_depth: hw.timing.elementwise,
      div64_cycles: hw.timing.div64,
      isqrt_cycles: hw.timing.isqrt,
      axi_latency: hw.timing.axiLatency,
      axi_outstanding: hw.timing.axiOutstanding,
    },
    assumptions: assumptions(hw, config),
    loop_timing: loopTiming(hw),
    counters_routing: routing ? 'measured (the golden run\'s routing)' : `expected values under the routing model (${ROUTING_MODEL.split(':')[0]})`,
    counters,
  };
  const paper = paperComparison(ir, config, est);
  if (paper) est.paper = paper;
  return est;
}

/** The kernel program's counters of one inference per task (generator/schedule/program.ts). */
function taskCounters(hw: HardwarePlan, ir: ModelIR, config: BuildConfig, routing?: Routing): Record<string, ProgramCounters> {
  const m = ir.dims.moe;
  const misses = m ? expectedLruMisses(m.experts, m.topK, config.moe.expertCacheSlots, ir.dims.tokens) : 0;
  const shared = m?.gate === 'shared';
  return Object.fromEntries(hw.sched.tasks.map((t) => [t.name, programCounters(hw.sched, t, shared, routing?.[t.name], misses)]));
}

/** Token-major loads of one MoE layer for cache sizes 1, 2, 4, ... up to E. */
function slotSweep(ir: ModelIR, hw: HardwarePlan): Estimate['moe']['token_major_by_slots'] {
  const m = ir.dims.moe;
  if (!m) return [];
  const out: Estimate['moe']['token_major_by_slots'] = [];
  for (let s = 1; ; s *= 2) {
    const slots = Math.min(s, m.experts);
    const loads = expectedLruMisses(m.experts, m.topK, slots, ir.dims.tokens);
    out.push({ slots, expert_loads: loads, expert_weight_ddr_bytes: loads * expertBytes(hw) });
    if (slots === m.experts) return out;
  }
}

function emptyTotals(): Record<SchedulerName, SchedulerFigures> {
  const z = (): SchedulerFigures => ({ onchip_weight_bytes: 0, expert_weight_ddr_bytes: 0, expert_loads: 0, cycles: 0 });
  return { 'expert-major': z(), 'token-major': z(), 'all-on-chip': z() };
}

function toLayerEstimate(l: ModelIR['layers'][number], c: LayerCost, hw: HardwarePlan): LayerEstimate {
  const { read, write } = trafficTotals(c.traffic);
  const busiest = busiestChannel(hw, c.traffic);
  const computeBound = computeBoundCycles(l.macs, c.macsPerCycle);
  const memoryBound = busiest.boundCycles;
  const boundCycles = Math.max(computeBound, memoryBound);
  const bound = boundCycles === 0 ? 'none' : computeBound >= memoryBound ? 'compute' : 'memory';
  const out: LayerEstimate = {
    layer: l.name,
    kind: l.kind,
    scope: scopeName(l.scope),
    engine: c.engine,
    macs: l.macs,
    cycles: Math.round(c.cycles),
    compute_cycles: Math.round(c.compute),
    ddr_cycles: busiest.transferCycles,
    ddr_read_bytes: Math.round(read),
    ddr_write_bytes: Math.round(write),
    overlap: c.overlap,
    macs_per_cycle: c.macsPerCycle,
    roofline: {
      compute_bound_cycles: Math.round(computeBound),
      memory_bound_cycles: Math.round(memoryBound),
      bound,
      efficiency: c.cycles > 0 && boundCycles > 0 ? boundCycles / c.cycles : 0,
      intensity: read + write > 0 && l.macs > 0 ? l.macs / (read + write) : null,
    },
  };
  if (l.block !== undefined) out.block = l.block;
  if (c.fusedInto) out.fused_into = c.fusedInto;
  if (c.note) out.note = c.note;
  return out;
}

/** The loop timing table as this plan instantiates it (generator/schedule/timing.ts). */
function loopTiming(hw: HardwarePlan): Estimate['loop_timing'] {
  const ctx = cycleContext(hw);
  return Object.fromEntries(
    (Object.keys(LOOP_TIMING) as LoopLabel[]).map((label) => {
      const t = LOOP_TIMING[label];
      const interval = loopInterval(label, ctx.sched, ctx.figures, ctx.ports);
      return [label, { ii: t.ii(ctx.sched), interval, depth: t.depth(ctx.sched, ctx.figures), reason: t.reason }];
    }),
  );
}

export const CYCLE_MODEL =
  'Cycles of an op (IR layer) = sum over its pipelined loops of iterations x interval + starts x depth (a loop beside another in a DATAFLOW region: starts x depth), plus the non-pipelined control of its kind ' +
  '(generator/estimate/cycles.ts); iterations and starts (entries that ran) are the kernel program\'s counters (generator/schedule/program.ts, equal to what C simulation counts); ' +
  'interval = max(II of the pipeline pragma, bus cycles per iteration); depths and bus intervals are assumptions (loop_timing, generator/schedule/timing.ts). ' +
  'Loads overlap compute only in the MAC engine\'s DATAFLOW region (linear weight tiles) and inside the loop that moves them; elsewhere they are separate loops of one FSM and add.';

function assumptions(hw: HardwarePlan, config: BuildConfig): string[] {
  const port = hw.ports.weights;
  const lt = loopTiming(hw);
  return [
    'All figures are analytical estimates of the generated kernels (loop nests of templates/hls/m3vit_top.cpp.hbs and templates/hls/kernels/*.h.hbs, sizes and pragmas of generator/schedule/schedule.ts) with the formulas of generator/estimate/formulas.ts (UG1399, UG573, UG579, UG1085); not synthesis results.',
    CYCLE_MODEL,
    ...hw.sources.map((s) => `${s.what} [${s.source}]`),
    `Loop timing (assumed depths; II from the pragmas): ${Object.entries(lt)
      .filter(([label]) => !(LOOP_TIMING[label as LoopLabel] as { debugOnly?: boolean }).debugOnly)
      .map(([label, t]) => `${label} II ${t.ii}${t.interval !== t.ii ? ` (bus: ${Number(t.interval.toFixed(2))} per iteration)` : ''} depth ${t.depth}`)
      .join(', ')}.`,
    `DDR: an m_axi port moves at most one ${port.widthBits}-bit word per cycle, capped by the DDR peak (${config.board.ddr.bandwidthGBps} GB/s): ${port.bytesPerCycle.toFixed(1)} B/cycle = ${((port.bytesPerCycle * config.clockMHz) / 1e3).toFixed(2)} GB/s at ${config.clockMHz} MHz; ${hw.timing.axiLatency}-cycle latency per transfer or pipelined read loop.`,
    'Debug dumps (options bit 0) are off; the host writes the image and reads the result outside the kernel time.',
    `Energy = latency x board power (${config.board.powerW} W from the config): an estimate, not a measurement.`,
    'LUT and FF are rough (typical per-unit costs, +-50%); DSP, BRAM_18K and URAM follow the buffers and multipliers listed.',
    `MoE traffic: ${ROUTING_MODEL}`,
  ];
}
