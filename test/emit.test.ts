/**
 * The kernels stage without running C++: parallelism errors, determinism, the refusal to
 * replace a foreign folder, the packed weight image against hand-derived addresses, and
 * the on-chip weight memory of the expert-major schedule against the number of experts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { generate } from '../generator/generate';
import { loadProject } from '../generator/project';
import { prepareModel } from '../generator/reference/prepare';
import { buildSchedule, convGroup, type BufferSpec } from '../generator/schedule/schedule';
import { bindStorage } from '../generator/schedule/storage';
import { UserError } from '../generator/util/errors';
import { tempDir } from './helpers/cpp';
import { smallSpec, writeProject } from './helpers/project';
import { KERNEL_HEADERS } from '../generator/emit/layout';
import { attentionKeyTile, KEY_TILE_TARGET, MIN_KEY_TILE } from '../generator/numerics/plan';

let dir: string;
beforeAll(() => {
  dir = tempDir('emit');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out;
}

describe('parallelism that does not divide the dimensions', () => {
  it('names /parallelism/pe and lists the legal values, writing nothing', () => {
    const cfg = writeProject(dir, smallSpec(), { name: 'badpe', pe: 3, simd: 4 });
    const project = loadProject(cfg);
    let err: unknown;
    try {
      generate(project, { force: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    // D 16, head dim 8, dense hidden 32, expert hidden 16, UpHead channels 8: divisors 1, 2, 4, 8.
    expect(msg).toContain(cfg);
    expect(msg).toContain('/parallelism/pe: 3 does not divide');
    expect(msg).toContain('the head dim');
    expect(msg).toMatch(/allowed: 1, 2, 4, 8$/m);
    expect(fs.existsSync(project.config.outDir)).toBe(false);
  });

  it('names /parallelism/simd when SIMD does not divide an input width', () => {
    const cfg = writeProject(dir, smallSpec(), { name: 'badsimd', pe: 2, simd: 32 });
    expect(() => buildSchedule(loadProject(cfg).ir, loadProject(cfg).tasks, loadProject(cfg).config)).toThrow(
      /\/parallelism\/simd: 32 does not divide the embedding width D \(16\).*allowed: 1, 2, 4, 8$/s,
    );
  });

  it('pads what is cheap to pad: 3 experts, 5 and 3 task channels with PE 4', () => {
    const cfg = writeProject(dir, smallSpec({ experts: 3, topK: 2 }), { name: 'pads', pe: 4, simd: 4 });
    const p = loadProject(cfg);
    const s = buildSchedule(p.ir, p.tasks, p.config);
    expect(s.moe!.gateRows).toBe(4);
    expect(s.tasks.map((t) => t.channelsPadded)).toEqual([4, 8]);
  });
});

describe('conv3x3 channel groups (weights of a group on chip for every row)', () => {
  it('takes the largest group of whole PE tiles and whole bus words that fits the store', () => {
    // m3vit-tiny, PE 8 x SIMD 16: a tile of 8 channels is 9 x 256 / 16 = 144 blocks; 1024
    // blocks hold 7 tiles; groups dividing 256 in multiples of 8: 32 (576 blocks) fits, 64 (1152) not.
    expect(convGroup(256, 256, 8, 16, 1024)).toBe(32);
    // Stage 0 (cin = 192): a tile is 108 blocks; 64 channels = 864 blocks fit, 128 do not.
    expect(convGroup(256, 192, 8, 16, 1024)).toBe(64);
    // Everything fits: one group.
    expect(convGroup(8, 16, 4, 4, 1000)).toBe(8);
    // 12 channels, PE 4: 4 is not a whole word, so the only legal group is all 12, even over capacity.
    expect(convGroup(12, 4, 4, 4, 1)).toBe(12);
  });
});

describe('attention: keys per tile', () => {
  it('is the largest multiple of lcm(PE, SIMD) up to KEY_TILE_TARGET and a third of the keys, but at least MIN_KEY_TILE keys (by hand)', () => {
    expect(MIN_KEY_TILE).toBe(8);
    expect(KEY_TILE_TARGET).toBe(64);
    // Short sequences (17 keys: a third is 5): lcm 32 -> 32; lcm 4 -> 8; lcm 16 -> 16;
    // lcm(2, 4) = 4 -> 8; 1 -> 8; lcm(48, 32) = 96; lcm(3, 2) = 6 -> 12.
    const short = [[32, 32], [4, 4], [8, 16], [2, 4], [1, 1], [48, 32], [3, 2]].map(([p, s]) => attentionKeyTile(p, s, 17));
    expect(short).toEqual([32, 8, 16, 8, 8, 96, 12]);
    // ViT-S at 512 x 512 (1025 keys): 64 for lcm 32, 16 or 4; lcm 96 stays 96; lcm 6 -> 60.
    const vitS = [[32, 32], [8, 16], [4, 4], [48, 32], [3, 2]].map(([p, s]) => attentionKeyTile(p, s, 1025));
    expect(vitS).toEqual([64, 64, 64, 96, 60]);
    // 145 keys (a third: 48): lcm 32 -> 32, lcm 16 -> 48, lcm 4 -> 48.
    expect([[32, 32], [8, 16], [4, 4]].map(([p, s]) => attentionKeyTile(p, s, 145))).toEqual([32, 48, 48]);
  });
});

describe('URAM or BRAM for the large arrays (bindStorage)', () => {
  const buf = (name: string, dims: number[], elemBits: number, over: Partial<BufferSpec> = {}): BufferSpec => ({
    name, purpose: '', group: 'activations', dims, elemBits, cType: 'act_t', partition: [], reshape: [], storage: 'auto', copies: 1, weights: false, ...over,
  });
  it('puts each, largest first, where the larger of the two utilizations stays lower', () => {
    // Budget URAM 10, BRAM_18K 100. Fixed: 10 memories of 16 x 1024 that HLS puts in BRAM
    // (one 18x1K block each): 10 BRAM. A: 72 x 4096 = 1 URAM or 16 BRAM (36x512: 2 x 8);
    // B: 144 x 4096 = 2 URAM or 32 BRAM. B first (its larger share, 32%, beats A's 16%):
    // URAM -> max(2/10, 10/100) = 20% against BRAM -> 42%: URAM. Then A: URAM -> max(3/10,
    // 10%) = 30% against BRAM -> max(2/10, 26/100) = 26%: BRAM.
    const fixed = buf('F', [10, 1024], 16, { partition: [{ dim: 1, type: 'complete' }] });
    const a = buf('A', [4096], 72, { flexible: true, storage: 'uram' });
    const b = buf('B', [4096], 144, { flexible: true, storage: 'uram' });
    bindStorage([fixed, a, b], { URAM: 10, BRAM_18K: 100 });
    expect([a.storage, b.storage, fixed.storage]).toEqual(['bram', 'uram', 'auto']);
    // A board without URAM: everything flexible goes to BRAM.
    bindStorage([fixed, a, b], { URAM: 0, BRAM_18K: 100 });
    expect([a.storage, b.storage]).toEqual(['bram', 'bram']);
  });
});

describe('generation', () => {
  it('is deterministic: the same inputs give byte-identical files', () => {
    const cfg = writeProject(dir, smallSpec(), { name: 'det', pe: 4, simd: 4 });
    const a = path.join(dir, 'det-a');
    const b = path.join(dir, 'det-b');
    generate(loadProject(cfg, { outDir: a }), { force: false });
    generate(loadProject(cfg, { outDir: b }), { force: false });
    const files = listFiles(a);
    expect(files).toEqual(listFiles(b));
    for (const f of ['Makefile', 'src/m3vit_top.cpp', 'src/model_config.h', 'src/numerics.h', 'tb/testbench.cpp', 'data/weights.bin', 'data/weights.json']) {
      expect(files).toContain(f);
    }
    for (const f of files) expect([f, fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f)))]).toEqual([f, true]);
    // No absolute paths leak into generated text.
    for (const f of files.filter((x) => /\.(cpp|h|json|mk|tcl|py)$|Makefile$/.test(x))) {
      expect([f, fs.readFileSync(path.join(a, f), 'utf8').includes(dir)]).toEqual([f, false]);
    }
  });

  it('refuses to replace a folder it did not write, unless forced', () => {
    const cfg = writeProject(dir, smallSpec(), { name: 'foreign', pe: 4, simd: 4 });
    const out = path.join(dir, 'foreign-out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    expect(() => generate(loadProject(cfg, { outDir: out }), { force: false })).toThrow(/was not written by m3vit-gen.*--force/);
    expect(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine');
    generate(loadProject(cfg, { outDir: out }), { force: true });
    expect(fs.existsSync(path.join(out, 'notes.txt'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'src/m3vit_top.cpp'))).toBe(true);
  });
});

describe('kernel sources', () => {
  it('have no dynamic memory, STL or recursion-prone constructs in the synthesised code', () => {
    const cfg = writeProject(dir, smallSpec(), { name: 'lint', pe: 4, simd: 4 });
    const out = path.join(dir, 'lint-out');
    generate(loadProject(cfg, { outDir: out }), { force: false });
    for (const f of ['src/m3vit_top.cpp', 'src/m3vit_top.h', 'src/model_config.h', 'src/numerics.h', ...KERNEL_HEADERS]) {
      // Host-only helpers (#ifndef __SYNTHESIS__) may use <cmath>; kernels may not allocate.
      const text = fs.readFileSync(path.join(out, f), 'utf8');
      expect([f, /\bnew\s+\w|\bmalloc\s*\(|\bfree\s*\(|std::vector|std::map|#include <(vector|map|string|iostream)>/.test(text)]).toEqual([f, false]);
    }
    const top = fs.readFileSync(path.join(out, 'src/m3vit_top.cpp'), 'utf8');
    const moe = fs.readFileSync(path.join(out, 'src/kernels/moe.h'), 'utf8');
    expect(top).toContain('#pragma HLS interface mode=m_axi port=weights bundle=gmem_w');
    expect(top).toContain('#pragma HLS allocation function instances=mac_engine limit=1');
    expect(moe).toMatch(/EXPERT_PINGPONG:/);
    expect(moe).not.toMatch(/token_major/);
  });
});

/** Little-endian lanes of the image. */
function lane16(img: Buffer, word: number, lane: number): number {
  return img.readInt16LE(word * 16 + 2 * lane);
}
/** Element (r, c) of a matrix with `cols` columns stored as PE x SIMD blocks from word `off`
 * (PE = SIMD = 4 here: a block is 16 lanes = 2 words, blocks row-tile-major, row-major inside). */
const PE = 4, SIMD = 4, BW = 2;
function blocked(img: Buffer, off: number, cols: number, r: number, c: number): number {
  const block = Math.floor(r / PE) * (cols / SIMD) + Math.floor(c / SIMD);
  const lane = (r % PE) * SIMD + (c % SIMD);
  return lane16(img, off + block * BW + (lane >> 3), lane & 7);
}
function lane32(img: Buffer, word: number, lane: number): number {
  return img.readInt32LE(word * 16 + 4 * lane);
}

describe('packed weight image', () => {
  const spec = smallSpec({ experts: 4, topK: 2 });
  let out: string;
  let img: Buffer;
  let manifest: { totalWords: number; segments: Array<{ tensor: string; expert?: number; offsetWords: number; words: number; rows: number; cols: number }> };
  let quant: ReturnType<typeof prepareModel>['quant'];
  beforeAll(() => {
    const cfg = writeProject(dir, spec, { name: 'image', pe: 4, simd: 4 });
    out = path.join(dir, 'image-out');
    const project = loadProject(cfg, { outDir: out });
    generate(project, { force: false });
    quant = prepareModel(project).quant;
    img = fs.readFileSync(path.join(out, 'data/weights.bin'));
    manifest = JSON.parse(fs.readFileSync(path.join(out, 'data/weights.json'), 'utf8'));
  });
  const seg = (tensor: string, expert?: number) => {
    const s = manifest.segments.find((x) => x.tensor === tensor && x.expert === expert);
    if (!s) throw new Error(`no segment ${tensor}`);
    return s;
  };
  const q = (name: string): Int32Array => quant.get(name)!.data;

  it('has the size of its manifest and non-overlapping, word-aligned segments', () => {
    expect(img.length).toBe(manifest.totalWords * 16);
    const sorted = [...manifest.segments].sort((a, b) => a.offsetWords - b.offsetWords);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].offsetWords).toBe(sorted[i - 1].offsetWords + sorted[i - 1].words);
  });

  it('stores qkv rows head-major (q, k, v of head 0, then head 1), in PE x SIMD blocks', () => {
    const D = 16, hd = 8;
    const s = seg('backbone.blocks.0.attn.qkv.weight');
    expect(s.words).toBe((48 / PE) * (16 / SIMD) * BW);
    const w = q('backbone.blocks.0.attn.qkv.weight');
    for (let h = 0; h < 2; h++) for (let g = 0; g < 3; g++) for (let i = 0; i < hd; i++) for (let c = 0; c < D; c++) {
      const row = (h * 3 + g) * hd + i;
      expect(blocked(img, s.offsetWords, D, row, c)).toBe(w[(g * D + h * hd + i) * D + c]);
    }
    const b = seg('backbone.blocks.0.attn.qkv.bias');
    const bias = q('backbone.blocks.0.attn.qkv.bias');
    expect(lane32(img, b.offsetWords + ((1 * 3 + 2) * hd + 5) / 4 | 0, ((1 * 3 + 2) * hd + 5) % 4)).toBe(bias[2 * D + 1 * hd + 5]);
  });

  it('keeps each expert contiguous (W1, W2, b1, b2) at a constant stride', () => {
    const D = 16, He = 16;
    const w1 = q('backbone.blocks.1.mlp.experts.htoh4.weight');
    const w2 = q('backbone.blocks.1.mlp.experts.h4toh.weight');
    const b2 = q('backbone.blocks.1.mlp.experts.h4toh.bias');
    const base = seg('backbone.blocks.1.mlp.experts.htoh4.weight', 0).offsetWords;
    // W1 [16][16]: 16 blocks of 2 words, W2 [16][16]: 32 words right after, b1: 4 words, b2: 4 words.
    const stride = 32 + 32 + 4 + 4;
    for (let e = 0; e < 4; e++) {
      const at = base + e * stride;
      expect(seg('backbone.blocks.1.mlp.experts.htoh4.weight', e).offsetWords).toBe(at);
      for (const [r, c] of [[3, 10], [0, 0], [15, 15], [6, 1]]) {
        expect(blocked(img, at, He, r, c)).toBe(w1[(e * He + r) * D + c]);
        expect(blocked(img, at + 32, He, r, c)).toBe(w2[(e * D + r) * He + c]);
      }
      expect(lane32(img, at + 68 + 3, 1)).toBe(b2[e * D + 13]);
    }
  });

  it('transposes each task gate [D][E] to rows per expert', () => {
    const E = 4, D = 16;
    for (const t of [0, 1]) {
      const name = `backbone.blocks.1.mlp.gate.${t}.w_gate`;
      const s = seg(name);
      const g = q(name);
      for (let e = 0; e < E; e++) for (let i = 0; i < D; i++) expect(blocked(img, s.offsetWords, D, e, i)).toBe(g[i * E + e]);
    }
  });

  it('stores conv3x3 rows tap-major, input channels inner; pads the conv1x1 rows to PE', () => {
    const s = seg('decoders.seg.conv_1.weight');
    const w = q('decoders.seg.conv_1.weight');
    const Ci = 8;
    for (const [o, ci, ky, kx] of [[0, 0, 0, 0], [7, 3, 2, 1], [5, 7, 1, 2]]) {
      const col = (ky * 3 + kx) * Ci + ci;
      expect(blocked(img, s.offsetWords, 9 * Ci, o, col)).toBe(w[((o * Ci + ci) * 3 + ky) * 3 + kx]);
    }
    const c1 = seg('decoders.seg.conv_2.weight');
    expect(c1.rows).toBe(4); // 3 channels padded to PE 4
    for (let c = 0; c < 8; c++) expect(blocked(img, c1.offsetWords, 8, 3, c)).toBe(0);
    expect(blocked(img, c1.offsetWords, 8, 2, 5)).toBe(q('decoders.seg.conv_2.weight')[2 * 8 + 5]);
  });

  it('stores fc2 of a dense block as hidden tiles [tile][D][TH]', () => {
    // Dense hidden 32, D 16, PE 4, SIMD 4: TH = 16 (the largest multiple of 4 dividing 32, at most D).
    const s = seg('backbone.blocks.0.mlp.fc2.weight');
    const w = q('backbone.blocks.0.mlp.fc2.weight');
    for (const [o, k] of [[0, 0], [3, 17], [15, 31], [9, 15]]) {
      const tile = k >> 4;
      expect(blocked(img, s.offsetWords, 16, tile * 16 + o, k & 15)).toBe(w[o * 32 + k]);
    }
  });
});

describe('on-chip weight memory', () => {
  const bits = (experts: number, scheduler: 'expert-major' | 'token-major', slots = 2): number => {
    const cfg = writeProject(dir, smallSpec({ experts, topK: 2 }), { name: `mem${experts}${scheduler[0]}${slots}`, pe: 4, simd: 4, scheduler, cacheSlots: slots });
    const p = loadProject(cfg);
    return buildSchedule(p.ir, p.tasks, p.config).buffers.filter((b) => b.weights).reduce((s, b) => s + b.dims.reduce((x, y) => x * y, 1) * b.elemBits, 0);
  };
  it('does not grow with the number of experts (expert-major)', () => {
    expect(bits(16, 'expert-major')).toBe(bits(4, 'expert-major'));
    expect(bits(64, 'expert-major')).toBe(bits(4, 'expert-major'));
  });
  it('grows with the cache slots (token-major)', () => {
    expect(bits(16, 'token-major', 4)).toBeGreaterThan(bits(16, 'token-major', 2));
  });
});
