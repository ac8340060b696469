/**
 * Cycles and DDR bytes of every IR layer, from the loop nests of the generated kernel
 * (templates/hls/m3vit_top.cpp.hbs). Each function below mirrors one C++ function or loop
 * nest of that file and names it; trip counts come from the kernels' schedule, timing
 * figures from ./hardware.ts, the arithmetic from ./formulas.ts.
 */
import type { LayerIR, ModelIR } from '../ir/types';
import type { BundleRole } from '../schedule/interface';
import {
  linearTileComputeCycles,
  pipelinedLoopCycles as piped,
  sequentialLoopCycles as seqLoop,
  singleReadsCycles,
  transferCycles,
  uniformPingPongCycles,
} from './formulas';
import type { UpStage } from '../schedule/schedule';
import type { HardwarePlan } from './hardware';
import type { LayerEstimate } from './types';

/** Bytes moved per m_axi channel (AXI reads and writes are separate channels). */
export type Channel = `${BundleRole}.${'read' | 'write'}`;
export type Traffic = Partial<Record<Channel, number>>;

/** Cycles, of which compute (the PE x SIMD array or another datapath busy), and DDR bytes. */
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
const ZERO: Cost = { cycles: 0, compute: 0, traffic: {} };

function mergeTraffic(a: Traffic, b: Traffic, times = 1): Traffic {
  const out: Traffic = { ...a };
  for (const [k, v] of Object.entries(b) as Array<[Channel, number]>) out[k] = (out[k] ?? 0) + v * times;
  return out;
}
/** Costs one after the other. */
export function seq(...cs: Cost[]): Cost {
  return cs.reduce((a, c) => ({ cycles: a.cycles + c.cycles, compute: a.compute + c.compute, traffic: mergeTraffic(a.traffic, c.traffic) }), ZERO);
}
/** `n` times the same cost, as a loop that is not pipelined (entry/exit per iteration). */
export function times(n: number, c: Cost): Cost {
  return { cycles: seqLoop(n, c.cycles), compute: n * c.compute, traffic: mergeTraffic({}, c.traffic, n) };
}
/** Pure compute: a pipelined loop. */
const loop = (trip: number, ii: number, depth: number): Cost => {
  const c = piped(trip, ii, depth);
  return { cycles: c, compute: c, traffic: {} };
};

/** The machine the loops run on. */
export class KernelModel {
  constructor(
    readonly hw: HardwarePlan,
    readonly ir: ModelIR,
  ) {}

  private get t() {
    return this.hw.timing;
  }
  private get s() {
    return this.hw.sched;
  }

  /** A burst of `words` 128-bit words on a channel (one beat per cycle at the port's rate). */
  burst(channel: Channel, words: number): Cost {
    const role = channel.split('.')[0] as BundleRole;
    const bytes = words * WORD_BYTES;
    return { cycles: transferCycles(bytes, this.hw.ports[role].bytesPerCycle, this.t.axiLatency), compute: 0, traffic: { [channel]: bytes } };
  }
  /** A pipelined loop of `trip` iterations that reads (or writes) `words` words of a channel as it goes. */
  stream(channel: Channel, trip: number, words: number, depth = this.t.elementwise): Cost {
    const role = channel.split('.')[0] as BundleRole;
    const dma = Math.ceil((words * WORD_BYTES) / this.hw.ports[role].bytesPerCycle);
    const compute = piped(trip, 1, depth);
    return { cycles: Math.max(compute, dma) + (channel.endsWith('.read') ? this.t.axiLatency : 0), compute, traffic: { [channel]: words * WORD_BYTES } };
  }

  /** One row tile on the weight stream (weight_reader): PE rows of a [rows][K] matrix in PE x SIMD blocks, (K / SIMD) x BLOCK_WORDS words in one burst. */
  loadTile(k: number): Cost {
    return this.burst('weights.read', (k / this.hw.simd) * this.s.blockWords);
  }
  /** load_vec32: one word read per element (the same word for 4 elements: no burst). */
  loadVec32(n: number): Cost {
    return { cycles: singleReadsCycles(n, this.t.axiLatency, this.t.axiOutstanding), compute: 0, traffic: { 'weights.read': n * WORD_BYTES } };
  }
  /** load_vec16: ElemReader, one word per 8 elements. */
  loadVec16(n: number): Cost {
    return this.stream('weights.read', n, Math.ceil(n / 8), 2);
  }
  /** The ENGINE_CLEAR / DOT / STORE sequence of one output tile for one token or pixel: the
   * accumulators cleared (PE), the DOT loop over K / SIMD at II = 1, the PE outputs stored. */
  dotTile(k: number, storeDepth = 4): number {
    return piped(this.hw.pe, 1, 1) + piped(Math.ceil(k / this.hw.simd), 1, this.t.dot) + piped(this.hw.pe, 1, storeDepth);
  }
  /** A linear MAC job (mac_run): MAC_STEPS, one pipelined loop over n tokens x
   * K / SIMD blocks (the depth paid once per tile; the store of a token's PE sums is in its last step). */
  engineTile(k: number, n: number): number {
    return 1 + linearTileComputeCycles(n, k, this.hw.simd, this.t.dot + 2);
  }
  /** linear_engine: a job that loads tile 0, then ENGINE_TILES: each tile's compute while
   * mac_engine's loader streams the next tile into the other half of WT_A / WT_B (a DATAFLOW
   * region in canonical form, checked by test/structure-kernels.test.ts): ping-pong. */
  linearEngine(rows: number, k: number, n: number): Cost {
    const tiles = Math.ceil(rows / this.hw.pe);
    const load = this.loadTile(k);
    const compute = this.engineTile(k, n);
    return {
      cycles: uniformPingPongCycles(tiles, load.cycles, compute) + 2 * (tiles + 1),
      compute: tiles * compute,
      traffic: mergeTraffic({}, load.traffic, tiles),
    };
  }
  /** An element-wise pass over rows x cols (requant, residual, GELU): `lanes` elements per
   * iteration of the pipelined inner loop (PASS_LANES unless stated). */
  elementwise(rows: number, cols: number, extraDepth = 0, lanes = this.s.passLanes): Cost {
    return times(rows, loop(Math.ceil(cols / lanes), 1, this.t.elementwise + extraDepth));
  }
  /** layer_norm: gamma and beta loaded, then five pipelined loops over all rows: LN_SUM and
   * LN_VAR and LN_OUT (LN_LANES elements per cycle), LN_MEAN (a divide per row) and
   * LN_RSQRT (isqrt and a divide per row), each pipelined across rows at II = 1. */
  layerNorm(rows: number): Cost {
    const D = this.s.D;
    const t = this.t;
    const lanes = this.s.lnLanes;
    const steps = rows * (D / lanes);
    const tree = Math.ceil(Math.log2(lanes));
    const c = loop(steps, 1, 3 + tree).cycles + loop(rows, 1, t.div64 + 2).cycles + loop(steps, 1, t.elementwise + tree).cycles + loop(rows, 1, t.isqrt + t.div64).cycles + loop(steps, 1, t.elementwise + 4).cycles;
    return seq(this.loadVec16(D), this.loadVec32(D), { cycles: c, compute: c, traffic: {} });
  }
  /** patch_embed: per chunk of the patch vector, per patch row: load_band (the P image rows,
   * every channel) and PATCH_GATHER into Y, then the engine over the chunk. */
  patchEmbed(): Cost {
    const s = this.s;
    const band = times(s.image.c, this.stream('input.read', s.image.patch * s.image.w, Math.ceil((s.image.patch * s.image.w) / 8), 2));
    const gather = times(s.image.gridW, loop(s.patchEmbed.chunk, 1, 4));
    const chunk = seq(times(s.image.gridH, seq(band, gather)), this.linearEngine(s.D, s.patchEmbed.chunk, s.NP));
    return times(s.patchEmbed.chunks, chunk);
  }
  /** TOKENS_ROWS: bias, class token and positional embedding read row by row (ElemReader). */
  clsPos(): Cost {
    const s = this.s;
    const row = this.stream('weights.read', s.D, Math.ceil(s.D / 8), this.t.elementwise + 2);
    return seq(this.loadVec32(s.D), this.loadVec16(s.D), times(s.N, row));
  }
  /** attention ATT_QKV: per head, q, k and v of the head through the engine, biases, requant. */
  qkv(): Cost {
    const s = this.s;
    const one = seq(this.linearEngine(s.hd, s.D, s.N), this.loadVec32(s.hd), this.elementwise(s.N, s.hd, 0, s.qkvLanes));
    return times(s.heads * 3, one);
  }
  /** attention ATT_GROUPS: per head, groups of ATT_ROWS query rows; ATT_STEPS runs
   * (N + 1) x ATT_ROWS x ATT_CHUNKS steps at II 1 (the last sweep only finishes P.V), then
   * ATT_OUT divides ATT_ROWS x HD outputs one per cycle. */
  attentionCore(): Cost {
    const s = this.s;
    const t = this.t;
    const groups = Math.ceil(s.N / s.attnRows);
    const perGroup = loop((s.N + 1) * s.attnRows * s.attnChunks, t.attentionII, t.attentionDepth).cycles + loop(s.attnRows * s.hd, 1, t.div64 + 2).cycles;
    return times(s.heads * groups, { cycles: perGroup, compute: perGroup, traffic: {} });
  }
  /** gate of the run's task on the engine, GATE_LOGITS requant, ROUTE_TOPK (gate_top_k per
   * token: max, softmax sum with exp, k selection passes each with a divide), prefix, fill. */
  gate(): Cost {
    const s = this.s;
    const m = s.moe!;
    const t = this.t;
    const topk = loop(m.experts, 1, 2).cycles + loop(m.experts, 1, 14).cycles + m.experts + m.topK * (loop(m.experts, 1, 2).cycles + t.div64 + 14);
    return seq(
      this.linearEngine(m.gateRows, s.D, s.N),
      this.elementwise(s.N, m.gateRows),
      { cycles: seqLoop(s.N, topk), compute: seqLoop(s.N, topk), traffic: {} },
      loop(m.experts, 1, 2),
      this.elementwise(s.N, m.topK, 0, 1),
    );
  }
  /** A pipelined loop of `trip` iterations at `ii` that moves `words` bus words on a channel
   * as it goes: the longer of the loop and the transfer at the port's rate (+ read latency). */
  streamII(channel: Channel, trip: number, ii: number, words: number, depth = this.t.elementwise): Cost {
    const role = channel.split('.')[0] as BundleRole;
    const dma = Math.ceil((words * WORD_BYTES) / this.hw.ports[role].bytesPerCycle);
    const compute = piped(trip, ii, depth);
    return { cycles: Math.max(compute, dma) + (channel.endsWith('.read') ? this.t.axiLatency : 0), compute, traffic: { [channel]: words * WORD_BYTES } };
  }
  /** Words of `rows` rows of a K-column matrix in PE x SIMD blocks (block_rows). */
  blockRowWords(rows: number, k: number): number {
    return (rows / this.hw.pe) * (k / this.hw.simd) * this.s.blockWords;
  }
  /** load_row: one map row of w pixels x `stride` channels into the line buffer, MAP_LANES
   * channels per iteration (MAP_LANES / 8 words in, MAP_LANES / SIMD line-buffer words out). */
  loadRow(w: number, stride: number): Cost {
    const lanes = this.s.head.mapLanes;
    const ii = Math.max(lanes / 8, lanes / this.hw.simd);
    return this.streamII('scratch.read', (w * stride) / lanes, ii, (w * stride) / 8, 3);
  }
  /** conv3x3: biases; CONV_GROUPS: the group's weights into the weight store (one burst per
   * bank, load_conv_group), then CONV_ROWS over the whole map: load_row (the next input row),
   * conv_row (CONV_CLEAR and the block-feed prime of BLOCK_PARTS, then one pipelined loop over
   * pixel groups x tiles x 9 taps x cin / SIMD x BLOCK_PARTS pixels, depth paid once per row),
   * write_row (a word per cycle). */
  conv3x3(stage: UpStage, ch: number, chStride: number): { cost: Cost; rowCompute: number; groups: number } {
    const { h, w, cin, group } = stage;
    const ws = this.s.ws!;
    const groups = ch / group;
    const tiles = group / this.hw.pe;
    const blocks = tiles * 9 * (cin / this.hw.simd);
    const steps = Math.ceil(w / ws.parts) * blocks * ws.parts;
    const rowCompute = 3 + 2 * piped(ws.parts, 1, 2) + piped(steps, 1, this.t.dot + this.t.elementwise);
    const rowWords = (w * (groups === 1 ? chStride : group)) / 8;
    const row = seq(this.loadRow(w, stage.cinStride), { cycles: rowCompute, compute: rowCompute, traffic: {} }, this.streamII('scratch.write', rowWords, 1, rowWords));
    // load_conv_group: a burst per bank, bank 0 first.
    return { cost: seq(this.loadVec32(ch), times(groups, seq(...this.wsBursts(blocks), times(h, row)))), rowCompute, groups };
  }
  /** upsample2x: every input row once into the line buffer (load_row); per input row, two
   * output rows (UP_HALF), each UP_STEPS over 2w pixels x stride / MAP_LANES at II =
   * max(2 x MAP_LANES / SIMD (four taps from the dual-port line buffer), MAP_LANES / 8 (bus
   * words out)). */
  upsample2x(h: number, w: number, stride: number): Cost {
    const lanes = this.s.head.mapLanes;
    const ii = Math.max((2 * lanes) / this.hw.simd, lanes / 8);
    const words = (2 * w * stride) / 8;
    const half = this.streamII('scratch.write', (2 * w * stride) / lanes, ii, words);
    return seq(times(h, this.loadRow(w, stride)), times(h, times(2, half)));
  }
  /** The rest of one weight-store sequence of `blocks` blocks from word base: a burst per bank. */
  private wsBursts(blocks: number): Cost[] {
    const ws = this.s.ws!;
    const perBank = ws.depth / ws.parts;
    const out: Cost[] = [];
    for (let left = blocks; left > 0; left -= perBank) out.push(this.burst('weights.read', Math.min(left, perBank) * this.s.blockWords));
    return out;
  }
  /** conv1x1_out without the final upsample: biases, the weights into the weight store, then
   * per map row load_row and c1x1_row (C1X1_CLEAR, the block-feed prime, one pipelined loop
   * over pixel groups x tiles x Ch / SIMD x BLOCK_PARTS pixels). */
  conv1x1(lh: number, lw: number, ch: number, stride: number, cPad: number): Cost {
    const parts = this.s.ws!.parts;
    const tiles = cPad / this.hw.pe;
    const blocks = tiles * (ch / this.hw.simd);
    const compute = piped(parts, 1, 1) + piped(parts, 1, 2) + piped(Math.ceil(lw / parts) * blocks * parts, 1, this.t.dot + this.t.elementwise);
    const row = seq(this.loadRow(lw, stride), { cycles: compute, compute, traffic: {} });
    return seq(this.loadVec32(cPad), ...this.wsBursts(blocks), times(lh, row));
  }
  /** emit_rows for every conv1x1 row: two output rows, each UP_OUT_COLS (a column of a tile's
   * PE channels per iteration, II = 2) then UP_OUT_WRITE (each real channel's row, a burst). */
  finalUpsample(channels: number, lh: number, lw: number, cPad: number): Cost {
    const cols = piped((cPad / this.hw.pe) * 2 * lw, 2, this.t.elementwise + 2);
    const words = Math.ceil((2 * lw) / 8);
    const outRow = seq({ cycles: cols, compute: cols, traffic: {} }, times(channels, this.streamII('output.write', words, 1, words)));
    return times(lh, times(2, outRow));
  }
}

const engineMacs = (hw: HardwarePlan): number => hw.pe * hw.simd;

/**
 * Cost of one IR layer. MoE expert layers take their cycles and traffic from the
 * scheduler model (./moe.ts), passed in `moeExperts`.
 */
export function layerCost(l: LayerIR, ir: ModelIR, hw: HardwarePlan, moeExperts: LayerCost): LayerCost {
  const k = new KernelModel(hw, ir);
  const s = hw.sched;
  const N = s.N;
  const D = s.D;
  const as = (engine: LayerCost['engine'], c: Cost, overlap: LayerCost['overlap'], macsPerCycle: number, note?: string): LayerCost => ({
    ...c,
    engine,
    overlap,
    macsPerCycle,
    ...(note ? { note } : {}),
  });
  const fused = (into: string, note: string): LayerCost => ({ ...ZERO, engine: 'fused', overlap: 'none', macsPerCycle: 0, fusedInto: into, note });
  const task = l.scope.kind === 'task' ? s.tasks.find((t) => l.scope.kind === 'task' && t.name === l.scope.task) : undefined;
  const blk = (name: string): string => `blocks.${l.block}.${name}`;
  switch (l.kind) {
    case 'patch_embed':
      return as('linear', k.patchEmbed(), 'serial', engineMacs(hw), `${s.patchEmbed.chunks} chunk(s) of ${s.patchEmbed.chunk}: the image is read once per chunk`);
    case 'cls_pos_embed':
      return as('stream', k.clsPos(), 'streamed', 0, 'patch bias, class token and positional embedding');
    case 'layernorm': {
      if (!task) return as('layernorm', k.layerNorm(N), 'serial', 0);
      const c = k.layerNorm(s.NP);
      if (task.head !== 'uphead') return as('layernorm', c, 'serial', 0);
      // UP_TOKENS: the normalised patch tokens become the first feature map in scratch.
      const map = times(s.NP, k.stream('scratch.write', s.head.dStride, s.head.dStride / 8));
      return as('layernorm', seq(c, map), 'serial', 0, 'then UP_TOKENS writes the [GRID_H][GRID_W][D] map to scratch');
    }
    case 'linear': {
      if (task) {
        // linear_head: the engine over the patch tokens, biases, LINEAR_HEAD_OUT to `result`.
        // LINEAR_HEAD_OUT: a row of C per token; one Writer16 packs the [NP][C] result, so the
        // bus words are ceil(NP * C / 8), not a partial word per row.
        const rows = times(s.NP, k.stream('output.write', task.channels, 0));
        const out: Cost = { ...rows, traffic: { 'output.write': 16 * Math.ceil((s.NP * task.channels) / 8) } };
        return as('linear', seq(k.linearEngine(task.channelsPadded, D, s.NP), k.loadVec32(task.channelsPadded), out), 'ping-pong', engineMacs(hw));
      }
      if (l.name.endsWith('attn.qkv')) return as('linear', k.qkv(), 'ping-pong', engineMacs(hw), `per head: q, k, v as 3 calls of ${s.hd} rows (each starts with an unoverlapped tile load)`);
      if (l.name.endsWith('attn.proj')) return as('linear', seq(k.linearEngine(D, D, N), k.loadVec32(D)), 'ping-pong', engineMacs(hw));
      const dense = s.dense!;
      if (l.name.endsWith('mlp.fc1')) return as('linear', times(dense.tiles, seq(k.linearEngine(dense.tile, D, N), k.loadVec32(dense.tile))), 'ping-pong', engineMacs(hw), `${dense.tiles} hidden tiles of TH = ${dense.tile}`);
      return as('linear', seq(times(dense.tiles, k.linearEngine(D, dense.tile, N)), k.loadVec32(D)), 'ping-pong', engineMacs(hw), `partial sums of ${dense.tiles} hidden tiles into ACC`);
    }
    case 'attention':
      return as('attention', k.attentionCore(), 'none', 2 * s.attnLanes, `ATT_STEPS at II 1: ${s.attnRows} query rows interleaved, ${s.attnLanes} q.k + ${s.attnLanes} P.V lanes`);
    case 'gelu':
      return as('stream', times(s.dense!.tiles, k.elementwise(N, s.dense!.tile, 6)), 'none', 0, 'DENSE_GELU: requant and GELU of each hidden tile into H');
    case 'residual_add':
      return as('stream', k.elementwise(N, D), 'none', 0, l.name.endsWith('residual1') ? 'RES1: proj requant + residual into X' : 'requant + residual into X');
    case 'moe_gate':
      return as('linear', k.gate(), 'serial', engineMacs(hw), 'gate on the engine, then top-k per token and the expert queues');
    case 'moe_experts':
      return moeExperts;
    case 'moe_combine':
      return fused(blk('mlp.experts'), 'p_e * y_e scatter-accumulated into ACC as each expert writes its output (combine_term)');
    case 'drop_cls':
      return fused(l.name.replace(/drop_cls$/, 'norm'), 'the head LayerNorm reads tokens 1..N-1');
    case 'relu':
      return fused(l.name.replace(/relu_(\d+)$/, 'conv_$1'), 'ReLU applied as the conv writes its output (linear_out)');
    case 'conv3x3': {
      const stage = task!.stages[Number(/conv_(\d+)$/.exec(l.name)![1])];
      const c = k.conv3x3(stage, task!.upChannels, task!.upStride);
      const note = `${c.groups} group(s) of ${stage.group} channels: each group's weights read once and kept in the weight store, the input map read once per group; one pipelined loop per output row, each block serving ${s.ws!.parts} pixel(s)`;
      return as('conv', c.cost, 'serial', engineMacs(hw), note);
    }
    case 'conv1x1': {
      const [cin, h, w] = l.inputShape;
      return as('conv', k.conv1x1(h, w, cin, task!.upStride, task!.channelsPadded), 'serial', engineMacs(hw), 'row by row, all channels per row (weights in the weight store), into a 3-row buffer the final upsample reads');
    }
    case 'upsample2x': {
      const [, h, w] = l.inputShape;
      if (l.name.endsWith('up_out')) return as('stream', k.finalUpsample(task!.channels, h, w, task!.channelsPadded), 'streamed', 0, 'emit_rows: output rows of every channel as soon as their conv1x1 rows exist, PE channels per 2 cycles, a burst per channel row into `result`');
      return as('stream', k.upsample2x(h, w, task!.upStride), 'streamed', 0, `bilinear 2x, scratch to scratch, ${s.head.mapLanes} channels per iteration`);
    }
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
