/**
 * Resources of the design: DSPs and rough logic per hardware unit, memory blocks per
 * on-chip buffer (./hardware.ts), totals against the board budget, and the fit check.
 */
import type { BoardResources, BuildConfig, ResourceClass } from '../config/types';
import { RESOURCE_CLASSES } from '../config/types';
import type { ModelIR } from '../ir/types';
import { UserError } from '../util/errors';
import { adderTreeLogic, bankMuxLuts, defaultStorage, dspsPerMultiplier, memoryBlocks, pipelinedDividerLogic, UNIT_LOGIC, type Storage } from './formulas';
import { bufferBytes, bufferMemories, type HardwarePlan } from './hardware';
import type { BufferEstimate, Overflow, ResourceFigure, UnitEstimate } from './types';

const zero = (unit: string): UnitEstimate => ({ unit, LUT: 0, FF: 0, DSP: 0, BRAM_18K: 0, URAM: 0 });

/** i64 in the kernel source: HLS keeps the declared width unless the operands are casts of
 * narrow values, so a product of two i64 variables is a 64 x 64 multiplier. */
const I64 = 64;

export function unitEstimates(hw: HardwarePlan, ir: ModelIR, hasUphead: boolean): UnitEstimate[] {
  const { pe, simd, bits } = hw;
  const s = hw.sched;
  const units: UnitEstimate[] = [];
  const product = bits.weight + bits.act;

  // mac_run (allocation limit = 1; pe_simd_dot inlined in it): PE x SIMD multipliers, one adder tree and accumulator
  // per PE; every matrix product of the design (engine, experts, convs) runs on it.
  const tree = adderTreeLogic(simd, product, bits.acc);
  units.push({
    ...zero(`mac_run: ${pe} x ${simd} MAC array (linear layers, gates, experts${hasUphead ? ', convs' : ''})`),
    DSP: pe * simd * dspsPerMultiplier(bits.weight, bits.act),
    LUT: pe * (tree.LUT + UNIT_LOGIC.requantLane.LUT),
    FF: pe * (tree.FF + UNIT_LOGIC.requantLane.FF),
  });

  // Weight-store block feed (mac_run's FC1/FC2, conv and conv1x1 jobs): the block in use and
  // the next block's registers (parts written in turn), and BLOCK_PARTS x PE accumulators.
  if (s.ws) {
    // One feed: mac_run's (static) registers serve every job that reads the weight store.
    const users = 1;
    const regs = 2 * pe * simd * bits.weight + s.ws.parts * pe * bits.acc;
    // acc[k][p] is read at the group position k: a BLOCK_PARTS:1 mux per accumulator bit.
    const mux = bankMuxLuts(s.ws.parts, bits.acc, pe);
    units.push({ ...zero(`weight-store block feed in mac_run (${s.ws.parts} part(s) per block; jobs: ${[ir.dims.moe ? 'experts' : '', hasUphead ? 'conv3x3, conv1x1' : ''].filter(Boolean).join(', ')})`), FF: users * regs, LUT: users * mux });
  }

  // ATT_STEPS: ATT_LANES products of Q.K (16 x 16 casts) and ATT_LANES updates of o per step;
  // the o rescale is an i64 x factor product, the score scale, exp and l updates a few more
  // wide products (one softmax step per step at most).
  const lanes = s.attnLanes;
  const atree = adderTreeLogic(lanes, 2 * bits.act, bits.acc);
  units.push({
    ...zero(`attention (${lanes} Q.K and ${lanes} P.V lanes at II 1, ${s.attnRows} rows interleaved, online softmax)`),
    DSP: lanes * (dspsPerMultiplier(bits.act, bits.act) + dspsPerMultiplier(18, bits.act) + dspsPerMultiplier(I64, 18)) + 3 * dspsPerMultiplier(I64, 18),
    LUT: 2 * atree.LUT + UNIT_LOGIC.softmax.LUT,
    FF: 2 * atree.FF + UNIT_LOGIC.softmax.FF,
  });

  // layer_norm: per lane c * c, c * r (i64 x i64) and n * gamma; LN_MEAN and LN_RSQRT each a
  // 64-bit divider pipelined at II = 1, LN_RSQRT's isqrt unrolled into 32 stages.
  const passLanes = s.passLanes;
  const div = pipelinedDividerLogic(I64);
  units.push({
    ...zero(`LayerNorm (${s.lnLanes} element(s) per cycle, pipelined divides)`),
    DSP: s.lnLanes * (2 * dspsPerMultiplier(I64, I64) + dspsPerMultiplier(I64, bits.weight)),
    LUT: UNIT_LOGIC.layerNorm.LUT + 2 * div.LUT + 32 * 3 * I64,
    FF: UNIT_LOGIC.layerNorm.FF + 2 * div.FF + 32 * 2 * I64,
  });

  // Element-wise passes (PASS_LANES lanes): linear_out / add_aligned (shifts, adds), GELU
  // table interpolation.
  units.push({
    ...zero(`requant, residual and GELU passes (${passLanes} lane(s))`),
    DSP: passLanes * 2 * dspsPerMultiplier(I64, 18),
    LUT: passLanes * 4 * UNIT_LOGIC.requantLane.LUT,
    FF: passLanes * 4 * UNIT_LOGIC.requantLane.FF,
  });

  if (ir.dims.moe) {
    // gate_top_k (exp, divide), combine_term g * y (i64 x int).
    units.push({
      ...zero('MoE gate top-k, queues and combine'),
      DSP: dspsPerMultiplier(I64, 32) + dspsPerMultiplier(I64, 18),
      LUT: UNIT_LOGIC.topK.LUT + UNIT_LOGIC.requantLane.LUT,
      FF: UNIT_LOGIC.topK.FF + UNIT_LOGIC.requantLane.FF,
    });
  }
  if (hasUphead) {
    // upsample_tap: 9, 3, 3, 1 weights are shifts and adds.
    units.push({ ...zero('upsample (one channel per cycle)'), LUT: 4 * bits.act * 4, FF: 4 * bits.act * 4 });
  }

  // Interfaces and control: 4 m_axi adapters, s_axilite, one FSM per loop nest.
  const loopNests = 30 + (hasUphead ? 12 : 0);
  units.push({
    ...zero('AXI interfaces and control'),
    LUT: 4 * UNIT_LOGIC.maxiPort.LUT + UNIT_LOGIC.axiliteControl.LUT + loopNests * UNIT_LOGIC.controller.LUT,
    FF: 4 * UNIT_LOGIC.maxiPort.FF + UNIT_LOGIC.axiliteControl.FF + loopNests * UNIT_LOGIC.controller.FF,
  });
  return units;
}

/** Memory blocks of every buffer: the storage the kernels bind, else Vitis HLS's default
 * (./formulas.ts defaultStorage). */
export function bufferEstimates(hw: HardwarePlan): BufferEstimate[] {
  return hw.buffers.map((b) => {
    const mem = bufferMemories(b);
    const storage: Storage = b.storage ?? defaultStorage(mem.width, mem.depth);
    const blocks = memoryBlocks(mem, storage);
    return {
      name: b.name,
      purpose: b.purpose,
      group: b.group,
      dims: b.dims,
      elem_bits: b.elemBits,
      partition: b.memories,
      reshape: b.wordElems,
      copies: b.copies,
      copies_share_memory: b.copiesShareMemory,
      memories: mem.count,
      memory_width_bits: mem.width,
      memory_depth: mem.depth,
      storage,
      storage_from: b.storage ? 'kernels' : 'hls-default',
      bytes: bufferBytes(b),
      BRAM_18K: blocks.BRAM_18K,
      URAM: blocks.URAM,
      LUT: blocks.LUT,
    };
  });
}

export function resourceTotals(units: UnitEstimate[], buffers: BufferEstimate[], budget: BoardResources): Record<ResourceClass, ResourceFigure> {
  const used: Record<ResourceClass, number> = { LUT: 0, FF: 0, DSP: 0, BRAM_18K: 0, URAM: 0 };
  for (const u of units) for (const r of RESOURCE_CLASSES) used[r] += u[r];
  for (const b of buffers) {
    used.BRAM_18K += b.BRAM_18K;
    used.URAM += b.URAM;
    used.LUT += b.LUT;
  }
  const out = {} as Record<ResourceClass, ResourceFigure>;
  for (const r of RESOURCE_CLASSES) {
    const u = Math.ceil(used[r]);
    out[r] = { used: u, available: budget[r], utilization: budget[r] > 0 ? u / budget[r] : u > 0 ? Infinity : 0 };
  }
  return out;
}

export function overflows(resources: Record<ResourceClass, ResourceFigure>): Overflow[] {
  return RESOURCE_CLASSES.filter((r) => resources[r].used > resources[r].available).map((r) => ({
    resource: r,
    used: resources[r].used,
    available: resources[r].available,
    over: resources[r].used - resources[r].available,
  }));
}

/** The fit check of the main job: a design that does not fit the board budget is a user
 * error naming each resource that overflows and by how much (unless --allow-overfit). */
export function checkFit(config: BuildConfig, over: Overflow[], activationNote?: string): void {
  if (over.length === 0) return;
  const pct = (o: Overflow): string => (o.available > 0 ? `${((100 * o.used) / o.available).toFixed(0)}%` : 'none available');
  const problems = over.map(
    (o) => `/board/resources/${o.resource}: the estimate needs ${o.used.toLocaleString('en-US')}, the budget has ${o.available.toLocaleString('en-US')} (over by ${o.over.toLocaleString('en-US')}, ${pct(o)})`,
  );
  if (activationNote) problems.push(activationNote);
  problems.push(
    'reduce /parallelism (pe, simd), choose a smaller model or image, or pass --allow-overfit to generate anyway (see report/estimate.json); these are estimates, synthesis decides',
  );
  throw new UserError(config.configFile, problems, `the design does not fit ${config.board.name} (estimate)`);
}
