/**
 * One description of the bus traffic: every layer's DDR bytes in the estimate are the bus
 * words the kernel program counts for it (generator/schedule/program.ts), which csim checks
 * exactly (test/csim.test.ts). The review's drift case is here: a small dense model with a
 * linear head at PE x SIMD 1x1, 2x2 and 4x4, whose weight reads the old formulas put at
 * 15,776 B for all three while the kernels read (K/SIMD) x ceil(PE*SIMD/8) words per tile.
 */
import type { BuildConfig } from '../generator/config/types';
import { estimate } from '../generator/estimate/estimate';
import { buildIR } from '../generator/ir/build';
import type { ModelSpec } from '../generator/model/spec';
import { loadProject } from '../generator/project';
import * as path from 'path';
import { smallSpec } from './helpers/project';

const ROOT = path.resolve(__dirname, '..');
const ROLE: Record<string, string> = { gmem_w: 'weights', gmem_s: 'scratch', gmem_i: 'input', gmem_o: 'output' };

function base(): BuildConfig {
  const p = loadProject(path.join(ROOT, 'zcu104.json'));
  return p.config;
}

const dense: ModelSpec = { ...smallSpec(), moe: undefined, tasks: [{ name: 'cls', channels: 5, head: { kind: 'linear' } }] };
const moe: ModelSpec = { ...dense, moe: { experts: 4, topK: 2, hidden: 16 }, tasks: [...dense.tasks, { name: 'seg', channels: 3, head: { kind: 'uphead', channels: 16 } }] };

/** Per layer of `task`'s pathway: [estimate read bytes, write bytes] and [16 x counted read words, write words]. */
function compare(spec: ModelSpec, pe: number, simd: number, scheduler: 'expert-major' | 'token-major' = 'expert-major') {
  const ir = buildIR(spec);
  const config: BuildConfig = { ...base(), parallelism: { pe, simd }, moe: { scheduler, expertCacheSlots: 2 } };
  const est = estimate(ir, ir.tasks, config);
  const rows: Array<{ task: string; layer: string; estimate: number[]; counted: number[] }> = [];
  for (const task of est.tasks) {
    const counters = est.counters[task];
    for (const l of est.layers.filter((x) => x.scope === 'backbone' || x.scope === `task:${task}`)) {
      if (l.kind === 'moe_gate' && !l.layer.endsWith(`.${task}`)) continue; // another task's gate: not on this pathway
      const words = counters[l.layer]?.words ?? {};
      const sum = (dir: string): number => Object.entries(words).filter(([ch]) => ch.endsWith(dir) && ROLE[ch.split('.')[0]]).reduce((a, [, n]) => a + 16 * (n ?? 0), 0);
      rows.push({ task, layer: l.layer, estimate: [l.ddr_read_bytes, l.ddr_write_bytes], counted: [Math.round(sum('.read')), Math.round(sum('.write'))] });
    }
  }
  return { rows, est };
}

describe('estimate DDR bytes = the program counters, layer by layer', () => {
  it.each([
    [1, 1],
    [2, 2],
    [4, 4],
  ])('dense model with a linear head at PE %i x SIMD %i (the drift case)', (pe, simd) => {
    const { rows } = compare(dense, pe, simd);
    expect(rows.length).toBeGreaterThan(15);
    for (const r of rows) expect({ layer: r.layer, bytes: r.estimate }).toEqual({ layer: r.layer, bytes: r.counted });
    // The kernels' weight reads of one linear layer follow the block layout: qkv (48 rows x K 16)
    // is 48/PE tiles of 16/SIMD blocks of ceil(PE*SIMD/8) words, plus its 48 biases in 12 words
    // (4 per word; each (head, q/k/v) call's first bias, (h x 3 + g) x HD with HD 8, starts a
    // word); but each
    // head after the first has its first q tile read during the previous head's last P.V
    // job (the layer's products are one chain), which the attention core's op counts.
    const heads = dense.heads;
    const tileWords = (16 / simd) * Math.ceil((pe * simd) / 8);
    const qkv = rows.find((r) => r.layer === 'blocks.0.attn.qkv')!;
    expect(qkv.estimate[0]).toBe(16 * ((48 / pe) * tileWords - (heads - 1) * tileWords + 48 / 4));
    expect(rows.find((r) => r.layer === 'blocks.0.attn.core')!.estimate[0]).toBe(16 * (heads - 1) * tileWords);
  });

  it.each(['expert-major', 'token-major'] as const)('MoE model with both heads, PE 4 x SIMD 4, %s (expected routing)', (scheduler) => {
    const { rows } = compare(moe, 4, 4, scheduler);
    for (const r of rows) expect({ task: r.task, layer: r.layer, bytes: r.estimate }).toEqual({ task: r.task, layer: r.layer, bytes: r.counted });
  });

  it('the default config (m3vit-tiny, PE 32 x SIMD 32)', () => {
    const p = loadProject(path.join(ROOT, 'zcu104.json'));
    const est = estimate(p.ir, p.tasks, p.config);
    for (const task of est.tasks) {
      for (const l of est.layers.filter((x) => x.scope === 'backbone' || x.scope === `task:${task}`)) {
        const words = est.counters[task][l.layer]?.words ?? {};
        const read = Object.entries(words).filter(([ch]) => ch.endsWith('.read')).reduce((a, [, n]) => a + 16 * (n ?? 0), 0);
        expect({ layer: l.layer, read: l.ddr_read_bytes }).toEqual({ layer: l.layer, read: Math.round(read) });
      }
    }
  });
});
