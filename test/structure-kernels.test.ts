/**
 * The structural check (generator/structure) on generated kernels: what the estimator
 * assumes, checked on the code Vitis would read. The default config (m3vit-tiny, PE 32 x
 * SIMD 32) and configurations of the csim matrix (experts and both heads, PE 8 x SIMD 16
 * with 2-part blocks and conv groups, a dense model with a linear head, token-major, an image
 * whose sizes are not powers of two).
 */
import * as path from 'path';
import { estimate } from '../generator/estimate/estimate';
import type { Estimate } from '../generator/estimate/types';
import { generate } from '../generator/generate';
import type { ModelSpec } from '../generator/model/spec';
import { loadProject } from '../generator/project';
import { checkStructureProject } from '../generator/structure/check';
import type { StructureReport } from '../generator/structure/types';
import { ROOT } from './helpers/cli';
import { tempDir } from './helpers/cpp';
import { smallSpec, writeProject } from './helpers/project';

/** Shape -> count over the datapath (multipliers inside pipelined loops), "a x b" in signed bits. */
function structuralDatapath(r: StructureReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of r.multipliers) if (m.pipelined > 0) out[`${m.aBits} x ${m.bBits}`] = (out[`${m.aBits} x ${m.bBits}`] ?? 0) + m.pipelined;
  return out;
}

function estimatedDatapath(est: Estimate): Record<string, number> {
  const out: Record<string, number> = {};
  for (const u of est.units) for (const m of u.multipliers) if (m.pipelined) out[`${m.a} x ${m.b}`] = (out[`${m.a} x ${m.b}`] ?? 0) + m.count;
  return out;
}

/** Shape -> count over the control multipliers (outside every pipelined loop: job setup and
 * address arithmetic). */
function structuralControl(r: StructureReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of r.multipliers) if (m.count > m.pipelined) out[`${m.aBits} x ${m.bBits}`] = m.count - m.pipelined;
  return out;
}

function estimatedControl(est: Estimate): Record<string, number> {
  const out: Record<string, number> = {};
  for (const u of est.units) for (const m of u.multipliers) if (!m.pipelined) out[`${m.a} x ${m.b}`] = (out[`${m.a} x ${m.b}`] ?? 0) + m.count;
  return out;
}

const dividerKey = (dividend: number, divisor: number): string => `${dividend} / ${divisor}`;

/** The processes of mac_engine's DATAFLOW region beside weight_reader and mac_run: in a
 * token-tiled project, the row reader (expert-major: an FC2 job gathers the next expert
 * group's rows from scratch) and the scratch writer (an FC1 job stores the group before's
 * combine terms, PE a multiple of 4; a q, k or v job stores its outputs, PE a multiple of 8). */
type EngineFeeds = 'none' | 'rows' | 'writer' | 'rows and writer';

function expectBuildableAsEstimated(r: StructureReport, est: Estimate, pe: number, simd: number, feeds: EngineFeeds = 'none'): void {
  const fn = (name: string) => r.functions.find((f) => f.name === name);
  // One MAC engine and one LayerNorm, whatever the number of layers and call sites.
  expect({ name: 'mac_run', inline: fn('mac_run')?.inline, instances: fn('mac_run')?.instances }).toEqual({ name: 'mac_run', inline: 'off', instances: 1 });
  expect({ name: 'layer_norm', instances: fn('layer_norm')?.instances }).toEqual({ name: 'layer_norm', instances: 1 });
  // The MAC engine is a DATAFLOW region in canonical form: the weight loader streams into
  // mac_run (the overlap the estimate's linear layers claim), and so does the row reader, and
  // mac_run into the scratch writer, when the feeds run (the overlap the estimate's expert
  // gathers, term stores and q / k / v stores claim); it is the only region.
  const rows = feeds === 'rows' || feeds === 'rows and writer';
  const writer = feeds === 'writer' || feeds === 'rows and writer';
  const region = [
    'mac_engine',
    ['weight_reader', ...(rows ? ['row_reader'] : []), 'mac_run', ...(writer ? ['scratch_writer'] : [])],
    ['stream: weight_reader -> mac_run', ...(rows ? ['stream: row_reader -> mac_run'] : []), ...(writer ? ['stream: mac_run -> scratch_writer'] : [])],
  ];
  expect(r.dataflow.map((d) => [d.function, d.processes, d.channels.map((c) => `${c.kind}: ${c.producers} -> ${c.consumers}`)])).toEqual([region]);
  expect({ name: 'mac_engine', instances: fn('mac_engine')?.instances, callers: fn('mac_run')?.callers }).toEqual({ name: 'mac_engine', instances: 1, callers: ['mac_engine'] });
  // The MAC array: PE x SIMD 16 x 16 products, in pe_simd_dot, which is inlined into mac_run only.
  const dot = fn('pe_simd_dot')!;
  expect({ inline: dot.inline, callers: dot.callers, multipliers: dot.multipliers.map((m) => [m.aBits, m.bBits, m.count]) }).toEqual({
    inline: 'inline',
    callers: ['mac_run'],
    multipliers: [[16, 16, pe * simd]],
  });
  // Every multiplier of the datapath, shape by shape: what the estimator's units list is what
  // the code has (operand widths read from the AST: the ap_int types numerics.h multiplies).
  expect(structuralDatapath(r)).toEqual(estimatedDatapath(est));
  // No control multiplier but the estimator's (the MoE gate's exps, once per token): sizes,
  // strides and offsets of the kernels are products the generator computes (constants and
  // the fields of the BLOCKS / TASK_PARAMS / STAGE_PARAMS / EXPERT_OFFSET tables), running
  // offsets, or products of constants that HLS folds. So the structural DSP count is the
  // estimate's.
  expect(structuralControl(r)).toEqual(estimatedControl(est));
  expect(r.dsp).toBe(est.resources.DSP.used);
  // And nothing wider than the DSP tiling the estimate prices: no 64-bit product anywhere.
  expect(r.multipliers.filter((m) => m.aBits > 48).map((m) => `${m.aBits} x ${m.bBits}`)).toEqual([]);
  // The pipelined dividers: the estimator's (attention's round(o / l), LayerNorm's reciprocal).
  const counted = (xs: { dividend: number; divisor: number; count: number }[]) => {
    const out: Record<string, number> = {};
    for (const d of xs) out[dividerKey(d.dividend, d.divisor)] = (out[dividerKey(d.dividend, d.divisor)] ?? 0) + d.count;
    return out;
  };
  expect(counted(r.dividers)).toEqual(counted(est.units.flatMap((u) => u.dividers)));
  // No pipelined loop calls a function that is not inlined, no array is read past its ports,
  // no dependence pragma sits on registers, no modulo beside a divide.
  expect(r.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
  // Every pipelined loop of the kernels is one the counters count (M3VIT_COUNT in its body).
  expect(r.pipelines.filter((p) => p.kind === 'loop').length).toBeGreaterThan(10);
}

function estimateOf(configFile: string): Estimate {
  const p = loadProject(configFile);
  return estimate(p.ir, p.tasks, p.config);
}

describe('structure of the generated kernels', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('structure-kernels');
  });

  it('default config (m3vit-tiny, PE 32 x SIMD 32): one MAC engine of 1024 multipliers, the datapath as estimated, every loop within its ports', () => {
    const cfg = path.join(ROOT, 'zcu104.json');
    const project = loadProject(cfg, { outDir: path.join(dir, 'default') });
    generate(project, { force: false });
    expectBuildableAsEstimated(checkStructureProject(project.config.outDir), estimateOf(cfg), 32, 32);
  });

  const cases: Array<[string, ModelSpec, number, number, 'expert-major' | 'token-major', number?, EngineFeeds?]> = [
    ['experts, both heads, PE 4 x SIMD 4', smallSpec({ experts: 4, topK: 2 }), 4, 4, 'expert-major'],
    ['2-part blocks and conv groups, PE 8 x SIMD 16', smallSpec({ experts: 8, topK: 2, tasks: [{ name: 'seg', channels: 3, head: { kind: 'uphead', channels: 256 } }] }), 8, 16, 'expert-major'],
    ['token-major, PE 4 x SIMD 4', smallSpec({ experts: 16, topK: 2 }), 4, 4, 'token-major'],
    ['dense model, linear head, PE 2 x SIMD 2', { ...smallSpec(), moe: undefined, tasks: [{ name: 'cls', channels: 5, head: { kind: 'linear' } }] }, 2, 2, 'expert-major'],
    // Sizes that are not powers of two (an 8 x 12 image, a 2 x 3 grid): products by them would be multipliers.
    ['odd image, PE 2 x SIMD 4', { ...smallSpec({ experts: 4, topK: 1, tasks: [{ name: 'seg', channels: 3, head: { kind: 'uphead', channels: 8 } }] }), image: { height: 8, width: 12 } }, 2, 4, 'expert-major'],
    // Token-tiled activations in DDR (17 tokens in tiles of 5, the last of 2; 16 patches:
    // the head's last tile 1): a tile's MAC steps are rows x D / SIMD with D / SIMD = 6 not
    // a power of two, so a product by the run-time row count would be a control multiplier.
    // Expert-major, PE 4: the row and term feeds (the expert jobs have the steps for them).
    ['token-tiled, D / SIMD = 6, PE 4 x SIMD 4', { ...smallSpec({ experts: 4, topK: 2 }), embedDim: 24 }, 4, 4, 'expert-major', 5, 'rows and writer'],
    // PE 8 (HD 16: two column groups of QKVS): the q/k/v feed, and the row feed but not the
    // term feed (a group's 8 term words are not fewer than an FC1 job's 8 steps).
    ['token-tiled q/k/v feed, PE 8 x SIMD 8', { ...smallSpec({ experts: 4, topK: 2 }), embedDim: 32 }, 8, 8, 'expert-major', 5, 'rows and writer'],
    // Token-major at PE 8: the q/k/v feed alone.
    ['token-tiled token-major, PE 8 x SIMD 8', { ...smallSpec({ experts: 16, topK: 2 }), embedDim: 32 }, 8, 8, 'token-major', 5, 'writer'],
    // 1041 tokens token-tiled: query tiles of 347 rows (3; a tile's MAC steps are 347 x K /
    // SIMD, constants on both sides of the last-tile select) and K's 17 rows past 1024 in KhL.
    ['1041 tokens: query tiles, K tail, PE 4 x SIMD 8', { ...smallSpec({ experts: 4, topK: 1, tasks: [{ name: 'cls', channels: 5, head: { kind: 'linear' } }] }), image: { height: 16, width: 65 }, patch: 1, depth: 2 }, 4, 8, 'expert-major', 128, 'rows and writer'],
  ];
  // Rest parameters: jest would take a sixth named parameter of a five-column row for `done`.
  it.each(cases)('%s', (...row) => {
    const [name, spec, pe, simd, scheduler, tokenTile, feeds] = row;
    const tag = `s_${name.replace(/[^a-z0-9]+/gi, '_')}`.slice(0, 40);
    const cfg = writeProject(dir, spec, { name: tag, pe, simd, scheduler, tokenTile });
    const project = loadProject(cfg);
    generate(project, { force: false });
    expectBuildableAsEstimated(checkStructureProject(project.config.outDir), estimateOf(cfg), pe, simd, feeds);
  });
});
