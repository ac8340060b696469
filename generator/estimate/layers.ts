/**
 * Cycles and DDR bytes of every IR layer, from the kernel program's counters
 * (generator/schedule/program.ts: iterations and entries of every pipelined loop, bus words
 * per m_axi channel, which C simulation counts too) through the cycle model of ./cycles.ts
 * and the loop timing table of generator/schedule/timing.ts. This file adds what the
 * counters do not say: which engine runs a layer, how its loads and compute combine, its
 * compute roof and a note.
 */
import type { LayerIR } from '../ir/types';
import type { BundleRole } from '../schedule/interface';
import type { CsimChannel, OpCounters } from '../schedule/program';
import type { PortRates } from '../schedule/timing';
import { opCycles, type CycleContext, type ExpertScheduler } from './cycles';
import type { HardwarePlan } from './hardware';
import type { LayerEstimate } from './types';

/** Bytes moved per m_axi channel (AXI reads and writes are separate channels). */
export type Channel = `${BundleRole}.${'read' | 'write'}`;
export type Traffic = Partial<Record<Channel, number>>;

/** Cycles, of which compute (loops that move no bus words, and control), and DDR bytes. */
export interface Cost {
  cycles: number;
  compute: number;
  traffic: Traffic;
}

export interface LayerCost extends Cost {
  engine: LayerEstimate['engine'];
  overlap: LayerEstimate['overlap'];
  /** Multipliers of the layer's inner loop (its compute roof). */
  macsPerCycle: number;
  fusedInto?: string;
  note?: string;
}

const WORD_BYTES = 16; // wword_t: 128 bits

/** The cycle model's context for a hardware plan. */
export function cycleContext(hw: HardwarePlan): CycleContext {
  const ports = Object.fromEntries(Object.entries(hw.ports).map(([role, p]) => [role, p.bytesPerCycle])) as PortRates;
  return { sched: hw.sched, figures: hw.timing, ports };
}

/** An op's bus words as bytes per channel (gmem_w.read -> weights.read, ...). */
export function opTraffic(hw: HardwarePlan, op: OpCounters | undefined): Traffic {
  const out: Traffic = {};
  if (!op) return out;
  for (const [ch, words] of Object.entries(op.words) as Array<[CsimChannel, number]>) {
    const [bundle, dir] = ch.split('.') as [string, 'read' | 'write'];
    const port = Object.values(hw.ports).find((p) => p.bundle === bundle);
    if (!port) throw new Error(`counters name channel ${ch}, which no m_axi port of the plan has`);
    const key: Channel = `${port.role}.${dir}`;
    out[key] = (out[key] ?? 0) + words * WORD_BYTES;
  }
  return out;
}

const engineMacs = (hw: HardwarePlan): number => hw.pe * hw.simd;

/**
 * Cost of one IR layer: its op's counters (`op`; undefined for a layer the kernels fuse
 * into another) through the cycle model. One case per layer kind.
 */
export function layerCost(l: LayerIR, hw: HardwarePlan, op: OpCounters | undefined, scheduler?: ExpertScheduler): LayerCost {
  const s = hw.sched;
  const c = opCycles(l.kind, op, cycleContext(hw), scheduler);
  const base: Cost = { cycles: c.cycles, compute: c.compute, traffic: opTraffic(hw, op) };
  const as = (engine: LayerCost['engine'], overlap: LayerCost['overlap'], macsPerCycle: number, note?: string): LayerCost => ({
    ...base,
    engine,
    overlap,
    macsPerCycle,
    ...(note ? { note } : {}),
  });
  const fused = (into: string, note: string): LayerCost => ({ cycles: 0, compute: 0, traffic: {}, engine: 'fused', overlap: 'none', macsPerCycle: 0, fusedInto: into, note });
  const task = l.scope.kind === 'task' ? s.tasks.find((t) => l.scope.kind === 'task' && t.name === l.scope.task) : undefined;
  const blk = (name: string): string => `blocks.${l.block}.${name}`;
  switch (l.kind) {
    case 'patch_embed':
      return as('linear', 'ping-pong', engineMacs(hw), `${s.patchEmbed.chunks} chunk(s) of ${s.patchEmbed.chunk}: the image is read once per chunk`);
    case 'cls_pos_embed':
      return as('stream', 'streamed', 0, 'patch bias, class token and positional embedding');
    case 'layernorm':
      return as('layernorm', 'serial', 0, task?.head === 'uphead' ? 'then UP_TOKENS writes the [GRID_H][GRID_W][D] map to scratch' : undefined);
    case 'linear': {
      if (task) return as('linear', 'ping-pong', engineMacs(hw));
      if (l.name.endsWith('attn.proj')) return as('linear', 'ping-pong', engineMacs(hw), 'requant and residual into X in the epilogue');
      if (l.name.endsWith('attn.qkv')) return as('linear', 'ping-pong', engineMacs(hw), `per head: q, k, v as 3 calls of ${s.hd} rows; the layer's calls and attention products one chain (each product's first tile loads during the job before it; only the layer's first q tile alone)`);
      const dense = s.dense!;
      if (l.name.endsWith('mlp.fc1')) return as('linear', 'ping-pong', engineMacs(hw), `${dense.tiles} hidden tiles of TH = ${dense.tile}, requant and GELU into H in the epilogue`);
      return as('linear', 'ping-pong', engineMacs(hw), `partial sums of ${dense.tiles} hidden tiles into ACC; the last tile's epilogue requantizes and adds the residual into X`);
    }
    case 'attention':
      return as('attention', 'none', engineMacs(hw), `${s.attention.tiles} key tiles of ${s.attention.keyTile} per head: Q.K^T and P.V on the MAC array, the online softmax in their epilogues and input lanes`);
    case 'gelu':
      return fused(blk('mlp.fc1'), 'requant and GELU as fc1 writes H (the engine\'s epilogue, a GELU table copy per two PE lanes)');
    case 'residual_add':
      if (l.name.endsWith('residual1')) return fused(blk('attn.proj'), 'X + requant(proj) as proj leaves the array (the engine\'s epilogue)');
      if (!s.moe?.blocks.includes(l.block ?? -1)) return fused(blk('mlp.fc2'), 'X + requant(fc2) in the last hidden tile\'s epilogue');
      return as('stream', 'none', 0, `MOE_RES2: the combined MoE output saturated into Y and added into X, ${s.resLanes} lanes`);
    case 'moe_gate':
      return as('linear', 'serial', engineMacs(hw), 'gate on the engine (logits requantized into Z in its epilogue), then top-k per token and the expert queues');
    case 'moe_experts': {
      // Two bias loads per expert load, both schedulers.
      const loads = (op?.starts.VEC32_LOAD ?? 0) / 2;
      const sched = scheduler ?? s.moe!.scheduler;
      if (sched === 'expert-major') {
        const note = `${loads.toFixed(2)} expert load(s), each expert once; each next expert's W1/W2 streams in through the engine's weight reader while the previous one computes (the first alone, and what a queue's jobs have no steps for after them)`;
        return as('moe', 'ping-pong', engineMacs(hw), note);
      }
      return as('moe', 'serial', engineMacs(hw), `${loads.toFixed(1)} expert load(s) (LRU misses); a miss stalls`);
    }
    case 'moe_combine':
      return fused(blk('mlp.experts'), 'p_e * y_e scatter-accumulated into ACC as each expert writes its output (combine_term)');
    case 'drop_cls':
      return fused(l.name.replace(/drop_cls$/, 'norm'), 'the head LayerNorm reads tokens 1..N-1');
    case 'relu':
      return fused(l.name.replace(/relu_(\d+)$/, 'conv_$1'), 'ReLU applied as the conv writes its output (linear_out)');
    case 'conv3x3': {
      const stage = task!.stages[Number(/conv_(\d+)$/.exec(l.name)![1])];
      const groups = task!.upChannels / stage.group;
      return as('conv', 'serial', engineMacs(hw), `${groups} group(s) of ${stage.group} channels: each group's weights read once and kept in the weight store, the input map read once per group; one pipelined loop per output row, each block serving ${s.ws!.parts} pixel(s)`);
    }
    case 'conv1x1':
      return as('conv', 'serial', engineMacs(hw), 'row by row, all channels per row (weights in the weight store), into a 3-row buffer the final upsample reads');
    case 'upsample2x':
      if (l.name.endsWith('up_out')) return as('stream', 'streamed', 0, 'emit_row: output rows of every channel as soon as their two conv1x1 rows exist, PE channels per 2 cycles, a burst per channel row into `result`');
      return as('stream', 'streamed', 0, `bilinear 2x, scratch to scratch, ${s.head.mapLanes} channels per iteration`);
  }
}

/** Busiest channel's bytes, its bound (bytes at the port's rate) and its transfer cycles. */
export function busiestChannel(hw: HardwarePlan, t: Traffic): { bytes: number; boundCycles: number; transferCycles: number } {
  let best = { bytes: 0, boundCycles: 0, transferCycles: 0 };
  for (const [ch, bytes] of Object.entries(t) as Array<[Channel, number]>) {
    const role = ch.split('.')[0] as BundleRole;
    const bound = bytes / hw.ports[role].bytesPerCycle;
    if (bound > best.boundCycles) best = { bytes, boundCycles: bound, transferCycles: Math.ceil(bound) };
  }
  return best;
}

export function trafficTotals(t: Traffic): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const [ch, b] of Object.entries(t)) {
    if (ch.endsWith('.read')) read += b ?? 0;
    else write += b ?? 0;
  }
  return { read, write };
}
