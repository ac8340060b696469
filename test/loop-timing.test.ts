/**
 * The loop timing table (generator/schedule/timing.ts) against the generated kernels: the II
 * the table states for each pipelined loop label is the one its `#pragma HLS pipeline II=`
 * says in src/m3vit_top.cpp, every pipelined label of the code has an entry and every entry
 * is a pipelined loop of the code; and the cycle model on a tiny case worked out by hand.
 */
import * as fs from 'fs';
import * as path from 'path';
import { opCycles, loopCycles, type CycleContext } from '../generator/estimate/cycles';
import { kernelFiles } from '../generator/emit/kernels';
import { KERNEL_HEADERS, LAYOUT } from '../generator/emit/layout';
import { prepareModel } from '../generator/reference/prepare';
import { buildSchedule } from '../generator/schedule/schedule';
import { weightLayout } from '../generator/schedule/weight-layout';
import { hardwarePlan } from '../generator/estimate/hardware';
import { loadProject } from '../generator/project';
import type { OpCounters } from '../generator/schedule/program';
import type { Schedule } from '../generator/schedule/schedule';
import { LOOP_TIMING, loopInterval, type LoopFigures } from '../generator/schedule/timing';
import { ensureBuilt, ROOT, runCli } from './helpers/cli';
import { tempDir } from './helpers/cpp';
import { smallSpec, writeProject } from './helpers/project';

/** Pipelined loops of a C++ file: label -> the II of its pipeline pragma (the first pragma
 * after the label's `for` that is a pipeline pragma, before any nested label). */
function pipelinedLoops(cpp: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = cpp.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*([A-Z][A-Z0-9_]*):\s*$/.exec(lines[i]);
    if (!m || !/^\s*for \(/.test(lines[i + 1] ?? '')) continue;
    // The loop's own pragmas come right after its `for` line.
    for (let j = i + 2; j < lines.length && /^\s*#pragma HLS/.test(lines[j]); j++) {
      const p = /^\s*#pragma HLS pipeline II=(\d+)\s*$/.exec(lines[j]);
      if (p) {
        if (out.has(m[1]) && out.get(m[1]) !== Number(p[1])) throw new Error(`${m[1]}: two pipeline IIs`);
        out.set(m[1], Number(p[1]));
      }
    }
  }
  return out;
}

describe('loop timing table vs the generated kernels', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('loop-timing');
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** src/m3vit_top.cpp and its kernel headers of `cfg`'s project checked against the table: `viaCli` generates it as
   * a user does (`m3vit-gen --config`, the built CLI), else the kernels stage's emitter renders
   * it in process (no weight image, testbench or golden vectors). */
  function check(cfg: string, viaCli: boolean): Set<string> {
    const project = loadProject(cfg);
    const sched = buildSchedule(project.ir, project.tasks, project.config);
    let cpp: string;
    if (viaCli) {
      ensureBuilt();
      const out = path.join(dir, path.basename(cfg, '.json'));
      const r = runCli(['--config', cfg, '--out', out]);
      expect(r.code).toBe(0);
      cpp = [LAYOUT.topSource, ...KERNEL_HEADERS].map((f) => fs.readFileSync(path.join(out, f), 'utf8')).join('\n');
    } else {
      const prepared = prepareModel(project, {});
      const files = kernelFiles({ ir: project.ir, config: project.config, plan: prepared.plan, sched, layout: weightLayout(project.ir, sched, prepared.plan) });
      cpp = [LAYOUT.topSource, ...KERNEL_HEADERS].map((p) => String(files.find((f) => f.path === p)!.contents)).join('\n');
    }
    expect(LAYOUT.topSource).toBe('src/m3vit_top.cpp');
    const loops = pipelinedLoops(cpp);
    expect(loops.size).toBeGreaterThan(10);
    for (const [label, ii] of loops) {
      expect({ label, inTable: label in LOOP_TIMING }).toEqual({ label, inTable: true });
      const t = LOOP_TIMING[label as keyof typeof LOOP_TIMING];
      expect({ label, ii: t.ii(sched) }).toEqual({ label, ii });
      // Every pipelined loop of the code is one the counters count.
      expect(cpp).toContain(`M3VIT_COUNT(${label});`);
      expect(cpp).toContain(`M3VIT_LOOP_START(${label});`);
    }
    return new Set(loops.keys());
  }

  it('the default config (zcu104.json: MoE, dense blocks, two UpHeads), a linear head and token tiles: every label, its II, no extra entry', () => {
    const seen = check(path.join(ROOT, 'zcu104.json'), true);
    // The default config has no linear head: LINEAR_HEAD_OUT is in a small dense project's code.
    const linear = writeProject(dir, { ...smallSpec(), moe: undefined, tasks: [{ name: 'cls', channels: 5, head: { kind: 'linear' } }] }, { name: 'lt_linear', pe: 2, simd: 2 });
    for (const l of check(linear, false)) seen.add(l);
    // The token-tiled loops (TILE_LOAD / STORE, TERM_LOAD / STORE, the row feed's ROW_READ)
    // are in a DDR-activation project's code; at PE 4 the term feed's SCRATCH_WRITE too.
    const tiled = writeProject(dir, smallSpec(), { name: 'lt_tiled', pe: 2, simd: 2, tokenTile: 5 });
    for (const l of check(tiled, false)) seen.add(l);
    const tiledTerms = writeProject(dir, smallSpec(), { name: 'lt_tiled4', pe: 4, simd: 4, tokenTile: 5 });
    for (const l of check(tiledTerms, false)) seen.add(l);
    expect([...seen].sort()).toEqual(Object.keys(LOOP_TIMING).sort());
  });

  it('every depth is stated with its reason and is a positive number of cycles', () => {
    const p = loadProject(path.join(ROOT, 'zcu104.json'));
    const s = hardwarePlan(p.ir, p.tasks, p.config).sched;
    const f: LoopFigures = { dot: 12, elementwise: 6, div64: 68, isqrt: 34, axiLatency: 64, axiOutstanding: 16 };
    for (const [label, t] of Object.entries(LOOP_TIMING)) {
      expect({ label, depth: t.depth(s, f) > 0, reason: t.reason.length > 10 }).toEqual({ label, depth: true, reason: true });
    }
  });
});

describe('the cycle model by hand (a tiny op)', () => {
  // A schedule with only what the table reads for these loops (lnLanes for LN_*, pe for
  // MAC_STEPS, simd and head.mapLanes for LB_LOAD), and stated figures.
  const sched = { lnLanes: 4, pe: 4, simd: 8, head: { mapLanes: 8 } } as unknown as Schedule;
  const figures: LoopFigures = { dot: 10, elementwise: 5, div64: 40, isqrt: 20, axiLatency: 50, axiOutstanding: 10 };
  const ctx = (bytesPerCycle: number): CycleContext => ({ sched, figures, ports: { weights: bytesPerCycle, scratch: bytesPerCycle, input: bytesPerCycle, output: bytesPerCycle } });

  it('loopCycles: iterations x interval + entries x depth', () => {
    expect(loopCycles(100, 3, 2, 7)).toBe(221);
    expect(loopCycles(0, 1, 1, 9)).toBe(9); // an entry that runs nothing still fills the pipeline once
  });

  it('a LayerNorm op: five loops, gamma and beta loads', () => {
    // 2 rows of D = 16 at LN_LANES 4: 8 steps per pass. Stated by hand:
    //   VEC16_LOAD 16 elements, II 1 (a word per 8 elements moves in 1/8 cycle), depth 50 + 1: 67
    //   VEC32_LOAD 16 elements, II 1 (a word per 4 elements moves in 1/4 cycle), depth 51:  67
    //   LN_SUM 8 steps, depth 3 + log2(4) = 5:                                             13
    //   LN_MEAN 2 rows, depth 40 + 2:                                                      44
    //   LN_VAR 8 steps, depth 5 + 2:                                                       15
    //   LN_RSQRT 2 rows, depth 20 + 40:                                                    62
    //   LN_OUT 8 steps, depth 5 + 4:                                                       17
    const op: OpCounters = {
      iterations: 16 + 16 + 8 + 2 + 8 + 2 + 8,
      loops: { VEC16_LOAD: 16, VEC32_LOAD: 16, LN_SUM: 8, LN_MEAN: 2, LN_VAR: 8, LN_RSQRT: 2, LN_OUT: 8 },
      starts: { VEC16_LOAD: 1, VEC32_LOAD: 1, LN_SUM: 1, LN_MEAN: 1, LN_VAR: 1, LN_RSQRT: 1, LN_OUT: 1 },
      words: { 'gmem_w.read': 2 + 4 },
    };
    const c = opCycles('layernorm', op, ctx(16));
    expect(c.cycles).toBe(67 + 67 + 13 + 44 + 15 + 62 + 17);
    expect(c.control).toBe(0);
    // Compute: the loops that move no bus words.
    expect(c.compute).toBe(13 + 44 + 15 + 62 + 17);
  });

  it('a bus slower than the II stretches only the loops that move words', () => {
    // PARTS_LOAD: 40 words at a port of 4 B/cycle: 16 / 4 = 4 cycles per word, depth 50 + 2.
    // MAC_STEPS: 200 steps at II 1 in 2 starts, depth (input exp 5 + 6) + dot 10 + (scores 5 +
    // maximum tree log2(PE 4) = 2 + factor exp 6) + 2 = 36. (A kind without control.)
    const op: OpCounters = { iterations: 240, loops: { PARTS_LOAD: 40, MAC_STEPS: 200 }, starts: { PARTS_LOAD: 2, MAC_STEPS: 2 }, words: { 'gmem_w.read': 40 } };
    expect(opCycles('gelu', op, ctx(4)).cycles).toBe(40 * 4 + 2 * 52 + 200 + 2 * 36);
    expect(opCycles('gelu', op, ctx(16)).cycles).toBe(40 * 1 + 2 * 52 + 200 + 2 * 36);
    expect(loopInterval('PARTS_LOAD', sched, figures, ctx(4).ports)).toBe(4);
    // LB_LOAD's II is the schedule's: max(MAP_LANES / 8, MAP_LANES / SIMD) = 1 at SIMD 8.
    expect(LOOP_TIMING.LB_LOAD.ii(sched)).toBe(1);
  });

  it('DATAFLOW: WEIGHT_READ beside MAC_STEPS adds only its starts', () => {
    // A linear layer of 2 tiles: 3 mac_engine jobs (MAC_STEPS starts), 2 of them load a tile of
    // 20 words (WEIGHT_READ starts). MAC_STEPS counts max(compute, words) per job: 220
    // iterations; WEIGHT_READ's 40 iterations run beside them; each loading job waits for its
    // first word (depth 50 + 1). ENGINE_TILES: 3 non-pipelined iterations of 2.
    const op: OpCounters = { iterations: 260, loops: { WEIGHT_READ: 40, MAC_STEPS: 220 }, starts: { WEIGHT_READ: 2, MAC_STEPS: 3 }, words: { 'gmem_w.read': 40 } };
    expect(opCycles('linear', op, ctx(16)).cycles).toBe(220 + 3 * 36 + 2 * 51 + 3 * 2);
  });

  it('a loop the table does not know is an error, not zero cycles', () => {
    const op: OpCounters = { iterations: 1, loops: { NEW_LOOP: 1 }, starts: { NEW_LOOP: 1 }, words: {} };
    expect(() => opCycles('gelu', op, ctx(16))).toThrow(/NEW_LOOP/);
  });
});
