/**
 * The structural check (generator/structure) on generated kernels: what the estimator
 * assumes, checked on the code Vitis would read. The default config (m3vit-tiny, PE 32 x
 * SIMD 32) and configurations of the csim matrix (experts and both heads, PE 8 x SIMD 16
 * with 2-part blocks and conv groups, a dense model with a linear head, token-major).
 */
import * as path from 'path';
import { estimate } from '../generator/estimate/estimate';
import { generate } from '../generator/generate';
import type { ModelSpec } from '../generator/model/spec';
import { loadProject } from '../generator/project';
import { checkStructureProject } from '../generator/structure/check';
import type { StructureReport } from '../generator/structure/types';
import { ROOT } from './helpers/cli';
import { tempDir } from './helpers/cpp';
import { smallSpec, writeProject } from './helpers/project';

/** Loops whose run-time 64-bit divide is a pipelined divider the estimator counts (its
 * `LayerNorm` and `attention` units): the reciprocal square root per row, the softmax output. */
const COUNTED_DIVIDERS = ['LN_RSQRT', 'ATT_OUT'];

function expectBuildableAsEstimated(r: StructureReport, pe: number, simd: number, macDsp: number): void {
  const fn = (name: string) => r.functions.find((f) => f.name === name);
  // One MAC engine and one LayerNorm, whatever the number of layers and call sites.
  expect({ name: 'mac_run', inline: fn('mac_run')?.inline, instances: fn('mac_run')?.instances }).toEqual({ name: 'mac_run', inline: 'off', instances: 1 });
  expect({ name: 'layer_norm', instances: fn('layer_norm')?.instances }).toEqual({ name: 'layer_norm', instances: 1 });
  // The MAC array: PE x SIMD 16 x 16 products, in pe_simd_dot, which is inlined into mac_run only.
  const dot = fn('pe_simd_dot')!;
  expect({ inline: dot.inline, callers: dot.callers, multipliers: dot.multipliers.map((m) => [m.aBits, m.bBits, m.count]) }).toEqual({
    inline: 'inline',
    callers: ['mac_run'],
    multipliers: [[16, 16, pe * simd]],
  });
  expect(macDsp).toBe(pe * simd); // the estimator's mac_run unit: one DSP48E2 per 16 x 16 product
  // No pipelined loop calls a function that is not inlined, no array is read past its ports,
  // no dependence pragma sits on registers; the only run-time divides are the counted dividers.
  const other = r.violations.filter((v) => !(v.kind === 'runtime-divide' && COUNTED_DIVIDERS.some((l) => v.message.startsWith(`${l}:`))));
  expect(other.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
  // Every pipelined loop of the kernels is one the counters count (M3VIT_COUNT in its body).
  expect(r.pipelines.filter((p) => p.kind === 'loop').length).toBeGreaterThan(10);
}

function macUnitDsp(configFile: string): number {
  const p = loadProject(configFile);
  const est = estimate(p.ir, p.tasks, p.config);
  return est.units.find((u) => u.unit.startsWith('mac_run'))!.DSP;
}

describe('structure of the generated kernels', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('structure-kernels');
  });

  it('default config (m3vit-tiny, PE 32 x SIMD 32): one MAC engine of 1024 multipliers, every loop within its ports', () => {
    const cfg = path.join(ROOT, 'zcu104.json');
    const project = loadProject(cfg, { outDir: path.join(dir, 'default') });
    generate(project, { force: false });
    expectBuildableAsEstimated(checkStructureProject(project.config.outDir), 32, 32, macUnitDsp(cfg));
  });

  const cases: Array<[string, ModelSpec, number, number, 'expert-major' | 'token-major']> = [
    ['experts, both heads, PE 4 x SIMD 4', smallSpec({ experts: 4, topK: 2 }), 4, 4, 'expert-major'],
    ['2-part blocks and conv groups, PE 8 x SIMD 16', smallSpec({ experts: 8, topK: 2, tasks: [{ name: 'seg', channels: 3, head: { kind: 'uphead', channels: 256 } }] }), 8, 16, 'expert-major'],
    ['token-major, PE 4 x SIMD 4', smallSpec({ experts: 16, topK: 2 }), 4, 4, 'token-major'],
    ['dense model, linear head, PE 2 x SIMD 2', { ...smallSpec(), moe: undefined, tasks: [{ name: 'cls', channels: 5, head: { kind: 'linear' } }] }, 2, 2, 'expert-major'],
  ];
  it.each(cases)('%s', (name, spec, pe, simd, scheduler) => {
    const tag = `s_${name.replace(/[^a-z0-9]+/gi, '_')}`.slice(0, 40);
    const cfg = writeProject(dir, spec, { name: tag, pe, simd, scheduler });
    const project = loadProject(cfg);
    generate(project, { force: false });
    expectBuildableAsEstimated(checkStructureProject(project.config.outDir), pe, simd, macUnitDsp(cfg));
  });
});
