/**
 * Each kernel family header of a generated project (src/kernels/<family>.h) alone, under a
 * small C++ testbench (test/kernels/<family>_tb.cpp) that includes only that header, fills the
 * family's inputs (on-chip buffers of kernels/buffers.h, DDR regions, the project's weight image),
 * calls the family's functions and prints their outputs. The expected words come from the
 * TypeScript operators (test/kernels/expected.ts), never from the C++; every printed word must
 * be equal, and the report names the words that differ. Inputs are seeded random values of
 * mixed magnitudes with the word's extremes. Each driver is built with g++ on the shim and,
 * where AMD's vendored C-simulation headers exist, with clang++ on them (the strict csim
 * flags; see test/kernels/harness.ts for the two warnings a single header needs off).
 *
 * Projects (PROJECTS): a (PE 4 x SIMD 4, expert-major; a dense and an MoE block, an UpHead of
 * 12 channels in maps padded to 16, a linear head) runs every family; b (PE 8 x SIMD 16: a
 * weight block is two weight-store parts, so experts take tokens and convolutions pixels in
 * pairs) the weight store, MoE and UpHead; c (token-major) the MoE layer. buffers.h has no
 * computation of its own (it is included by every driver).
 */
import * as fs from 'fs';
import * as path from 'path';
import { gateTensorName } from '../generator/ir/build';
import type { ModelSpec } from '../generator/model/spec';
import { CXX, haveCompiler, rng, tempDir, vendorInclude } from './helpers/cpp';
import { smallSpec } from './helpers/project';
import {
  attention, blockRows, conv1x1Out, conv3x3Planes, denseMlp, FILL16, layerNorm, linearEngine, moeLayer, planesToMap, randomInts, tensor, tokens, upHead,
  upsamplePlanes, type Matrix, type NormSite,
} from './kernels/expected';
import { compileAll, differences, familyProject, Input, runDriver, type Build, type FamilyProject } from './kernels/harness';

const dir = tempDir('kernel-families');
const SPEC_A: ModelSpec = smallSpec({
  tasks: [
    { name: 'seg', channels: 3, head: { kind: 'uphead', channels: 12 } },
    { name: 'cls', channels: 5, head: { kind: 'linear' } },
  ],
});
// SIMD 16 must divide the UpHead channels.
const SPEC_B: ModelSpec = smallSpec({
  tasks: [
    { name: 'seg', channels: 3, head: { kind: 'uphead', channels: 16 } },
    { name: 'cls', channels: 5, head: { kind: 'linear' } },
  ],
});

interface ProjectCase {
  name: string;
  spec: ModelSpec;
  pe: number;
  simd: number;
  scheduler: 'expert-major' | 'token-major';
  families: string[];
}
const PROJECTS: ProjectCase[] = [
  { name: 'a', spec: SPEC_A, pe: 4, simd: 4, scheduler: 'expert-major', families: ['io', 'weight_store', 'engine', 'layernorm', 'patch_embed', 'attention', 'dense_mlp', 'moe', 'uphead'] },
  // PE 8 x SIMD 16: a block is two weight-store parts, so tokens and pixels go in pairs.
  { name: 'b', spec: SPEC_B, pe: 8, simd: 16, scheduler: 'expert-major', families: ['weight_store', 'moe', 'uphead'] },
  { name: 'c', spec: SPEC_A, pe: 4, simd: 4, scheduler: 'token-major', families: ['moe'] },
];

const projects = new Map<string, FamilyProject>();
const builds: Build[] = [];
const project = (name: string): FamilyProject => {
  const p = projects.get(name);
  if (!p) throw new Error(`project ${name} was not generated`);
  return p;
};

beforeAll(async () => {
  const vendor = vendorInclude();
  if (vendor && !haveCompiler('clang++')) throw new Error(`AMD's headers are at ${vendor}, but there is no clang++ to build with them`);
  for (const c of PROJECTS) {
    const p = familyProject(dir, `fam_${c.name}`, c.spec, c.pe, c.simd, c.scheduler);
    projects.set(c.name, p);
    for (const family of c.families) {
      builds.push({ family, project: p, cxx: CXX, exe: path.join(dir, `${p.name}_${family}_shim`) });
      if (vendor) builds.push({ family, project: p, cxx: 'clang++', vendor, exe: path.join(dir, `${p.name}_${family}_vitis`) });
    }
  }
  await compileAll(builds);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs every build of the family on `input`; each must print exactly the expected words. */
function expectFamily(p: FamilyProject, family: string, input: Input, want: Map<string, ArrayLike<number>>): void {
  const mine = builds.filter((b) => b.project === p && b.family === family);
  expect(mine.length).toBeGreaterThan(0);
  for (const b of mine) {
    const build = `${b.cxx}${b.vendor ? ' (vendored headers)' : ' (shim)'}`;
    expect({ build, differences: differences(runDriver(b, input.text()), want) }).toEqual({ build, differences: [] });
  }
}

/** A word whose lanes are worked out by hand below: bytes ff ff | 01 00 | 00 80 | ff 7f | 34 12 | cd ab | 00 00 | 01 80. */
const HAND_WORD = [0xff, 0xff, 0x01, 0x00, 0x00, 0x80, 0xff, 0x7f, 0x34, 0x12, 0xcd, 0xab, 0x00, 0x00, 0x01, 0x80];
const HAND_L16 = [-1, 1, -32768, 32767, 0x1234, 0xabcd - 0x10000, 0, 0x8001 - 0x10000];
const HAND_L32 = [0x0001ffff, 0x7fff8000, 0xabcd1234 - 2 ** 32, 0x80010000 - 2 ** 32];

describe('io.h', () => {
  it('bus-word lanes, ElemReader, load_vec32/16, Writer16/32, row_words, block_rows and dump_rows: values and words moved as the layout says', () => {
    const p = project('a');
    const R = rng(808);
    const MEM = 64;
    const OUT = 80;
    const bytes = new Uint8Array(16 * MEM);
    bytes.set(HAND_WORD);
    for (let i = 16; i < bytes.length; i++) bytes[i] = R.int(0, 255);
    const view = new DataView(bytes.buffer);
    const i16 = (e: number): number => view.getInt16(2 * e, true);
    const i32 = (e: number): number => view.getInt32(4 * e, true);
    const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));
    const input = new Input().add('mem', 'image', bytes, 'lanes', 'lanes');
    const want = new Map<string, ArrayLike<number>>([
      ['lanes.l16', range(8 * MEM, i16)],
      ['lanes.l32', range(4 * MEM, i32)],
    ]);
    // A reader from element `first` of word `base` reads its first word, then one per 8 elements.
    for (const [label, base, first, n] of [['reader_aligned', 3, 0, 16], ['reader_mid_word', 5, 13, 21], ['reader_one', 60, 7, 1]] as const) {
      input.add('reader', label, base, first, n);
      want.set(`${label}.v`, range(n, (i) => i16(8 * base + first + i)));
      want.set(`${label}.reads`, [1 + Math.floor(((first % 8) + n - 1) / 8)]);
    }
    // load_vec32 from element 5 after word 7 (word 8, lane 1) reads words 8, 9 and 10 once
    // each, in order: lanes 1-3, 0-3, 0-3.
    input.add('vec32', 'vec32', 7, 5, 11);
    want.set('vec32.v', range(11, (i) => i32(4 * 7 + 5 + i)));
    want.set('vec32.reads', [3]);
    input.add('vec16', 'vec16', 9, 19);
    want.set('vec16.v', range(19, (i) => i16(8 * 9 + i)));
    want.set('vec16.reads', [3]);
    for (const [bits, base, n] of [[16, 2, 21], [32, 5, 10], [16, 0, 8]] as const) {
      // Values past the lane's range keep their low bits (ap_int<bits> of the value).
      const values = range(n, (i) => (i === 0 ? 70000 : i === 1 ? -(2 ** (bits - 1)) - 5 : R.int(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)));
      const out = new DataView(new Uint8Array(16 * OUT).fill(0xa5).buffer);
      const perWord = 128 / bits;
      const words = Math.ceil(n / perWord);
      for (let i = 0; i < words * perWord; i++) {
        const v = i < n ? values[i] : 0; // the flushed last word is zero-padded
        if (bits === 16) out.setInt16(16 * base + 2 * i, v, true);
        else out.setInt32(16 * base + 4 * i, v, true);
      }
      const label = `writer${bits}_at_${base}`;
      input.add(`writer${bits}`, label, base, n, values);
      want.set(`${label}.out`, range(8 * OUT, (e) => out.getInt16(2 * e, true)));
      want.set(`${label}.writes`, [words]);
    }
    // row_words(cols) = ceil(cols / 8); block_rows(rows, K) = rows/4 x K/4 blocks of 2 words at PE 4 x SIMD 4.
    input.add('sizes', 'sizes', 4, 16, 8, 16, 17, 4, 4, 1, 12, 8, 0, 0, 16);
    want.set('sizes.v', [2, 16, 3, 2, 1, 12, 0, 0]);
    const { N, D } = p.sched;
    const x = randomInts(R, N * D, 16);
    input.add('dump', 'dump_rows', 3, 2, 4, x);
    want.set('dump_rows.out', range(8 * OUT, (e) => (e >= 24 && e < 24 + 4 * D ? x[2 * D + e - 24] : FILL16)));
    want.set('dump_rows.writes', [(4 * D) / 8]);
    // The expected lanes are the little-endian reading of the bytes: by hand for the first word.
    expect([range(8, i16), range(4, i32)]).toEqual([HAND_L16, HAND_L32]);
    expectFamily(p, 'io', input, want);
  });
});

describe('weight_store.h', () => {
  it.each([
    ['a', 'a block is one part'],
    ['b', 'a block is two parts'],
  ])('load_parts puts every weight of an expert and a conv group where the feed reads it, and the feed walks the blocks in order across banks (%s: %s)', (name) => {
    const p = project(name);
    const { pe: PE, simd: SIMD, D } = p.sched;
    const ws = p.sched.ws!;
    const m = p.sched.moe!;
    const b = m.blocks[0];
    const e = 2;
    const expert = p.layout.blocks[b].experts + e * m.expertWords;
    const w1 = tensor(p, `backbone.blocks.${b}.mlp.experts.htoh4.weight`);
    const w2 = tensor(p, `backbone.blocks.${b}.mlp.experts.h4toh.weight`);
    const seg = p.sched.tasks[0];
    const st = seg.stages[1];
    const conv = tensor(p, `decoders.${seg.name}.conv_1.weight`);
    // [label, image word, rows, K, bank, first part, W(row, col) in checkpoint terms]
    const cases: Array<[string, number, number, number, number, number, Matrix]> = [
      ['expert2_w1', expert + p.layout.expertParts.w1, m.hidden, D, 1, 0, (r, c) => w1[(e * m.hidden + r) * D + c]],
      ['expert2_w2_after_w1', expert + p.layout.expertParts.w2, D, m.hidden, 1, (m.hidden / PE) * (D / SIMD) * ws.parts, (r, c) => w2[(e * D + r) * m.hidden + c]],
      // conv3x3 [Co][Ci][3][3] is stored [Co][tap][Ci]: column tap * Ci + ci.
      ['conv_1', p.layout.heads[0].convW[1], seg.upChannels, 9 * st.cin, 0, 5, (r, c) => conv[(r * st.cin + (c % st.cin)) * 9 + Math.floor(c / st.cin)]],
    ];
    const input = new Input();
    const want = new Map<string, ArrayLike<number>>();
    for (const [label, off, rows, K, bank, first, W] of cases) {
      const blocks = (rows / PE) * (K / SIMD);
      input.add('parts', label, off, blocks, bank, first);
      // Part k of block (tile, cb) at address first + block * parts + k: rows tile * PE + k * PART_ROWS ..
      const parts: number[] = [];
      for (let blk = 0; blk < blocks; blk++) {
        const tile = Math.floor(blk / (K / SIMD));
        const cb = blk % (K / SIMD);
        for (let k = 0; k < ws.parts; k++) {
          for (let r = 0; r < ws.partRows; r++) for (let c = 0; c < SIMD; c++) parts.push(W(tile * PE + k * ws.partRows + r, cb * SIMD + c));
        }
      }
      want.set(`${label}.ws`, parts);
      want.set(`${label}.reads`, [blocks * p.sched.blockWords]);
    }
    // The feed primed on bank 1 holds W1's block 0 (rows 0 .. PE - 1, columns 0 .. SIMD - 1); on
    // bank 0, whose first parts nothing wrote (conv_1 went from part 5), the zeros of a static.
    const feeds: Array<[string, number, number, number]> = [
      ['feed_expert', 1, (m.hidden / PE) * (D / SIMD) * 2, 5],
      ['feed_across_banks', 0, ws.depth / ws.parts + 3, ws.depth / ws.parts + 5],
      ['feed_one_block', 1, 1, 3],
    ];
    for (const [label, bank0, nblk, steps] of feeds) {
      input.add('feed', label, bank0, nblk, steps);
      want.set(`${label}.nxt`, Array.from({ length: PE * SIMD }, (_, i) => (bank0 === 1 ? w1[(e * m.hidden + Math.floor(i / SIMD)) * D + (i % SIMD)] : 0)));
      // After priming the feed names block 1, after each step the next one, back to 0 after the last.
      want.set(`${label}.seq`, Array.from({ length: steps + 1 }, (_, i) => {
        const j = (i + 1) % nblk;
        return [j, bank0 + Math.floor((j * ws.parts) / ws.depth), (j * ws.parts) % ws.depth];
      }).flat());
    }
    expectFamily(p, 'weight_store', input, want);
  });
});

describe('engine.h', () => {
  it('linear_engine: every ACC word is its old value or the exact sum over the blocked matrix of the image', () => {
    const p = project('a');
    const { N, D, hd, accCols } = p.sched;
    const R = rng(101);
    const dense = p.sched.dense!;
    const moe = p.sched.moe!;
    const lin = p.sched.tasks[1];
    const b0 = p.layout.blocks[0];
    const qkv = tensor(p, 'backbone.blocks.0.attn.qkv.weight');
    const proj = tensor(p, 'backbone.blocks.0.attn.proj.weight');
    const fc1 = tensor(p, 'backbone.blocks.0.mlp.fc1.weight');
    const fc2 = tensor(p, 'backbone.blocks.0.mlp.fc2.weight');
    const gate = tensor(p, gateTensorName(p.ir.dims, moe.blocks[0], lin.modelIndex));
    const head = tensor(p, 'decoders.cls.linear.weight');
    const h = 1;
    const g = 2; // the v rows of head 1: rows (h * 3 + g) * hd .. in the image's head-major order
    // [name, word offset, rows, K, src (Y/A/H), tokens (N, or N - 1 = N_PATCH: the testbench's
    // tail), dst (0: ACC), accumulate, W(row, col) in checkpoint terms]
    const cases: Array<[string, number, number, number, number, number, number, boolean, Matrix]> = [
      ['proj', b0.projW, D, D, 1, N, 0, false, (o, i) => proj[o * D + i]],
      ['proj_accumulating', b0.projW, D, D, 1, N, 0, true, (o, i) => proj[o * D + i]],
      ['qkv_v_rows_of_head_1_tail', b0.qkvW + blockRows(p, (h * 3 + g) * hd, D), hd, D, 0, N - 1, 0, false, (o, i) => qkv[(g * D + h * hd + o) * D + i]],
      ['fc1_tile_1', b0.fc1W + blockRows(p, dense.tile, D), dense.tile, D, 0, N, 0, false, (o, i) => fc1[(dense.tile + o) * D + i]],
      ['fc2_tile_1_accumulating', b0.fc2W + blockRows(p, D, dense.tile), D, dense.tile, 2, N, 0, true, (o, c) => fc2[o * dense.hidden + dense.tile + c]],
      ['gate_of_task_1', p.layout.gates[0][lin.id], moe.gateRows, D, 0, N, 0, false, (e, i) => (e < moe.experts ? gate[i * moe.experts + e] : 0)],
      ['linear_head_padded_rows', p.layout.heads[1].outW, lin.channelsPadded, D, 0, p.sched.NP, 0, true, (c, i) => (c < lin.channels ? head[c * D + i] : 0)],
    ];
    const input = new Input();
    const want = new Map<string, ArrayLike<number>>();
    expect(p.sched.NP).toBe(N - 1);
    for (const [label, off, rows, K, src, tokens, dst, accumulate, W] of cases) {
      const x = randomInts(R, N * D, 16);
      const before = randomInts(R, N * accCols, 40);
      input.add('linear', label, off, rows, K, src, tokens === N ? 0 : 1, dst, accumulate ? 1 : 0, x, before);
      want.set(`${label}.dst`, linearEngine(x, D, 0, tokens, W, rows, K, before, accCols, accumulate));
    }
    expectFamily(p, 'engine', input, want);
  });
});

/** x (N x D) with some rows replaced by LayerNorm's edge cases: a constant row (zero variance),
 * rows at the word's extremes, and an alternating row of both extremes. */
function withEdgeRows(x: Float64Array, D: number): Float64Array {
  const rows = [(): number => 1234, (): number => 32767, (): number => -32768, (i: number): number => (i % 2 ? 32767 : -32768)];
  rows.forEach((f, r) => {
    for (let i = 0; i < D; i++) x[(2 * r + 1) * D + i] = f(i);
  });
  return x;
}

describe('layernorm.h', () => {
  it('layer_norm: every output equals layerNormRow with the plan\'s constants (norm1, norm2, the head norm from row 1)', () => {
    const p = project('a');
    const { N, NP, D } = p.sched;
    const R = rng(202);
    // [label, site 0/1/2 (norm1 / norm2 / head), block or task index, first row, rows, the TS site]
    const cases: Array<[string, number, number, number, number, NormSite]> = [
      ['block0_norm1', 0, 0, 0, N, { block: 0, norm: 1 }],
      ['block1_norm1', 0, 1, 0, N, { block: 1, norm: 1 }],
      ['block1_norm2', 1, 1, 0, N, { block: 1, norm: 2 }],
      ['head_of_seg', 2, 0, 1, NP, { task: 'seg' }],
      ['head_of_cls', 2, 1, 1, NP, { task: 'cls' }],
    ];
    const input = new Input();
    const want = new Map<string, ArrayLike<number>>();
    for (const [label, site, index, first, rows, ts] of cases) {
      const x = withEdgeRows(randomInts(R, N * D, 16), D);
      input.add('ln', label, site, index, first, rows, x);
      want.set(`${label}.y`, layerNorm(p, ts, x, first, rows));
    }
    expectFamily(p, 'layernorm', input, want);
  });
});

describe('patch_embed.h', () => {
  it('patch_embed: the tokens X equal the int reference\'s tokens checkpoint for the same image', () => {
    const p = project('a');
    const { c, h, w } = p.sched.image;
    const R = rng(303);
    const input = new Input();
    const want = new Map<string, ArrayLike<number>>();
    for (const label of ['image0', 'image1']) {
      const image = randomInts(R, c * h * w, 16);
      const padded = new Float64Array(Math.ceil(image.length / 8) * 8);
      padded.set(image);
      input.add('image', label, padded);
      want.set(`${label}.x`, tokens(p, image));
    }
    expectFamily(p, 'patch_embed', input, want);
  });
});

describe('attention.h', () => {
  it('attention: q, k, v of the last head and every output word equal the int reference\'s qkv layer and attention core', () => {
    const p = project('a');
    const { N, D, heads, hd } = p.sched;
    const R = rng(404);
    const input = new Input();
    const want = new Map<string, ArrayLike<number>>();
    for (const [label, b, bits] of [['block0', 0, 16], ['block1', 1, 16], ['block0_small', 0, 9]] as const) {
      const y = randomInts(R, N * D, bits);
      input.add('attention', label, b, y);
      const { qkv, a } = attention(p, b, y);
      want.set(`${label}.a`, a);
      // The last head's rows: q, k, v of head h are columns g * D + h * hd .. of qkv.
      ['q', 'k', 'v'].forEach((name, g) => {
        const cols = new Float64Array(N * hd);
        for (let n = 0; n < N; n++) for (let i = 0; i < hd; i++) cols[n * hd + i] = qkv[n * 3 * D + g * D + (heads - 1) * hd + i];
        want.set(`${label}.${name}`, cols);
      });
    }
    expectFamily(p, 'attention', input, want);
  });
});

describe('dense_mlp.h', () => {
  it('dense_mlp: the block output X equals fc1, geluInt, fc2 and the residual of the TS operators', () => {
    const p = project('a');
    const { N, D } = p.sched;
    const R = rng(505);
    const input = new Input();
    const want = new Map<string, ArrayLike<number>>();
    for (const [label, bits] of [['full_range', 16], ['small', 10]] as const) {
      const y = randomInts(R, N * D, bits);
      const x = randomInts(R, N * D, 16);
      input.add('dense', label, 0, y, x);
      want.set(`${label}.x`, denseMlp(p, 0, y, x));
    }
    expectFamily(p, 'dense_mlp', input, want);
  });
});

describe('moe.h', () => {
  it.each([
    ['a', 'expert-major, PE 4 x SIMD 4'],
    ['b', 'expert-major, blocks of two weight-store parts (token pairs)'],
    ['c', 'token-major, two cache slots'],
  ])('moe_layer (%s: %s): logits, top-k, queues, MoE output, block output and expert loads equal the TS operators', (name) => {
    const p = project(name);
    const { N, D } = p.sched;
    const b = p.sched.moe!.blocks[0];
    const R = rng(606);
    const input = new Input();
    const want = new Map<string, ArrayLike<number>>();
    for (const [label, task, bits] of [['task0', 0, 16], ['task1', 1, 16], ['task1_small', 1, 11]] as const) {
      const y = randomInts(R, N * D, bits);
      const x = randomInts(R, N * D, 16);
      input.add('moe', label, b, task, y, x);
      for (const [key, v] of Object.entries(moeLayer(p, b, task, y, x))) want.set(`${label}.${key}`, v);
    }
    expectFamily(p, 'moe', input, want);
  });
});

/** A task output as the result region holds it: its elements, then the fill of every lane past them. */
function resultWords(p: FamilyProject, out: Float64Array): Float64Array {
  const words = Math.max(...p.sched.tasks.map((t) => Math.ceil(t.outputCount / 8)));
  const r = new Float64Array(8 * words).fill(FILL16);
  r.set(out);
  return r;
}

describe('uphead.h', () => {
  it.each([
    ['a', 'PE 4 x SIMD 4, 12 channels in maps of stride 16'],
    ['b', 'PE 8 x SIMD 16, pixels in pairs'],
  ])('conv3x3, upsample2x, conv1x1_out and the whole uphead (%s: %s): every map and result word equals the reference kernels\' and the fill where nothing is written', (name) => {
    const p = project(name);
    const t = p.sched.tasks[0];
    const Ch = t.upChannels;
    const R = rng(707);
    const input = new Input();
    const want = new Map<string, ArrayLike<number>>();
    t.stages.forEach((st, s) => {
      const x = randomInts(R, st.cin * st.h * st.w, 16);
      input.add('conv3x3', `conv3x3_stage${s}`, t.id, s, planesToMap(x, st.cin, st.h, st.w, st.cinStride, 0));
      // One channel group writes whole pixels (its padding channels zero); several write only their channels.
      want.set(`conv3x3_stage${s}.map`, planesToMap(conv3x3Planes(p, t.name, s, x), Ch, st.h, st.w, t.upStride, st.group === Ch ? 0 : FILL16));
      if (!st.upsample) return;
      const u = randomInts(R, Ch * st.h * st.w, 16);
      input.add('upsample', `upsample_stage${s}`, t.id, s, planesToMap(u, Ch, st.h, st.w, t.upStride, 0));
      want.set(`upsample_stage${s}.map`, planesToMap(upsamplePlanes(u, Ch, st.h, st.w), Ch, 2 * st.h, 2 * st.w, t.upStride, 0));
    });
    const last = randomInts(R, Ch * t.lastH * t.lastW, 16);
    input.add('conv1x1', 'conv1x1', t.id, planesToMap(last, Ch, t.lastH, t.lastW, t.upStride, 0));
    want.set('conv1x1.result', resultWords(p, conv1x1Out(p, t.name, last)));
    const y = randomInts(R, p.sched.N * p.sched.D, 14);
    input.add('uphead', 'uphead', t.id, y);
    want.set('uphead.result', resultWords(p, upHead(p, t.name, y.subarray(0, p.sched.NP * p.sched.D))));
    expectFamily(p, 'uphead', input, want);
  });
});
