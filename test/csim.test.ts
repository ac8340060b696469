/**
 * Generated projects under C simulation, bit-exact against the golden vectors of the
 * TypeScript int reference: a covering set of small configurations (experts 1, 4,
 * 16, 64; top-k 1, 2, 4; 1, 2 and 5 tasks; both heads; both MoE schedulers; several
 * PE x SIMD, including blocks split into two weight-store parts and a conv3x3 in channel
 * groups spanning both banks), each built with the shim (g++) and, where AMD's vendored
 * C-simulation headers are found, again with the real headers (clang++; one also with g++),
 * one configuration under AddressSanitizer + UBSan with each. From csim_result.json: every
 * expert the reference routed tokens to is loaded exactly once per MoE layer and run
 * (expert-major), the on-chip weight memory does not depend on the number of experts, and
 * the token-major baseline's expert traffic is reported next to the expert-major one on
 * the same input. Then the testbench must fail on a corrupted golden word, a truncated
 * file and a missing file.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { generate } from '../generator/generate';
import type { GoldenManifest } from '../generator/golden/vectors';
import type { ModelSpec } from '../generator/model/spec';
import { loadProject } from '../generator/project';
import { tempDir, vendorInclude } from './helpers/cpp';
import { ensureBuilt, runCli } from './helpers/cli';
import { counterDiffs, csimCounters, modelCounters, routedEstimate } from './helpers/counters';
import { opCycles } from '../generator/estimate/cycles';
import { hardwarePlan } from '../generator/estimate/hardware';
import { cycleContext } from '../generator/estimate/layers';
import { smallSpec, writeProject } from './helpers/project';
import { figure } from './helpers/figures';

interface Case {
  name: string;
  spec: ModelSpec;
  pe: number;
  simd: number;
  scheduler?: 'expert-major' | 'token-major';
  slots?: number;
  asan?: boolean;
  /** Also build this one with g++ against the real headers (the matrix uses clang++ there). */
  gccVitis?: boolean;
  /** Activations in DDR scratch, token tiles of this many rows (config activations). */
  tokenTile?: number;
  /** With tokenTile: query rows per attention tile. */
  queryTile?: number;
  /** Token-tiled expert-major: which expert feeds beside the engine's jobs the kernels run
   * (the row reader's ROW_READ, the scratch writer's SCRATCH_WRITE), asserted on csim's counters. */
  feeds?: 'rows and terms' | 'rows' | 'none';
  /** Token-tiled: whether the q, k and v jobs store their outputs through the scratch writer
   * (the q/k/v feed: SCRATCH_WRITE in attn.qkv, no TILE_STORE), asserted on csim's counters. */
  qkvFeed?: boolean;
}

const twoTasks = smallSpec().tasks;
const CASES: Case[] = [
  {
    name: 'e1k1',
    spec: smallSpec({ experts: 1, topK: 1, tasks: [{ name: 'depth', channels: 2, head: { kind: 'uphead', channels: 8 } }] }),
    pe: 2,
    simd: 4,
  },
  { name: 'e4k2', spec: smallSpec({ experts: 4, topK: 2 }), pe: 4, simd: 4, gccVitis: true },
  { name: 'e16k2', spec: smallSpec({ experts: 16, topK: 2 }), pe: 4, simd: 4 },
  { name: 'e16k2tm', spec: smallSpec({ experts: 16, topK: 2 }), pe: 4, simd: 4, scheduler: 'token-major', slots: 2 },
  { name: 'e64k2', spec: smallSpec({ experts: 64, topK: 2 }), pe: 4, simd: 4 },
  {
    // 32x32 image, patch 8: the 192-long patch vector streams through the engine in chunks of D = 32.
    name: 'e64k4tm',
    spec: {
      ...smallSpec({ experts: 64, topK: 4, tasks: [{ name: 'cls', channels: 10, head: { kind: 'linear' } }] }),
      image: { height: 32, width: 32 },
      patch: 8,
      embedDim: 32,
      heads: 4,
      moe: { experts: 64, topK: 4, hidden: 32 },
    },
    pe: 8,
    simd: 8,
    scheduler: 'token-major',
    slots: 4,
  },
  {
    // Five tasks, both heads, every block an MoE block.
    name: 't5',
    spec: {
      ...smallSpec({ experts: 16, topK: 4 }),
      depth: 2,
      moe: { experts: 16, topK: 4, hidden: 16, blocks: 'all' },
      tasks: [
        { name: 'semseg', channels: 5, head: { kind: 'uphead', channels: 8 } },
        { name: 'parts', channels: 3, head: { kind: 'linear' } },
        { name: 'sal', channels: 1, head: { kind: 'uphead', channels: 16 } },
        { name: 'normals', channels: 3, head: { kind: 'uphead', channels: 8 } },
        { name: 'edge', channels: 1, head: { kind: 'linear' } },
      ],
    },
    pe: 8,
    simd: 8,
  },
  {
    // PE 8 x SIMD 16: a block is 2 parts of the weight store (tokens and pixels in pairs);
    // 256 UpHead channels: stage 1's weights (256 x 9 x 256) exceed the store, so the conv
    // runs in 2 channel groups, each spanning both banks.
    name: 'wide',
    spec: { ...smallSpec({ experts: 8, topK: 2, tasks: [{ name: 'seg', channels: 3, head: { kind: 'uphead', channels: 256 } }, { name: 'cls', channels: 5, head: { kind: 'linear' } }] }) },
    pe: 8,
    simd: 16,
  },
  {
    name: 'widetm',
    spec: { ...smallSpec({ experts: 8, topK: 2, tasks: [{ name: 'seg', channels: 3, head: { kind: 'uphead', channels: 256 } }, { name: 'cls', channels: 5, head: { kind: 'linear' } }] }) },
    pe: 8,
    simd: 16,
    scheduler: 'token-major',
    slots: 2,
  },
  {
    // 8 x 12 image: output rows of 12 int16 start mid-word (the final upsample's lane-wise
    // path), conv1x1 rows of 6 pixels; padded map strides (D 16 -> 16, 8 channels -> 8).
    name: 'odd',
    spec: { ...smallSpec({ experts: 4, topK: 1, tasks: [{ name: 'seg', channels: 3, head: { kind: 'uphead', channels: 8 } }] }), image: { height: 8, width: 12 } },
    pe: 2,
    simd: 4,
  },
  { name: 'dense', spec: { ...smallSpec(), moe: undefined, tasks: twoTasks }, pe: 2, simd: 2, asan: true },
  // Token-tiled activations (DDR-resident X, q/k/v, attention output): several token tiles and
  // a short last one, a patch tile that splits a patch row (two tiles load its band); query
  // tiles of 6 rows (17 queries: 6, 6, 5).
  { name: 'tiled', spec: { ...smallSpec(), moe: undefined, tasks: twoTasks }, pe: 2, simd: 2, tokenTile: 5, queryTile: 6, asan: true },
  // Rows that are not whole bus words (D 12, head dim 6) and one element per cycle (IO_LANES 1).
  { name: 'tiledodd', spec: { ...smallSpec(), embedDim: 12, moe: undefined, image: { height: 8, width: 12 }, tasks: [{ name: 'seg', channels: 3, head: { kind: 'uphead', channels: 12 } }, { name: 'cls', channels: 5, head: { kind: 'linear' } }] }, pe: 2, simd: 3, tokenTile: 4 },
  // Token-tiled MoE: gate and top-k per tile, experts over every token (rows gathered from
  // DDR, terms stored per queue slot), the residual per tile; both schedulers, and expert
  // groups of two tokens (blocks of two weight-store parts).
  // tiledmoe: query tiles of 3 rows, fewer than the 5 staging rows Qh keeps for a token tile.
  { name: 'tiledmoe', spec: smallSpec({ experts: 4, topK: 2 }), pe: 4, simd: 4, tokenTile: 5, queryTile: 3, feeds: 'rows and terms', asan: true },
  // The expert feeds' fallbacks: at PE 2 the row feed without the term feed (PE not a
  // multiple of 4: ACC words of PE terms are not whole bus words); at PE 16 x SIMD 16 with
  // D 32 and hidden 16 neither (an expert job's 2 blocks are fewer than a row's 4 words), so the
  // groups are gathered and their terms stored between jobs.
  { name: 'tiledrows', spec: smallSpec({ experts: 4, topK: 2 }), pe: 2, simd: 4, tokenTile: 5, feeds: 'rows', qkvFeed: false },
  { name: 'tiledserial', spec: { ...smallSpec({ experts: 4, topK: 2, tasks: [{ name: 'cls', channels: 5, head: { kind: 'linear' } }] }), embedDim: 32 }, pe: 16, simd: 16, tokenTile: 17, feeds: 'none', qkvFeed: true },
  // The q/k/v feed over two column groups of QKVS (PE 8, HD 16; a token's word in D / SIMD =
  // 4 steps), query tiles of 3 rows against token tiles of 5; the row feed without the term
  // feed (a group's 8 term words are not fewer than an FC1 job's 8 steps).
  { name: 'tiledqkv', spec: { ...smallSpec({ experts: 4, topK: 2 }), embedDim: 32 }, pe: 8, simd: 8, tokenTile: 5, queryTile: 3, feeds: 'rows', qkvFeed: true },
  { name: 'tiledtm', spec: smallSpec({ experts: 16, topK: 2 }), pe: 4, simd: 4, scheduler: 'token-major', slots: 2, tokenTile: 6 },
  { name: 'tiledpairs', spec: smallSpec({ experts: 8, topK: 2, tasks: [{ name: 'seg', channels: 3, head: { kind: 'uphead', channels: 16 } }, { name: 'cls', channels: 5, head: { kind: 'linear' } }] }), pe: 8, simd: 16, tokenTile: 4 },
  // 513 tokens (512 patches + the class token): the last token's attention rows in registers,
  // on chip and token-tiled (there K and V only: Q in two query tiles of 257 and 256 rows).
  { name: 'apart', spec: { ...smallSpec({ experts: 4, topK: 1, tasks: [{ name: 'cls', channels: 5, head: { kind: 'linear' } }] }), image: { height: 16, width: 32 }, patch: 1, depth: 2 }, pe: 4, simd: 4 },
  { name: 'aparttiled', spec: { ...smallSpec({ experts: 4, topK: 1, tasks: [{ name: 'cls', channels: 5, head: { kind: 'linear' } }] }), image: { height: 16, width: 32 }, patch: 1, depth: 2 }, pe: 4, simd: 4, tokenTile: 100 },
  // 1041 tokens (1040 patches + the class token), token-tiled: K's first 1024 rows in Kh and
  // its last 17 in KhL (LUTRAM), V whole; query tiles of at most 512 rows (3 of 347).
  { name: 'keytail', spec: { ...smallSpec({ experts: 4, topK: 1, tasks: [{ name: 'cls', channels: 5, head: { kind: 'linear' } }] }), image: { height: 16, width: 65 }, patch: 1, depth: 2 }, pe: 4, simd: 8, tokenTile: 128, qkvFeed: false },
  // The same with the q/k/v feed (PE 8, HD 16): K's two column groups of QKVS each loaded
  // into Kh (its first 1024 rows) and KhL (the rest).
  { name: 'keytailqkv', spec: { ...smallSpec({ experts: 4, topK: 1, tasks: [{ name: 'cls', channels: 5, head: { kind: 'linear' } }] }), image: { height: 16, width: 65 }, patch: 1, depth: 2, embedDim: 32 }, pe: 8, simd: 8, tokenTile: 128, qkvFeed: true },
  { name: 'shared', spec: { ...smallSpec(), moe: { experts: 4, topK: 1, hidden: 16, gate: 'shared' } }, pe: 1, simd: 1 },
];

interface CsimResult {
  pass: boolean;
  scheduler: string;
  onchip_weight_buffer_bytes: number;
  onchip_expert_buffer_bytes: number;
  runs: Array<{ run: number; task: string; outputs: number; mismatches: number; layer_mismatches: number; first_bad_layer: string | null }>;
  moe: Array<{ run: number; layer: number; task: string; experts_used: number; expert_weight_loads: number; expert_weight_bytes: number; loads_per_expert: number[] }>;
}

let dir: string;
const results = new Map<string, { out: string; result: CsimResult; golden: GoldenManifest; stdout: string }>();
/** The vendored real headers' folder as XILINX_HLS (its include/ holds ap_int.h), if found. */
let xilinxHls: string | undefined;
/** Wall time of the matrix's builds and runs, per header choice (figures for the README). */
const wall = { shim: 0, vitis: 0 };

beforeAll(() => {
  dir = tempDir('csim');
  const inc = vendorInclude();
  xilinxHls = inc && path.dirname(inc);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  figure(`csim matrix wall time: shim (g++) ${(wall.shim / 1000).toFixed(1)} s, real headers ${(wall.vitis / 1000).toFixed(1)} s`);
});

function make(out: string, target: string, vars: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('make', ['-s', '-C', out, target, ...vars], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a csim target, timing it; throws with the build output unless it passes. */
function csim(out: string, target: string, vars: string[], clock: keyof typeof wall): CsimResult {
  const t0 = Date.now();
  const r = make(out, target, vars);
  wall[clock] += Date.now() - t0;
  if (r.status !== 0) throw new Error(`make ${target} ${vars.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  expect(r.stdout).toMatch(/csim: PASS/);
  return JSON.parse(fs.readFileSync(path.join(out, 'csim_result.json'), 'utf8')) as CsimResult;
}

/** Words of one expert of MoE block `block`, from the weight manifest (W1, W2, b1, b2 of expert 0). */
function expertBytes(out: string, block: number): number {
  const m = JSON.parse(fs.readFileSync(path.join(out, 'data/weights.json'), 'utf8')) as { segments: Array<{ tensor: string; expert?: number; words: number }> };
  return m.segments.filter((s) => s.expert === 0 && s.tensor.startsWith(`backbone.blocks.${block}.mlp.experts.`)).reduce((a, s) => a + 16 * s.words, 0);
}

describe.each(CASES)('csim $name', (c) => {
  it('is bit-exact with the reference on every run, output word and checkpointed layer', () => {
    const cfg = writeProject(dir, c.spec, { name: c.name, pe: c.pe, simd: c.simd, scheduler: c.scheduler, cacheSlots: c.slots, tokenTile: c.tokenTile, queryTile: c.queryTile });
    const project = loadProject(cfg);
    generate(project, { force: false });
    const out = project.config.outDir;
    const t0 = Date.now();
    const r = make(out, c.asan ? 'csim-asan' : 'csim');
    wall.shim += Date.now() - t0;
    if (r.status !== 0) throw new Error(`make csim failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(fs.readFileSync(path.join(out, 'csim_result.json'), 'utf8')) as CsimResult;
    const golden = JSON.parse(fs.readFileSync(path.join(out, 'golden/manifest.json'), 'utf8')) as GoldenManifest;
    results.set(c.name, { out, result, golden, stdout: r.stdout });

    expect(result.pass).toBe(true);
    expect(r.stdout).toMatch(/csim: PASS/);
    const names = golden.tasks.map((t) => t.name);
    const order = names.length === 1 ? [names[0], names[0]] : [names[0], names[1], names[0], ...names.slice(2)];
    expect(result.runs.map((x) => x.task)).toEqual(order);
    for (const run of result.runs) {
      const g = golden.tasks.find((t) => t.name === run.task)!;
      const outTensor = g.tensors.find((t) => t.name === g.output)!;
      expect(run.outputs).toBe(outTensor.shape.reduce((a, b) => a * b, 1));
      expect([run.mismatches, run.layer_mismatches, run.first_bad_layer]).toEqual([0, 0, null]);
    }
  });

  it('gives the same csim_result.json with the real Vitis C-simulation headers (clang++)', () => {
    const r = results.get(c.name);
    if (!r) throw new Error('previous test failed');
    if (!xilinxHls) return;
    const vitis = ['CSIM_HEADERS=vitis', `XILINX_HLS=${xilinxHls}`];
    const compilers = c.gccVitis ? ['clang++', 'g++'] : ['clang++'];
    for (const cxx of compilers) {
      expect(csim(r.out, 'csim', [...vitis, `CXX=${cxx}`], 'vitis')).toEqual(r.result);
    }
    // The sanitizer configuration again, on the real headers (clang: g++'s UBSan flags
    // shifts of negative values inside ap_private.h, see ../shared/vendor/README.md).
    if (c.asan) expect(csim(r.out, 'csim-asan', [...vitis, 'CXX=clang++'], 'vitis')).toEqual(r.result);
  });

  it('loads experts as its scheduler promises (compared with the reference routing)', () => {
    const r = results.get(c.name);
    if (!r) throw new Error('previous test failed');
    const { result, golden, out } = r;
    const moeBlocks = c.spec.moe ? golden.tasks[0].moe.map((m) => m.block) : [];
    expect(result.moe.length).toBe(result.runs.length * moeBlocks.length);
    for (const m of result.moe) {
      const g = golden.tasks.find((t) => t.name === m.task)!.moe.find((x) => x.block === m.layer)!;
      const used = new Set(g.expertsUsed);
      const perExpert = expertBytes(out, m.layer);
      expect(m.experts_used).toBe(used.size);
      expect(m.expert_weight_bytes).toBe(m.expert_weight_loads * perExpert);
      expect(m.loads_per_expert.reduce((a, b) => a + b, 0)).toBe(m.expert_weight_loads);
      if ((c.scheduler ?? 'expert-major') === 'expert-major') {
        // Exactly the experts the reference routed tokens to, each read once.
        expect(m.loads_per_expert).toEqual(m.loads_per_expert.map((_, e) => (used.has(e) ? 1 : 0)));
      } else {
        // Every used expert at least once, no other.
        expect(m.loads_per_expert.map((n) => n > 0)).toEqual(m.loads_per_expert.map((_, e) => used.has(e)));
        expect(m.expert_weight_loads).toBeGreaterThanOrEqual(used.size);
      }
    }
  });
});

describe.each(CASES)('csim $name counters', (c) => {
  it('equal the estimator program\'s, op by op (loop iterations, loop entries, bus words per channel), with the golden routing', () => {
    const r = results.get(c.name);
    if (!r) throw new Error('the csim run failed');
    const project = loadProject(path.join(dir, `${c.name}.json`));
    const model = modelCounters(project, r.out);
    const csim = csimCounters(r.out);
    expect(Object.keys(csim).sort()).toEqual(project.tasks.map((t) => t.name).sort());
    for (const task of Object.keys(csim)) {
      expect(Object.keys(csim[task]).length).toBeGreaterThan(5);
      // Key by key (iterations, loops, starts, words), so that a difference names the op,
      // the field and the loop or the channel; then the whole objects (no extra keys either).
      expect({ task, diffs: counterDiffs(csim[task], model[task]) }).toEqual({ task, diffs: [] });
      for (const op of new Set([...Object.keys(csim[task]), ...Object.keys(model[task])])) {
        expect({ task, op, ...csim[task][op] }).toEqual({ task, op, ...model[task][op] });
        // A loop iterated exactly when it started (each start is one pipeline fill the cycle model pays).
        for (const label of new Set([...Object.keys(csim[task][op].loops), ...Object.keys(csim[task][op].starts)])) {
          expect({ op, label, started: (csim[task][op].starts[label] ?? 0) > 0 }).toEqual({ op, label, started: (csim[task][op].loops[label] ?? 0) > 0 });
        }
      }
      if (c.feeds) {
        // The experts' I/O the kernels run beside the engine's jobs (and, counted by csim, do).
        const experts = Object.keys(csim[task]).filter((op) => op.endsWith('.mlp.experts'));
        const ran = (label: string): boolean => experts.some((op) => (csim[task][op].loops[label] ?? 0) > 0);
        expect({ task, experts: experts.length > 0, rows: ran('ROW_READ'), terms: ran('SCRATCH_WRITE') }).toEqual({ task, experts: true, rows: c.feeds !== 'none', terms: c.feeds === 'rows and terms' });
      }
      if (c.qkvFeed !== undefined) {
        const qkv = Object.keys(csim[task]).filter((op) => op.endsWith('.attn.qkv'));
        const ran = (label: string): boolean => qkv.some((op) => (csim[task][op].loops[label] ?? 0) > 0);
        expect({ task, qkv: qkv.length > 0, feed: ran('SCRATCH_WRITE'), stores: ran('TILE_STORE') }).toEqual({ task, qkv: true, feed: c.qkvFeed, stores: !c.qkvFeed });
      }
    }
  });
});

describe.each(CASES)('csim $name cycles', (c) => {
  it('are the estimate\'s: every layer\'s cycles are the cycle model on the counters csim measured, and the tasks\' sums', () => {
    const r = results.get(c.name);
    if (!r) throw new Error('the csim run failed');
    const project = loadProject(path.join(dir, `${c.name}.json`));
    const est = routedEstimate(project, r.out);
    const ctx = cycleContext(hardwarePlan(project.ir, project.tasks, project.config));
    const csim = csimCounters(r.out);
    const kinds = new Map(project.ir.layers.map((l) => [l.name, l.kind]));
    for (const task of est.tasks) {
      // Every op csim counted is a layer of the estimate: no op's loops are left out of a sum.
      for (const op of Object.keys(csim[task])) expect({ task, op, layer: kinds.has(op) }).toEqual({ task, op, layer: true });
      const run = est.layers.filter((l) => (l.scope === 'backbone' || l.scope === `task:${task}`) && !(l.kind === 'moe_gate' && l.scope !== 'backbone' && l.scope !== `task:${task}`));
      let sum = 0;
      for (const l of run) {
        const model = Math.round(opCycles(l.kind, csim[task][l.layer], ctx).cycles);
        sum += model;
        // Layers list backbone layers with the first task's counters, a task's own with its own.
        if (l.scope === `task:${task}` || task === est.tasks[0]) expect({ task, layer: l.layer, cycles: l.cycles }).toEqual({ task, layer: l.layer, cycles: model });
        if (l.engine !== 'fused') expect({ task, layer: l.layer, counted: csim[task][l.layer] !== undefined }).toEqual({ task, layer: l.layer, counted: true });
      }
      expect({ task, cycles: est.per_task[task].cycles }).toEqual({ task, cycles: sum });
    }
  });
});

describe('estimate --routing', () => {
  it('prints the counters csim measured (token-major: every cache miss of the golden routing)', () => {
    const r = results.get('e16k2tm');
    if (!r) throw new Error('the csim run failed');
    ensureBuilt();
    const cli = runCli(['estimate', '--config', path.join(dir, 'e16k2tm.json'), '--routing', path.join(r.out, 'golden', 'manifest.json'), '--json']);
    expect(cli.code).toBe(0);
    const printed = (JSON.parse(cli.stdout) as { counters: Record<string, unknown> }).counters;
    expect(printed).toEqual(csimCounters(r.out));
    // Without the routing the expert loads are the routing model's expectation, not csim's count.
    const expected = (JSON.parse(runCli(['estimate', '--config', path.join(dir, 'e16k2tm.json'), '--json']).stdout) as { counters: typeof printed }).counters;
    expect(expected).not.toEqual(printed);
  });
});

describe('across configurations', () => {
  it('keeps the on-chip weight memory independent of the number of experts (expert-major)', () => {
    const bytes = ['e4k2', 'e16k2', 'e64k2'].map((n) => results.get(n)!.result.onchip_weight_buffer_bytes);
    expect(bytes[0]).toBeGreaterThan(0);
    expect(bytes).toEqual([bytes[0], bytes[0], bytes[0]]);
    const experts = ['e4k2', 'e16k2', 'e64k2'].map((n) => results.get(n)!.result.onchip_expert_buffer_bytes);
    expect(experts).toEqual([experts[0], experts[0], experts[0]]);
    figure(`on-chip weight buffers (E = 4, 16, 64): ${bytes.join(', ')} bytes, of which the expert ping-pong ${experts[0]} bytes`);
  });

  it('reports what reordering saves: both schedulers on the same input and weights', () => {
    const em = results.get('e16k2')!;
    const tm = results.get('e16k2tm')!;
    // Same model, weights and image: the golden vectors are the same files.
    for (const t of em.golden.tasks) {
      for (const x of t.tensors) {
        expect(fs.readFileSync(path.join(tm.out, 'golden', x.file)).equals(fs.readFileSync(path.join(em.out, 'golden', x.file)))).toBe(true);
      }
    }
    const sum = (r: CsimResult, run: number): number => r.moe.filter((m) => m.run === run).reduce((a, m) => a + m.expert_weight_bytes, 0);
    const lines: string[] = [];
    em.result.runs.forEach((run, i) => {
      const a = sum(em.result, i);
      const b = sum(tm.result, i);
      expect(b).toBeGreaterThanOrEqual(a);
      lines.push(`run ${i} (${run.task}): expert-major ${a} bytes, token-major (2 slots) ${b} bytes (x${(b / a).toFixed(2)})`);
    });
    expect(tm.result.onchip_expert_buffer_bytes).toBe(em.result.onchip_expert_buffer_bytes); // 2 slots = 2 ping-pong halves
    figure(`expert weight bytes read per run, E = 16, k = 2:\n${lines.join('\n')}`);
  });
});

describe('the testbench fails', () => {
  let project: string;
  beforeAll(() => {
    // A copy of a passing project, so the checks above keep their files.
    project = path.join(dir, 'broken');
    fs.cpSync(results.get('e4k2')!.out, project, { recursive: true });
    fs.rmSync(path.join(project, 'csim-build'), { recursive: true, force: true });
  });

  it('on one corrupted golden word, naming the layer and index', () => {
    const file = path.join(project, 'golden/seg/blocks.1.norm2.bin');
    const buf = fs.readFileSync(file);
    buf.writeInt16LE(buf.readInt16LE(2 * 37) ^ 1, 2 * 37);
    fs.writeFileSync(file, buf);
    const r = make(project, 'csim');
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/run 0: task seg: .*FAIL/);
    expect(r.stdout).toMatch(/first differing layer: blocks\.1\.norm2, index 37:/);
    expect(r.stdout).toMatch(/run 1: task cls: .*PASS/);
    expect(r.stdout).toMatch(/csim: FAIL/);
    expect(JSON.parse(fs.readFileSync(path.join(project, 'csim_result.json'), 'utf8')).pass).toBe(false);
    buf.writeInt16LE(buf.readInt16LE(2 * 37) ^ 1, 2 * 37);
    fs.writeFileSync(file, buf);
  });

  it('on one corrupted output word', () => {
    const file = path.join(project, 'golden/cls/head.cls.out.bin');
    const buf = fs.readFileSync(file);
    buf.writeInt16LE(buf.readInt16LE(2 * 11) + 1, 2 * 11);
    fs.writeFileSync(file, buf);
    const r = make(project, 'csim');
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/run 1: task cls: 80 output words, 1 mismatches/);
    expect(r.stdout).toMatch(/output: first mismatch at index 11/);
    buf.writeInt16LE(buf.readInt16LE(2 * 11) - 1, 2 * 11);
    fs.writeFileSync(file, buf);
    expect(make(project, 'csim').status).toBe(0);
  });

  it('with CSIM_HEADERS=vitis and no headers in XILINX_HLS, saying which folder it looked in', () => {
    const r = make(project, 'csim', ['CSIM_HEADERS=vitis', `XILINX_HLS=${path.join(dir, 'no-vitis')}`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/CSIM_HEADERS=vitis: no ap_int\.h in XILINX_HLS\/include \(".*no-vitis\/include"\)/);
    expect(fs.existsSync(path.join(project, 'csim-build/vitis-g++'))).toBe(false);
  });

  it('on a truncated or missing data file', () => {
    const file = path.join(project, 'golden/seg/tokens.bin');
    const buf = fs.readFileSync(file);
    fs.writeFileSync(file, buf.subarray(0, buf.length - 2));
    let r = make(project, 'csim');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/tokens\.bin has \d+ bytes, expected \d+/);
    fs.rmSync(file);
    r = make(project, 'csim');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot open .*tokens\.bin/);
    fs.writeFileSync(file, buf);
    fs.rmSync(path.join(project, 'data/weights.bin'));
    r = make(project, 'csim');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot open .*weights\.bin/);
  });
});
