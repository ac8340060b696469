/**
 * The estimator's figures for the two reference configurations, its run time, and a
 * what-if on the on-chip buffers (which arrays cost the BRAM and URAM).
 *
 *   m3vit-tiny on zcu104.json (ZCU104, 300 MHz, the linear engine it configures)
 *   m3vit-small-pascal (the paper's ViT-S PASCAL-Context) on the same board and engine
 *
 * Run from the package folder:
 *   npx tsc --outDir dist/bench --target ES2022 --module commonjs --esModuleInterop --skipLibCheck bench/estimate-paper.ts
 *   node dist/bench/bench/estimate-paper.js
 */
import * as path from 'path';
import type { BuildConfig } from '../generator/config/types';
import { estimate } from '../generator/estimate/estimate';
import { hardwarePlan, type BufferSpec, type HardwarePlan } from '../generator/estimate/hardware';
import type { Estimate } from '../generator/estimate/types';
import { buildIR } from '../generator/ir/build';
import type { ModelIR, TaskIR } from '../generator/ir/types';
import { loadModel } from '../generator/model/load';
import { loadProject } from '../generator/project';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MIB = 2 ** 20;

function summary(e: Estimate): void {
  console.log(`\n== ${e.model} on ${e.board} @ ${e.clock_mhz} MHz, PE ${e.parallelism.pe} x SIMD ${e.parallelism.simd} (ESTIMATE)`);
  console.log(`fits: ${e.fits}${e.overflows.length ? ` (${e.overflows.map((o) => `${o.resource} ${o.used}/${o.available}, +${o.over}`).join('; ')})` : ''}`);
  console.log(`resources: ${Object.entries(e.resources).map(([k, v]) => `${k} ${v.used}/${v.available} (${(100 * v.utilization).toFixed(0)}%)`).join(', ')}`);
  console.log(`on chip: ${(e.onchip.total_bytes / MIB).toFixed(3)} MiB, activations ${(e.onchip.activation_bytes / MIB).toFixed(3)} MiB (all BRAM+URAM of the budget: ${(e.onchip.budget_bytes / MIB).toFixed(3)} MiB, activations fit: ${e.onchip.activations_fit})`);
  for (const t of e.tasks) {
    const p = e.per_task[t];
    console.log(`  ${t}: ${p.latency_ms.toFixed(1)} ms (backbone ${p.backbone_ms.toFixed(1)}, head ${p.head_ms.toFixed(1)}), DDR ${(p.ddr_read_bytes / MIB).toFixed(1)} MiB read, ${(p.ddr_write_bytes / MIB).toFixed(1)} MiB written, ${p.energy_mj.toFixed(0)} mJ at ${e.power_w} W, engine busy ${(100 * p.engine_utilization).toFixed(0)}%`);
  }
  const byKind = new Map<string, number>();
  const t0 = e.tasks[0];
  for (const l of e.layers.filter((x) => x.scope === 'backbone' || x.scope === `task:${t0}`)) byKind.set(l.kind, (byKind.get(l.kind) ?? 0) + l.cycles / (e.clock_mhz * 1e3));
  console.log(`  ${t0} by layer kind (ms): ${[...byKind].filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  for (const [s, f] of Object.entries(e.moe.total)) {
    console.log(`  MoE ${s}: on-chip expert weights ${(f.onchip_weight_bytes / MIB).toFixed(3)} MiB, expert weights from DDR ${(f.expert_weight_ddr_bytes / MIB).toFixed(1)} MiB/inference, ${f.expert_loads.toFixed(1)} loads, ${(f.cycles / (e.clock_mhz * 1e3)).toFixed(1)} ms`);
  }
  for (const r of e.paper?.rows ?? []) console.log(`  paper vs ours: ${r.figure}: paper ${r.paper} | ours ${r.ours}`);
}

/** URAM / BRAM of a plan with some buffers rewritten (what-if). */
function whatIf(ir: ModelIR, tasks: TaskIR[], config: BuildConfig, label: string, edit: (b: BufferSpec[]) => BufferSpec[]): void {
  const base = hardwarePlan(ir, tasks, config);
  const plan: HardwarePlan = { ...base, buffers: edit(base.buffers.map((b) => ({ ...b }))) };
  const e = estimate(ir, tasks, config, plan);
  console.log(`  ${label.padEnd(70)} URAM ${String(e.resources.URAM.used).padStart(4)}/${e.resources.URAM.available}  BRAM_18K ${String(e.resources.BRAM_18K.used).padStart(5)}/${e.resources.BRAM_18K.available}  fits ${e.fits}`);
}

function main(): void {
  const tiny = loadProject(path.join(ROOT, 'zcu104.json'));
  const t0 = process.hrtime.bigint();
  const runs = 20;
  let e: Estimate | undefined;
  for (let i = 0; i < runs; i++) e = estimate(tiny.ir, tiny.tasks, tiny.config);
  const msPerRun = Number(process.hrtime.bigint() - t0) / 1e6 / runs;
  summary(e!);

  const model = loadModel(path.join(ROOT, 'models/m3vit-small-pascal.ts'));
  const ir = buildIR(model.spec);
  const pascalConfig: BuildConfig = { ...tiny.config, name: 'm3vit_small_pascal' };
  const t1 = process.hrtime.bigint();
  const p = estimate(ir, ir.tasks, pascalConfig);
  const msPascal = Number(process.hrtime.bigint() - t1) / 1e6;
  summary(p);
  console.log(`\nestimator run time: m3vit-tiny ${msPerRun.toFixed(1)} ms (mean of ${runs}), ViT-S PASCAL ${msPascal.toFixed(1)} ms (one run, includes the Markov chains)`);

  console.log('\n== what-if on the on-chip buffers (resources only; cycles as generated):');
  const withoutActivations = (bs: BufferSpec[]): BufferSpec[] => bs.filter((b) => b.group !== 'activations');
  whatIf(tiny.ir, tiny.tasks, tiny.config, 'm3vit-tiny as generated', (b) => b);
  whatIf(ir, ir.tasks, pascalConfig, 'ViT-S PASCAL as generated', (b) => b);
  whatIf(ir, ir.tasks, pascalConfig, 'ViT-S PASCAL without X, Y, A, H, Qh/Kh/Vh, ACC (in DDR)', withoutActivations);
}

main();
