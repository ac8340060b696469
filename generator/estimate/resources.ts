/**
 * Resources of the design: DSPs and rough logic per hardware unit, memory blocks per
 * on-chip buffer (./hardware.ts), totals against the board budget, and the fit check.
 */
import type { BoardResources, BuildConfig, ResourceClass } from '../config/types';
import { RESOURCE_CLASSES } from '../config/types';
import type { ModelIR } from '../ir/types';
import { UserError } from '../util/errors';
import { adderTreeLogic, bankMuxLuts, defaultStorage, dspsPerMultiplier, gateRoutingLogic, memoryBlocks, pipelinedDividerLogic, UNIT_LOGIC, type Storage } from './formulas';
import { bufferBytes, bufferMemories, type HardwarePlan } from './hardware';
import { expertRowFeed, expertTermFeed, qkvFeed, WORD_BITS } from '../schedule/schedule';
import { dividerShapes, gateDivider, gateWidths, modelWidths, tableWidths, type TableWidths } from '../numerics/widths';
import type { BufferEstimate, DividerUse, MultiplierUse, Overflow, ResourceFigure, UnitEstimate } from './types';

const zero = (unit: string): UnitEstimate => ({ unit, LUT: 0, FF: 0, DSP: 0, BRAM_18K: 0, URAM: 0, multipliers: [], dividers: [] });

/** A unit with its multipliers and dividers: DSP from the multipliers, divider logic added. */
function unit(name: string, logic: { LUT: number; FF: number }, multipliers: MultiplierUse[], dividers: DividerUse[] = []): UnitEstimate {
  const muls = multipliers.filter((m) => m.count > 0).map((m) => (m.a >= m.b ? m : { ...m, a: m.b, b: m.a }));
  let { LUT, FF } = logic;
  for (const d of dividers) {
    const l = pipelinedDividerLogic(d.dividend);
    LUT += d.count * l.LUT;
    FF += d.count * l.FF;
  }
  return { ...zero(name), LUT, FF, DSP: muls.reduce((s, m) => s + m.count * dspsPerMultiplier(m.a, m.b), 0), multipliers: muls, dividers };
}

const mul = (a: number, b: number, count: number, what: string, pipelined = true): MultiplierUse => ({ a, b, count, pipelined, what });

/** exp_neg (numerics.h) of a `diffBits` difference: d * log2(e), then the exp2 table's
 * interpolation. */
function expMultipliers(t: TableWidths, diffBits: number, count: number, where: string, pipelined: boolean): MultiplierUse[] {
  return [mul(diffBits, t.log2eBits, count, `${where}: d * log2(e)`, pipelined), mul(t.exp2DiffBits, t.exp2RemBits, count, `${where}: exp2 interpolation`, pipelined)];
}

/** Every hardware unit of the design with its multipliers (operand widths from
 * generator/numerics/widths.ts, the same figures the kernels are written with) and logic. */
export function unitEstimates(hw: HardwarePlan, ir: ModelIR, hasUphead: boolean): UnitEstimate[] {
  const { pe, simd, bits } = hw;
  const s = hw.sched;
  const t = tableWidths();
  const w = modelWidths({ keys: s.N, dim: ir.dims.embedDim, actBits: bits.act, eps: ir.dims.layerNormEps });
  const div = dividerShapes(w);
  const moe = ir.dims.moe !== undefined;
  const dense = s.dense !== undefined;
  const units: UnitEstimate[] = [];
  const product = bits.weight + bits.act;
  const gelu = (lanes: number, where: string): MultiplierUse => mul(t.geluDiffBits, t.geluRemBits, lanes, `${where}: GELU interpolation`);

  // mac_run (one call, in mac_engine, whose allocation limit is 1; pe_simd_dot inlined in it):
  // PE x SIMD multipliers, one adder tree and accumulator per PE; every matrix product of the
  // design runs on it. Its PE output
  // lanes requantize (shifts, no multiplier) and add the residual (proj, dense fc2: a second
  // shift-and-add lane), apply GELU (expert FC1, dense fc1) or the gate weight (expert FC2,
  // combine_term).
  const tree = adderTreeLogic(simd, product, bits.acc);
  units.push(
    unit(
      `mac_run: ${pe} x ${simd} MAC array (linear layers, gates, experts${hasUphead ? ', convs' : ''})`,
      { LUT: pe * (tree.LUT + 2 * UNIT_LOGIC.requantLane.LUT), FF: pe * (tree.FF + 2 * UNIT_LOGIC.requantLane.FF) },
      [
        mul(bits.weight, bits.act, pe * simd, 'MAC array: weight x activation'),
        ...(moe || dense ? [gelu(pe, moe ? 'expert FC1 and dense fc1 lanes' : 'dense fc1 lanes')] : []),
        ...(moe ? [mul(t.probBits, bits.act, pe, 'expert FC2 lanes: gate weight x output')] : []),
      ],
    ),
  );

  // Weight-store block feed (mac_run's FC1/FC2, conv and conv1x1 jobs): the block in use and
  // the next block's registers (parts written in turn), and BLOCK_PARTS x PE accumulators.
  if (s.ws) {
    const regs = 2 * pe * simd * bits.weight + s.ws.parts * pe * bits.acc;
    // acc[k][p] is read at the group position k: a BLOCK_PARTS:1 mux per accumulator bit.
    const mux = bankMuxLuts(s.ws.parts, bits.acc, pe);
    units.push(unit(`weight-store block feed in mac_run (${s.ws.parts} part(s) per block; jobs: ${[moe ? 'experts' : '', hasUphead ? 'conv3x3, conv1x1' : ''].filter(Boolean).join(', ')})`, { FF: regs, LUT: mux }, []));
  }

  // The expert feeds in mac_engine (token-tiled expert-major): row_reader and scratch_writer
  // (a controller each, BLOCK_PARTS row addresses each), their 32-deep 128-bit streams (SRL
  // FIFOs: a LUT and an FF per bit), and in mac_run the term word's PE registers, the
  // PE / 4 : 1 mux that picks a bus word of them and the word's 4 int32 adders of the
  // running sum (a LUT per bit). Rough, like the rest of the logic figures.
  if (expertRowFeed(s)) {
    const terms = expertTermFeed(s);
    const feeds = terms ? 2 : 1;
    const fifo = WORD_BITS + UNIT_LOGIC.controller.LUT;
    units.push(unit(`expert ${terms ? 'row and term feeds' : 'row feed'} in mac_engine (row_reader${terms ? ', scratch_writer; the running sums\' adders in mac_run' : ''})`, {
      LUT: feeds * (UNIT_LOGIC.controller.LUT + fifo) + (terms ? bankMuxLuts(pe / 4, WORD_BITS, 1) + WORD_BITS : 0),
      FF: feeds * (UNIT_LOGIC.controller.FF + WORD_BITS + s.ws!.parts * 32) + (terms ? pe * 32 : 0),
    }, []));
  }

  // The q/k/v feed in mac_engine (token-tiled): the scratch writer (a controller, its 32-deep
  // 128-bit stream; shared with the term feed when both run) and in mac_run a token's PE
  // outputs in registers and the PE / 8 : 1 mux that picks a bus word of them.
  if (qkvFeed(s)) {
    const writer = expertTermFeed(s) ? { LUT: 0, FF: 0 } : { LUT: UNIT_LOGIC.controller.LUT + WORD_BITS + UNIT_LOGIC.controller.LUT, FF: UNIT_LOGIC.controller.FF + WORD_BITS };
    units.push(unit(`q/k/v feed in mac_engine (scratch_writer${expertTermFeed(s) ? ', shared with the term feed' : ''})`, {
      LUT: writer.LUT + bankMuxLuts(pe / 8, WORD_BITS, 1),
      FF: writer.FF + pe * bits.act,
    }, []));
  }

  // The attention's online softmax, in mac_run (Q.K^T and P.V run on the MAC array): Q.K^T's
  // epilogue scales PE scores per cycle and takes a row's factor exp once per row; SIMD input
  // lanes evaluate P.V's P words (exp); P.V's epilogue rescales l once per row and PE outputs
  // o. ATT_OUT: round(o / l) on QKV_LANES pipelined dividers.
  units.push(
    unit(
      `attention softmax over key tiles of ${s.attention.keyTile} in mac_run (${pe} score, ${simd} exp and ${pe} merge lanes; Q.K^T and P.V on the MAC array)`,
      { LUT: UNIT_LOGIC.softmax.LUT + (2 * pe + simd) * UNIT_LOGIC.requantLane.LUT, FF: UNIT_LOGIC.softmax.FF + (2 * pe + simd) * UNIT_LOGIC.requantLane.FF },
      [
        mul(bits.acc, t.attnScaleBits, pe, 'Q.K^T epilogue lanes: score scale'),
        ...expMultipliers(t, w.diffBits, 1, 'Q.K^T epilogue: the row factor exp', true),
        ...expMultipliers(t, w.diffBits, simd, 'P.V input lanes: exp', true),
        mul(w.softmaxSumBits, t.probBits, 1, 'P.V epilogue: softmax sum rescale'),
        mul(w.softmaxOutBits, t.probBits, pe, 'P.V epilogue lanes: o * rescale factor'),
      ],
      [{ ...div.softmaxOut, count: s.qkvLanes, what: 'ATT_OUT lanes: round(o / l)' }],
    ),
  );

  // layer_norm: per lane c * c (LN_VAR), c * r and n * gamma (LN_OUT), and two requant-like
  // lanes of logic (LN_VAR's centring, LN_OUT's centring, rounding and saturation); LN_RSQRT's
  // divide is a pipelined divider and its isqrt 32 compare-subtract stages.
  const lnLaneLogic = 2 * s.lnLanes;
  units.push(
    unit(
      `LayerNorm (${s.lnLanes} element(s) per cycle, pipelined divide)`,
      {
        LUT: UNIT_LOGIC.layerNorm.LUT + 32 * 3 * 64 + lnLaneLogic * UNIT_LOGIC.requantLane.LUT,
        FF: UNIT_LOGIC.layerNorm.FF + 32 * 2 * 64 + lnLaneLogic * UNIT_LOGIC.requantLane.FF,
      },
      [
        mul(w.lnCenterBits, w.lnCenterBits, s.lnLanes, 'LN_VAR: c * c'),
        mul(w.lnCenterBits, w.lnRsqrtBits, s.lnLanes, 'LN_OUT: c * r'),
        mul(w.lnNormBits, bits.weight, s.lnLanes, 'LN_OUT: n * gamma'),
      ],
      [{ ...div.lnRsqrt, count: 1, what: 'LN_RSQRT: sqrt(D) / isqrt(v)' }],
    ),
  );

  // Element-wise passes (PASS_LANES lanes: the patch embedding's requant, the tokens; the
  // MoE residual's RES_LANES): linear_out / add_aligned / sat are shifts and adds.
  const passLanes = s.passLanes;
  const lanes = 2 * passLanes + (moe ? s.resLanes : 0);
  units.push(
    unit(
      `requant and residual passes (${passLanes} lane(s)${moe ? `, MoE residual ${s.resLanes}` : ''})`,
      { LUT: lanes * UNIT_LOGIC.requantLane.LUT, FF: lanes * UNIT_LOGIC.requantLane.FF },
      [],
    ),
  );

  if (moe) {
    // ROUTE_SCAN: one exp per step (a token's exp sum, whose kept terms are the weights'
    // numerators) and one weight divide per step (a pipelined divider); the top-k insertion,
    // counts and queue fill registers; a requant lane for the combine's saturation.
    const m = ir.dims.moe!;
    const g = gateWidths(m.experts);
    const logic = gateRoutingLogic(m.experts, m.topK, bits.act, g.gateSumBits, t.probBits);
    units.push(
      unit(
        `MoE gate routing (one pipelined scan: top-k of ${m.topK}, exp sum, weight divide; queues) and combine`,
        { LUT: logic.LUT + UNIT_LOGIC.requantLane.LUT, FF: logic.FF + UNIT_LOGIC.requantLane.FF },
        expMultipliers(t, w.diffBits, 1, 'ROUTE_SCAN: gate exp', true),
        [{ ...gateDivider(g), count: 1, what: 'ROUTE_SCAN: gate weight round(p * PROB_ONE / sum)' }],
      ),
    );
  }
  if (hasUphead) {
    // upsample_tap: 9, 3, 3, 1 weights are shifts and adds.
    units.push(unit('upsample (one channel per cycle)', { LUT: 4 * bits.act * 4, FF: 4 * bits.act * 4 }, []));
  }

  // Interfaces and control: 4 m_axi adapters, s_axilite, one FSM per loop nest.
  const loopNests = 30 + (hasUphead ? 12 : 0);
  units.push(
    unit('AXI interfaces and control', {
      LUT: 4 * UNIT_LOGIC.maxiPort.LUT + UNIT_LOGIC.axiliteControl.LUT + loopNests * UNIT_LOGIC.controller.LUT,
      FF: 4 * UNIT_LOGIC.maxiPort.FF + UNIT_LOGIC.axiliteControl.FF + loopNests * UNIT_LOGIC.controller.FF,
    }, []),
  );
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

/** The `n` buffers that take the most of a memory resource, as "NAME [d0][d1] blocks". */
export function largestBuffers(buffers: BufferEstimate[], resource: 'BRAM_18K' | 'URAM', n = 3): string {
  return buffers
    .filter((b) => b[resource] > 0)
    .sort((a, b) => b[resource] - a[resource] || a.name.localeCompare(b.name))
    .slice(0, n)
    .map((b) => `${b.name} [${b.dims.join('][')}] ${b[resource]}`)
    .join(', ');
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
 * error naming each resource that overflows and by how much (unless --allow-overfit), and
 * for the memories (BRAM_18K, URAM) the buffers that take the most of them (`largest`). */
export function checkFit(config: BuildConfig, over: Overflow[], activationNote?: string, largest: Partial<Record<ResourceClass, string>> = {}): void {
  if (over.length === 0) return;
  const pct = (o: Overflow): string => (o.available > 0 ? `${((100 * o.used) / o.available).toFixed(0)}%` : 'none available');
  const problems = over.map(
    (o) =>
      `/board/resources/${o.resource}: the estimate needs ${o.used.toLocaleString('en-US')}, the budget has ${o.available.toLocaleString('en-US')} (over by ${o.over.toLocaleString('en-US')}, ${pct(o)})` +
      (largest[o.resource] ? `; the largest buffers: ${largest[o.resource]}` : ''),
  );
  if (activationNote) problems.push(activationNote);
  problems.push(
    'reduce /parallelism (pe, simd), choose a smaller model or image, or pass --allow-overfit to generate anyway (see report/estimate.json); these are estimates, synthesis decides',
  );
  throw new UserError(config.configFile, problems, `the design does not fit ${config.board.name} (estimate)`);
}
