/**
 * The estimator on whole models: layer cycles and DDR bytes worked out by hand on a small
 * model, the scaling laws of the MoE schedulers (expert-major on-chip memory independent
 * of E; token-major traffic growing with tokens x top-k), per-task sums, the fit check,
 * estimate.json's fields, the main job's report files, and the paper's ViT-S PASCAL case.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BuildConfig } from '../generator/config/types';
import { estimate } from '../generator/estimate/estimate';
import { bufferMemories, fromSchedule } from '../generator/estimate/hardware';
import { ESTIMATE_FILES, estimateJson } from '../generator/estimate/stage';
import { generate } from '../generator/generate';
import { buildIR } from '../generator/ir/build';
import { loadModel } from '../generator/model/load';
import type { ModelSpec } from '../generator/model/spec';
import { loadProject, type LoadedProject } from '../generator/project';
import { UserError } from '../generator/util/errors';
import { figure } from './helpers/figures';

const ROOT = path.resolve(__dirname, '..');

function config(over: Partial<BuildConfig> = {}): BuildConfig {
  return {
    configFile: '/tmp/x.json',
    name: 'x',
    modelFile: '/tmp/x.ts',
    outDir: '/tmp/x-out',
    board: {
      name: 'zcu104',
      part: 'xczu7ev-ffvc1156-2-e',
      boardPart: 'xilinx.com:zcu104:part0:1.1',
      resources: { LUT: 230400, FF: 460800, DSP: 1728, BRAM_18K: 624, URAM: 96 },
      ddr: { bandwidthGBps: 17, sizeMiB: 2048 },
      hpPorts: ['HP1', 'HP2', 'HP0', 'HP3'],
      hpPortWidthBits: 128,
      powerW: 10,
    },
    clockMHz: 300,
    numerics: { weightBits: 16, biasBits: 32, activationBits: 16, accumulatorBits: 48, headroomBits: 1, calibrationImages: 2 },
    parallelism: { pe: 2, simd: 4 },
    moe: { scheduler: 'expert-major', expertCacheSlots: 2 },
    seed: 1,
    randomInit: 'm3vit',
    preprocess: { resize: 'refuse', normalize: 'imagenet', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    ...over,
  };
}

// A small model: N = 9 tokens, D = 8, 2 heads of 4, dense hidden 16, MoE in block 1 with
// E = 4, k = 2, He = 8; with PE 2 x SIMD 4 every width divides (generator/schedule/parallelism.ts).
const small: ModelSpec = {
  name: 'small',
  image: { height: 8, width: 16 },
  patch: 4,
  embedDim: 8,
  depth: 2,
  heads: 2,
  mlpRatio: 2,
  moe: { experts: 4, topK: 2, hidden: 8 },
  tasks: [
    { name: 'a', channels: 3, head: { kind: 'linear' } },
    { name: 'b', channels: 2, head: { kind: 'uphead', channels: 8 } },
  ],
};

const withMoe = (m: Partial<NonNullable<ModelSpec['moe']>>, image?: ModelSpec['image']): ModelSpec => ({
  ...small,
  ...(image ? { image } : {}),
  moe: { ...small.moe!, ...m },
});

describe('layer cycles and DDR bytes by hand (small model, PE 2 x SIMD 4, 300 MHz, 128-bit ports)', () => {
  const ir = buildIR(small);
  const est = estimate(ir, ir.tasks, config());
  const layer = (name: string) => est.layers.find((l) => l.layer === name)!;

  // The cycle model by hand: an op's cycles = sum over its pipelined loops of iterations x
  // interval + entries x depth (+ its kind's non-pipelined control). The iterations and entries
  // below are read off the C++ loop nests of m3vit_top.cpp; the intervals and depths are the
  // stated assumptions of generator/schedule/timing.ts, instantiated here by hand:
  const AXI = 64; // m_axi round trip
  const DOT = 2 + 3 + 2 + 1 + 1; // operand read, DSP, adder tree log2(SIMD 4), accumulate, write
  const EW = 6; // element-wise depth
  const DIV = 64 + 4;
  // MAC_STEPS depth: a P word's exp at the input (EW + 6), the dot product, the longest
  // epilogue (Q.K^T's scores EW, their maximum tree log2(PE 2) = 1, the row factor's exp 6),
  // the read-modify-write (2): 36.
  const MAC = EW + 6 + DOT + EW + 1 + 6 + 2;
  const LOOP = 2; // a non-pipelined loop iteration (enter + leave)
  const vec32 = (n: number): number => n * 1 + (AXI + 1); // VEC32_LOAD: II 1 (a word per 4 elements), one entry
  const blocks = (words: number): number => words * 1 + (AXI + 2); // PARTS_LOAD: a word per cycle, one start

  it('attn.qkv: per head, q, k and v as three calls of HD = 4 rows in the layer\'s chain, each with its biases, the requant in the epilogue', () => {
    // One (head, q/k/v) call, linear_chain(4 rows, K = 8): 2 tiles of PE 2, a tile K / SIMD =
    //   2 blocks x BLOCK_WORDS 1 = 2 words; its tile 0 arrived during the job before it, so 2
    //   mac_engine jobs: tile 0's 9 tokens x 2 blocks = 18 steps while tile 1 streams in, tile
    //   1's 18 steps while the next product's tile 0 does (k's or v's from DDR, 2 words; after
    //   v the first Q.K^T's, packed from Kh: HD_K / SIMD = 1 word). Only the layer's first q
    //   tile loads alone (a job of 2 words). The head's last P.V job reads the next head's q
    //   tile (the attention core's op).
    //   MAC_STEPS: 2 + 2 heads x 3 calls x 36 = 218 iterations, 1 + 12 jobs of depth 36: 686.
    //   WEIGHT_READ (beside MAC_STEPS, which takes its words): its starts pay the round trip
    //   65: the first tile, then per head 5 (2 per q and k call, 1 for v): 11 x 65 = 715.
    //   The first Q.K^T tile (v's last job) is packed by MAC_STEPS itself: no loop of its own.
    //   ENGINE_TILES one non-pipelined iteration (2) per job: 26.
    // load_vec32(4) before each call: 4 x 1 + 65 = 69, 6 calls: 414. Total 1841.
    const expected = 218 + 13 * MAC + 11 * (AXI + 1) + 13 * LOOP + 6 * vec32(4);
    expect(expected).toBe(1841);
    const q = layer('blocks.0.attn.qkv');
    expect(q.cycles).toBe(expected);
    expect(q.overlap).toBe('ping-pong');
    // Bytes: 6 calls x 2 tiles x 32 B, less head 1's first q tile (the core's), + 6 calls' 4
    // biases, one word each (they start at element (h x 3 + g) x 4: a word's lane 0) x 16 B.
    expect(q.ddr_read_bytes).toBe(6 * 2 * 32 - 32 + 6 * 16);
    expect(layer('blocks.0.attn.core').ddr_read_bytes).toBe(32);
    expect(q.roofline.compute_bound_cycles).toBe(Math.round((9 * 24 * 8) / 8)); // MACs / (PE x SIMD)
    expect(q.roofline.bound).toBe('compute');
  });

  it('LayerNorm: five loops over all rows, LN_LANES elements per cycle, divides pipelined across rows', () => {
    // Gamma: VEC16_LOAD 8 elements (a word per 8: the bus allows II 1), depth 65 -> 73; beta:
    // load_vec32(8) 8 x 1 + 65 = 73. LN_LANES = gcd(SIMD 4, D 8) = 4: 9 rows x 8 / 4 = 18
    // steps. LN_SUM depth 3 + log2(4) = 5 -> 23; LN_MEAN 9 rows, depth 68 + 2 -> 79; LN_VAR
    // depth 6 + 2 -> 26; LN_RSQRT depth isqrt 34 + 68 -> 111; LN_OUT depth 6 + 4 -> 28. Each
    // entered once.
    expect(layer('blocks.0.norm1').cycles).toBe(8 + 65 + vec32(8) + (18 + 5) + (9 + DIV + 2) + (18 + EW + 2) + (9 + 34 + DIV) + (18 + EW + 4));
    expect(layer('blocks.0.norm1').cycles).toBe(413);
  });

  it('attention: per head and key tile, Q.K^T and P.V on the engine with the softmax in their epilogues, then the divides', () => {
    // Key tiles of lcm(PE 2, SIMD 4) = 4 rounded up to 8 keys: 2 tiles over 9 keys, the last
    // holding 1 key; HD 4 is HD_K = 4 (SIMD) and HD_R = 4 (PE); BLOCK_WORDS 1. Per head, four
    // products [rows, K] of the layer's chain (tiles of PE 2, steps 9 tokens x K / SIMD,
    // words K / SIMD), the first one's tile 0 packed during v's last job (attn.qkv):
    //   Q.K^T of tile 0 [8, 4]: 4 row tiles, 9 steps, 1 word; P.V of tile 0 [4, 8]: 2 tiles,
    //   18 steps, 2 words; Q.K^T of tile 1 (its 1 key: 2 rows) [2, 4]: 1 tile, 9 steps, 1 word;
    //   P.V of tile 1 (4 columns) [4, 4]: 2 tiles, 9 steps, 1 word.
    // MAC_STEPS: a job per row tile of max(steps, the next tile's words) (each load fits in
    //   its job's steps; MAC_STEPS packs the on-chip words itself): 4 x 9 + 2 x 18 + 9 + 2 x 9
    //   = 99 iterations in 9 jobs: 99 + 9 x 36 = 423. Head 0's last job reads head 1's first q
    //   tile from DDR: one WEIGHT_READ start, 65. Scores, maximum and factor, P words, o and
    //   l: epilogue and input lanes.
    // 2 x 423 + 65 = 911. ATT_OUT per head: 9 x 4 divides on QKV_LANES = gcd(PASS_LANES 2,
    // HD 4) = 2 lanes, 18 iterations, depth 68 + 2: 2 x 88 = 176. Control: one iteration per
    // job (ONCHIP_TILES; 2 x 9) and ATT_TILES one per (head, tile) (4): 22 x 2 = 44.
    // Total 1131.
    const perHead = 99 + 9 * MAC;
    expect(perHead).toBe(423);
    const a = layer('blocks.0.attn.core');
    expect(a.cycles).toBe(2 * perHead + (AXI + 1) + 2 * (18 + DIV + 2) + (18 + 4) * LOOP);
    expect(a.cycles).toBe(1131);
    expect(a.macs_per_cycle).toBe(8); // the engine: PE 2 x SIMD 4
  });

  it('conv3x3 (UpHead of task b, stage 0): one channel group, weights once, one pipelined loop per output row', () => {
    // Stage 0: 2 x 4 map, cin = D = 8, 8 output channels in one group of 4 tiles of PE 2;
    // MAP_LANES = lcm(SIMD 4, 8) = 8, strides 8.
    // load_vec32(8) 73. load_conv_group: 4 tiles x 9 x 8 / 4 = 72 blocks of 1 word, one
    //   PARTS_LOAD entry: 72 + 66 = 138.
    // load_row x 2 rows: LB_LOAD 4 x 8 / 8 = 4 steps at II max(8 / 8, 8 / 4) = 2, depth 67:
    //   2 x (8 + 67) = 150.
    // conv_row x 2: MAC_STEPS 4 pixels x 72 blocks x 1 part = 288 steps: 2 x (288 + 36) = 648,
    //   and per job FEED_PRIME (1 part) + CONV_SLOTS (3): 2 x 4 = 8.
    // write_row x 2: CONV_WRITE 4 words, depth 2: 2 x (4 + 2) = 12. Total 1029.
    const c = layer('head.b.conv_0');
    expect(c.cycles).toBe(vec32(8) + blocks(72) + 2 * (4 * 2 + (AXI + 3)) + 2 * (288 + MAC) + 2 * (1 + 3) + 2 * (4 + 2));
    // Read: 8 biases in 2 words (4 per word), weights 1152 B, two input rows of 4 words.
    expect(c.ddr_read_bytes).toBe(2 * 16 + 1152 + 2 * 4 * 16);
    expect(c.ddr_write_bytes).toBe(2 * 4 * 16);
    // Compute bound: 2 x 4 x 8 x 72 MACs / 8 per cycle.
    expect(c.roofline.compute_bound_cycles).toBe((2 * 4 * 8 * 72) / 8);
  });

  it('upsample2x, conv1x1 and the final upsample of task b, row by row', () => {
    // up_0: 2 x 4 map, stride 8. load_row of the 2 input rows: 2 x (4 x 2 + 67) = 150. Per
    //   input row 2 output rows, each UP_STEPS 2 x 4 pixels x 8 / 8 = 8 steps at II max(2 x 8 /
    //   SIMD 4, 8 / 8) = 4, depth 6: 4 entries, 4 x (8 x 4 + 6) = 152. Total 302.
    const up = layer('head.b.up_0');
    expect(up.cycles).toBe(2 * (4 * 2 + (AXI + 3)) + 4 * (8 * 4 + EW));
    expect(up.ddr_write_bytes).toBe(4 * 8 * 8 * 2); // the 4 x 8 map of 8 channels
    // conv_2 (conv1x1 at 4 x 8, 8 -> 2 channels, C_pad 2 = one tile): load_vec32(2) 67;
    //   weights 1 tile x 8 / 4 = 2 blocks of 1 word: 2 + 66 = 68. Per map row (4): load_row 8
    //   steps at II 2 (16 + 67 = 83), c1x1_row MAC_STEPS 8 pixels x 2 blocks = 16 (16 + 36) and
    //   FEED_PRIME 1: 4 x (83 + 52 + 1) = 544. Total 685.
    expect(layer('head.b.conv_2').cycles).toBe(vec32(2) + blocks(2) + 4 * (8 * 2 + (AXI + 3) + (16 + MAC) + 1));
    // up_out: 8 emit_row calls (output rows 0 .. 7): UP_OUT_COLS 1 tile x 16 columns at II 2, depth
    //   8: 8 x (32 + 8) = 320; per output row and channel (2) PUT_WORDS 2 words, depth 66 (the
    //   read of a partial last word is in the pipeline, taken or not): 16 x (2 + 66) = 1088.
    const out = layer('head.b.up_out');
    expect(out.cycles).toBe(8 * (16 * 2 + (EW + 2)) + 16 * (2 + (AXI + 2)));
    expect(out.ddr_write_bytes).toBe(2 * 8 * 16 * 2);
  });

  it('MoE experts, expert-major: the expected used experts each loaded once, streamed during the previous expert\'s jobs, the expected token groups', () => {
    // load_expert's bus words: W1 and W2 8 x 8 / (PE 2 x SIMD 4) = 8 blocks of 1 word each,
    // b1 and b2 a word per element (8 + 8): 32 words = 512 B.
    const m = est.moe.layers[0];
    expect(m.expert_bytes).toBe(512);
    const used = 4 * (1 - Math.pow(2 / 4, 9)); // E (1 - ((E-k)/E)^N)
    expect(m.expected_experts_used).toBeCloseTo(used, 12);
    const em = m.schedulers['expert-major'];
    // On chip: two halves of W1 8x8 + W2 8x8 int16 (256 B) + b1, b2 16 int32 (64 B).
    expect(em.onchip_weight_bytes).toBe(2 * 320);
    expect(em.expert_weight_ddr_bytes).toBeCloseTo(used * 512, 9);
    // Per used expert: its biases, load_vec32(8) twice: 2 x 73 = 146 (its W1/W2 burst of 16
    // words goes through the engine's loader).
    const biases = 2 * vec32(8);
    expect(biases).toBe(146);
    // A group (PE x SIMD = 8 lanes: 1 part per block, a group is 1 token): EXPERT_GROUP_TOKENS
    // 1 iteration, depth 2 (3); the FC1 and the FC2 job, MAC_STEPS 8 blocks x 1 part each:
    // 2 x (8 + 36) = 88; control: EXPERT_QUEUE one non-pipelined iteration (2) with FEED_PRIME
    // 1: 3. Groups: E x E[ceil(q / 1)] = the 18 (token, expert) pairs.
    const groups = 18;
    // The burst: the first expert's 16 words in a job of its own (MAC_STEPS 16 + 36, WEIGHT_READ
    // beside it: a start, 65); every next one rides on the previous expert's jobs, 8 words per
    // job, so a used expert's first 2 jobs read words (a WEIGHT_READ start each) and none loads
    // alone (a used expert has at least one group: 2 jobs of 8 steps = 16 words). All used
    // experts but the last carry a burst: 2 (used - 1) WEIGHT_READ starts.
    const alone = 16 + MAC + (AXI + 1);
    const carried = 2 * (used - 1) * (AXI + 1);
    // MOE_CLEAR: 9 entries of D / PE = 4 words, depth 2: 36 + 18 = 54. EXPERT_USED 4 x (1 + 2),
    // EXPERT_PINGPONG one iteration (2) per used expert. The next expert's load overlaps this
    // one's compute (mac_engine's DATAFLOW weight reader); the biases add.
    const expected = 36 + 9 * 2 + used * biases + groups * (1 + 2 + 2 * (8 + MAC) + 1 + LOOP) + alone + carried + 4 * (1 + LOOP) + used * LOOP;
    expect(expected).toBeCloseTo(2854.828125, 9);
    expect(em.cycles).toBeCloseTo(expected, 9);
    expect(layer('blocks.1.mlp.experts').cycles).toBe(Math.round(expected));
  });

  it('fused layers carry no cycles and name the loop that does their work', () => {
    expect(layer('blocks.1.mlp.combine')).toMatchObject({ cycles: 0, engine: 'fused', fused_into: 'blocks.1.mlp.experts' });
    expect(layer('head.b.relu_0')).toMatchObject({ cycles: 0, fused_into: 'head.b.conv_0' });
    expect(layer('head.b.drop_cls')).toMatchObject({ cycles: 0, fused_into: 'head.b.norm' });
    // The engine's epilogue requantizes: GELU as fc1 writes H, the residuals as proj and the
    // last fc2 tile leave the array. The MoE block's residual stays a pass over ACC.
    expect(layer('blocks.0.mlp.act')).toMatchObject({ cycles: 0, engine: 'fused', fused_into: 'blocks.0.mlp.fc1' });
    expect(layer('blocks.0.residual1')).toMatchObject({ cycles: 0, fused_into: 'blocks.0.attn.proj' });
    expect(layer('blocks.0.residual2')).toMatchObject({ cycles: 0, fused_into: 'blocks.0.mlp.fc2' });
    expect(layer('blocks.1.residual2').cycles).toBeGreaterThan(0);
    expect(layer('blocks.1.residual2').engine).toBe('stream');
  });

  it('per task: latency = cycles of the pathway / clock; the backbone is shared, gates of other tasks are not run', () => {
    for (const t of ['a', 'b']) {
      const own = est.layers.filter((l) => l.scope === 'backbone' || l.scope === `task:${t}`);
      const cycles = own.reduce((s, l) => s + l.cycles, 0);
      expect(est.per_task[t].cycles).toBe(cycles);
      expect(est.latency_ms[t]).toBeCloseTo(cycles / 300e3, 12);
      expect(est.energy_mj[t]).toBeCloseTo(est.latency_ms[t] * 10, 12);
    }
    expect(est.per_task.a.backbone_ms).toBeCloseTo(est.per_task.b.backbone_ms, 12);
    expect(est.per_task.b.head_ms).toBeGreaterThan(est.per_task.a.head_ms); // the UpHead is heavier than a linear head
    expect(est.task_switch).toMatchObject({ extra_cycles: 0, extra_ddr_bytes: 0 });
  });

  it('every layer of the built tasks is estimated once, in IR order', () => {
    expect(est.layers.map((l) => l.layer)).toEqual(ir.layers.map((l) => l.name));
  });
});

describe('MoE schedulers: scaling laws', () => {
  const moeTotals = (spec: ModelSpec, c = config()) => {
    const ir = buildIR(spec);
    return estimate(ir, ir.tasks, c).moe;
  };

  it('expert-major on-chip weight memory does not grow with the number of experts; all-on-chip does, linearly', () => {
    const rows = [4, 8, 16, 32, 64].map((E) => ({ E, t: moeTotals(withMoe({ experts: E })).total }));
    const base = rows[0].t['expert-major'].onchip_weight_bytes;
    for (const r of rows) {
      expect(r.t['expert-major'].onchip_weight_bytes).toBe(base);
      expect(r.t['token-major'].onchip_weight_bytes).toBe(base); // 2 slots, like the ping-pong
      expect(r.t['all-on-chip'].onchip_weight_bytes).toBe((r.E * base) / 2);
    }
  });

  it('expert-major reads each used expert once: traffic never exceeds E experts per layer, whatever the tokens', () => {
    for (const image of [{ height: 8, width: 16 }, { height: 32, width: 64 }, { height: 64, width: 128 }]) {
      const m = moeTotals(withMoe({ experts: 8 }, image));
      expect(m.layers[0].schedulers['expert-major'].expert_weight_ddr_bytes).toBeLessThanOrEqual(8 * m.layers[0].expert_bytes + 1e-6);
    }
  });

  it('token-major traffic grows with tokens x top-k (LRU of 1 slot, E = 32)', () => {
    const c = config({ moe: { scheduler: 'token-major', expertCacheSlots: 1 } });
    const E = 32;
    const S = 1;
    const cases = [
      { image: { height: 8, width: 16 }, k: 1 },
      { image: { height: 8, width: 16 }, k: 2 },
      { image: { height: 16, width: 32 }, k: 2 },
      { image: { height: 32, width: 64 }, k: 2 },
      { image: { height: 32, width: 64 }, k: 4 },
    ];
    let previous = 0;
    for (const { image, k } of cases) {
      const m = moeTotals(withMoe({ experts: E, topK: k }, image), c);
      const l = m.layers[0];
      const loads = l.schedulers['token-major'].expert_loads;
      const pairs = l.tokens * k;
      // Each lookup hits with probability at most S / (E - k + 1): at most S cached
      // candidates among the >= E - k + 1 experts the token has not used yet.
      expect(loads).toBeLessThanOrEqual(pairs);
      expect(loads).toBeGreaterThanOrEqual(pairs * (1 - S / (E - k + 1)));
      expect(l.schedulers['token-major'].expert_weight_ddr_bytes).toBeCloseTo(loads * l.expert_bytes, 6);
      expect(loads).toBeGreaterThan(previous);
      previous = loads;
    }
  });
});

describe('buffers and memory blocks', () => {
  it('reads partition and reshape pragmas of the schedule as physical memories', () => {
    const base = { purpose: '', group: 'activations' as const, cType: 'act_t', weights: false, storage: 'auto' as const, copies: 1 };
    // X [129][192] act_t, array_partition cyclic 16 dim 2: 16 memories of 1548 x 16 bits.
    const x = fromSchedule({ ...base, name: 'X', dims: [129, 192], elemBits: 16, partition: [{ dim: 2, type: 'cyclic', factor: 16 }], reshape: [] });
    expect(bufferMemories(x)).toEqual({ width: 16, depth: 1548, count: 16 });
    // WT_A [8][192] wgt_t, partition complete dim 1, reshape cyclic 16 dim 2: 8 memories of 12 x 256 bits.
    const wt = fromSchedule({ ...base, name: 'WT_A', dims: [8, 192], elemBits: 16, partition: [{ dim: 1, type: 'complete' }], reshape: [{ dim: 2, type: 'cyclic', factor: 16 }] });
    expect(bufferMemories(wt)).toEqual({ width: 256, depth: 12, count: 8 });
    // Complete partition of every dimension (dim 0): one register per element.
    const r = fromSchedule({ ...base, name: 'R', dims: [4, 2], elemBits: 16, partition: [{ dim: 0, type: 'complete' }], reshape: [] });
    expect(bufferMemories(r)).toEqual({ width: 16, depth: 1, count: 8 });
  });

  it('m3vit-tiny on the shipped config: totals are the sums of units and buffers; expert buffers match the MoE model', () => {
    const p = loadProject(path.join(ROOT, 'zcu104.json'));
    const est = estimate(p.ir, p.tasks, p.config);
    // X [129][192] cyclic by SIMD 32: 32 memories of 16 bits x 129 * 6 = 774 words -> one
    // 18x1K block each = 32 BRAM_18K.
    const x = est.buffers.find((b) => b.name === 'X')!;
    expect([x.memories, x.memory_width_bits, x.memory_depth, x.storage, x.BRAM_18K]).toEqual([32, 16, 774, 'bram', 32]);
    expect(est.resources.DSP.used).toBe(est.units.reduce((s, u) => s + u.DSP, 0));
    expect(est.resources.URAM.used).toBe(est.buffers.reduce((s, b) => s + b.URAM, 0));
    expect(est.resources.BRAM_18K.used).toBe(est.buffers.reduce((s, b) => s + b.BRAM_18K, 0));
    // The MoE model's on-chip expert memory is two experts (W1, W2 int16, b1, b2 int32); they
    // live in the two banks of the weight store WS (each deep enough for one expert; the store
    // is rounded up to the URAM depth and holds a conv3x3 channel group in the head) and EB1/EB2.
    const expert = 2 * 384 * 192 * 2 + (384 + 192) * 4;
    expect(est.moe.total['expert-major'].onchip_weight_bytes).toBe(2 * expert);
    const ws = est.buffers.find((b) => b.name === 'WS')!;
    expect(ws.memories).toBe(1); // the two banks are one memory (a read and a write port)
    expect(ws.bytes / 2).toBeGreaterThanOrEqual(2 * 384 * 192 * 2);
    expect(est.buffers.filter((b) => b.name === 'EB1' || b.name === 'EB2').reduce((s, b) => s + b.bytes, 0)).toBe(2 * (384 + 192) * 4);
    expect(est.fits).toBe(est.overflows.length === 0);
    figure(
      `m3vit-tiny on zcu104 @300 MHz (estimate): ${est.tasks.map((t) => `${t} ${est.latency_ms[t].toFixed(1)} ms (backbone ${est.per_task[t].backbone_ms.toFixed(1)})`).join(', ')}; ` +
        Object.entries(est.resources).map(([k, v]) => `${k} ${v.used}/${v.available}`).join(', ') + `; fits: ${est.fits}`,
    );
  });
});

describe('estimate.json', () => {
  const ir = buildIR(small);
  const est = estimate(ir, ir.tasks, config());
  const json = JSON.parse(estimateJson(est));

  it('has the fields the report command reads', () => {
    expect(json.format).toBe('m3vit-gen-estimate/1');
    expect(json.is_estimate).toBe(true);
    expect(typeof json.fits).toBe('boolean');
    for (const r of ['LUT', 'FF', 'DSP', 'BRAM_18K', 'URAM']) {
      expect(json.resources[r]).toEqual({ used: expect.any(Number), available: expect.any(Number), utilization: expect.any(Number) });
    }
    expect(Object.keys(json.latency_ms)).toEqual(['a', 'b']);
    expect(json.moe.layers[0].schedulers['expert-major']).toEqual({
      onchip_weight_bytes: expect.any(Number),
      expert_weight_ddr_bytes: expect.any(Number),
      expert_loads: expect.any(Number),
      cycles: expect.any(Number),
    });
    expect(Object.keys(json.moe.total)).toEqual(['expert-major', 'token-major', 'all-on-chip']);
  });

  it('is byte-identical for identical inputs', () => {
    expect(estimateJson(estimate(ir, ir.tasks, config()))).toBe(estimateJson(est));
  });
});

describe('fit check in the main job', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-estimate-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const project = (c: BuildConfig): LoadedProject => {
    const ir = buildIR(small);
    return { config: c, model: { spec: small, file: 'small.ts', positions: new Map() }, ir, tasks: ir.tasks };
  };

  it('refuses a design over budget, naming each resource and by how much; writes nothing', () => {
    const out = path.join(tmp, 'out');
    const c = config({ outDir: out });
    c.board.resources = { ...c.board.resources, DSP: 10, URAM: 0, BRAM_18K: 2 };
    let err: unknown;
    try {
      generate(project(c), { force: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    const est = estimate(project(c).ir, project(c).tasks, c);
    const dsp = est.overflows.find((o) => o.resource === 'DSP')!;
    expect(msg).toContain(`/board/resources/DSP: the estimate needs ${dsp.used}, the budget has 10 (over by ${dsp.used - 10}`);
    expect(msg).toContain('--allow-overfit');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses before any weight generation or calibration: the fit check is the first slow-free stage after the IR', () => {
    const c = config({ outDir: path.join(tmp, 'out') });
    c.board.resources = { ...c.board.resources, DSP: 10 };
    const steps: string[] = [];
    expect(() => generate(project(c), { force: false, progress: { step: (s) => steps.push(s), done: () => undefined } })).toThrow(UserError);
    expect(steps).toEqual(['model IR', 'estimate']);
  });

  it('--allow-overfit generates anyway, with estimate.json saying fits: false', () => {
    const out = path.join(tmp, 'out');
    const c = config({ outDir: out });
    c.board.resources = { ...c.board.resources, DSP: 10 };
    generate(project(c), { force: false, allowOverfit: true });
    const json = JSON.parse(fs.readFileSync(path.join(out, ESTIMATE_FILES.json), 'utf8'));
    expect(json.fits).toBe(false);
    expect(json.overflows.map((o: { resource: string }) => o.resource)).toEqual(['DSP']);
    expect(fs.readFileSync(path.join(out, ESTIMATE_FILES.html), 'utf8')).toContain('Does NOT fit');
    expect(fs.readFileSync(path.join(out, ESTIMATE_FILES.md), 'utf8')).toContain('Does NOT fit');
  });
});

describe('the paper configuration: ViT-S PASCAL-Context on ZCU104 at 300 MHz', () => {
  const model = loadModel(path.join(ROOT, 'models/m3vit-small-pascal.ts'));
  const ir = buildIR(model.spec);
  const c = config({ parallelism: { pe: 8, simd: 16 } });
  const est = estimate(ir, ir.tasks, c);

  it('says plainly that the activation buffers alone exceed all on-chip memory (activations kept on chip)', () => {
    const onchip = estimate(ir, ir.tasks, { ...c, activations: { placement: 'onchip' } });
    // X, Y, A (H shares A): 3 x 1025 x 384 x 2 B; Qh, Kh, Vh: 3 x 1025 x 32 x 2 B (1024 rows in
    // memory, the last token's in registers); ACC (the only sum buffer: every other engine
    // output is requantized in the epilogue): 1025 x 384 x 6 B; the attention's scores S:
    // 1025 x 64 keys (KEY_TILE_TARGET, a multiple of lcm(8, 16)) x 2 B and O: 1025 x 32 x 43
    // bits (l <= 1026 x 2^16, |o| <= l x 2^15: 43 signed bits).
    const expected = 3 * 1025 * 384 * 2 + 3 * 1025 * 32 * 2 + 1025 * 384 * 6 + 1025 * 64 * 2 + (1025 * 32 * 43) / 8;
    expect(onchip.onchip.activation_bytes).toBe(expected);
    expect(onchip.onchip.budget_bytes).toBe((624 * 18 * 1024 + 96 * 288 * 1024) / 8);
    expect(onchip.onchip.activations_fit).toBe(false);
    expect(onchip.fits).toBe(false);
  });

  it('by default puts them in DDR: token tiles of 17 rows on chip, one head\'s K, V whole, its Q, S, O a query tile', () => {
    // PE 8 x SIMD 16: BLOCK_WORDS 16, so floor(1025 / 16) = 64 tiles of ceil(1025 / 64) = 17 rows;
    // X, Y, A (H shares it) and ACC hold a tile; K and V every token (1024 rows in memory,
    // the last token's in registers); Q, S and O a query tile of ceil(1025 / 3) = 342 rows
    // (the fewest equal tiles of at most 512).
    const expected = 3 * 17 * 384 * 2 + 342 * 32 * 2 + 2 * 1025 * 32 * 2 + 17 * 384 * 6 + 342 * 64 * 2 + (342 * 32 * 43) / 8;
    expect(est.onchip.activation_bytes).toBe(expected);
    expect(est.onchip.activations_fit).toBe(true);
  });

  it('puts our reordering figures beside the paper\'s', () => {
    expect(est.paper).toBeDefined();
    const figures = est.paper!.rows.map((r) => r.figure);
    expect(figures).toEqual(expect.arrayContaining(['on-chip memory, all experts on chip (naive)', 'on-chip memory, expert-major reordering']));
    expect(est.paper!.rows[0].paper).toBe('11.610 MiB');
    expect(est.paper!.rows[1].paper).toBe('4.840 MiB');
    // One ViT-S expert: 2 x 384 x 384 int16 + 768 int32 = 592,896 B; ping-pong of 2; all 16 on chip.
    expect(est.moe.total['expert-major'].onchip_weight_bytes).toBe(2 * 592896);
    expect(est.moe.total['all-on-chip'].onchip_weight_bytes).toBe(16 * 592896);
    for (const r of est.paper!.rows) figure(`paper vs ours: ${r.figure}: paper ${r.paper}; ours ${r.ours} (${r.note})`);
    figure(
      `ViT-S PASCAL (estimate): semseg ${est.latency_ms.semseg.toFixed(1)} ms, backbone ${est.per_task.semseg.backbone_ms.toFixed(1)} ms; activations ${(est.onchip.activation_bytes / 2 ** 20).toFixed(2)} MiB vs ${(est.onchip.budget_bytes / 2 ** 20).toFixed(2)} MiB on chip; ` +
        Object.entries(est.resources).map(([k, v]) => `${k} ${v.used}/${v.available}`).join(', '),
    );
  });
});
