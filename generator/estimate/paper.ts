/**
 * The M³ViT paper's ZCU104 figures (Table 4; ViT-S, PASCAL-Context, 300 MHz, ~10 W) beside
 * ours, for the configuration they describe. The paper's figures are quoted facts; ours
 * are estimates of the architecture this generator emits, which is not the paper's design.
 */
import type { BuildConfig } from '../config/types';
import type { ModelIR } from '../ir/types';
import { cyclesToMs } from './formulas';
import type { Estimate, PaperComparison } from './types';

export const PAPER = {
  source: 'M³ViT (NeurIPS 2022) Table 4, ZCU104 at 300 MHz',
  naiveMemoryMiB: 11.61,
  reorderedMemoryMiB: 4.84,
  cacheLatencyMs: 637.5,
  reorderedLatencyMs: 69.0,
} as const;

/** True for the paper's ViT-S PASCAL-Context model (models/m3vit-small-pascal.ts). */
export function isPaperPascal(ir: ModelIR): boolean {
  const d = ir.dims;
  return (
    d.imageH === 512 && d.imageW === 512 && d.patch === 16 && d.embedDim === 384 && d.depth === 12 && d.heads === 12 &&
    d.moe !== undefined && d.moe.experts === 16 && d.moe.topK === 4 && d.moe.hidden === 384
  );
}

const MIB = 1024 * 1024;
const mib = (b: number): string => `${(b / MIB).toFixed(3)} MiB`;
const ms = (x: number): string => `${x.toFixed(1)} ms`;

export function paperComparison(ir: ModelIR, config: BuildConfig, est: Estimate): PaperComparison | undefined {
  if (!isPaperPascal(ir) || !ir.dims.moe) return undefined;
  const em = est.moe.total['expert-major'];
  const tm = est.moe.total['token-major'];
  const all = est.moe.total['all-on-chip'];
  const configured = est.moe.total[est.scheduler];
  const nonExpert = est.buffers.filter((b) => b.group !== 'expert weights').reduce((s, b) => s + b.bytes, 0);
  const reordered = nonExpert + em.onchip_weight_bytes;
  const naive = nonExpert + all.onchip_weight_bytes;
  const task = est.tasks.includes('semseg') ? 'semseg' : est.tasks[0];
  const t = est.per_task[task];
  const withScheduler = (s: typeof em): { total: number; backbone: number } => {
    const delta = cyclesToMs(s.cycles - configured.cycles, config.clockMHz);
    return { total: t.latency_ms + delta, backbone: t.backbone_ms + delta };
  };
  const r = withScheduler(em);
  const c = withScheduler(tm);
  const slots = config.moe.expertCacheSlots;
  const headMacs = est.layers.filter((l) => l.scope === `task:${task}` && l.kind !== 'moe_gate').reduce((a, l) => a + l.macs, 0);
  const backboneMacs = t.macs - headMacs;
  // The backbone's most expensive kind of layer on this pathway (what a faster design attacks first).
  const byKind = new Map<string, number>();
  for (const l of est.layers.filter((x) => x.scope === 'backbone')) byKind.set(l.kind, (byKind.get(l.kind) ?? 0) + l.cycles);
  const [topKind, topCycles] = [...byKind].sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
  return {
    config: `${ir.dims.name}: ViT-S, 512x512, 16 experts top-4, ${config.board.name} at ${config.clockMHz} MHz, PE ${config.parallelism.pe} x SIMD ${config.parallelism.simd}`,
    rows: [
      {
        figure: 'on-chip memory, all experts on chip (naive)',
        paper: `${PAPER.naiveMemoryMiB.toFixed(3)} MiB`,
        ours: mib(naive),
        note: `ours = ${mib(nonExpert)} of activation, weight-tile and head buffers + ${ir.dims.moe.experts} experts of ${mib(all.onchip_weight_bytes / ir.dims.moe.experts)}`,
      },
      {
        figure: 'on-chip memory, expert-major reordering',
        paper: `${PAPER.reorderedMemoryMiB.toFixed(3)} MiB`,
        ours: mib(reordered),
        note: `ours = the same ${mib(nonExpert)} + 2 experts (ping-pong) of ${mib(em.onchip_weight_bytes / 2)}`,
      },
      {
        figure: 'ratio naive / reordered',
        paper: `${(PAPER.naiveMemoryMiB / PAPER.reorderedMemoryMiB).toFixed(2)}x`,
        ours: `${(naive / reordered).toFixed(2)}x`,
        note: `the paper's difference (6.77 MiB) is 12 experts of 16-bit ViT-S weights (0.5625 MiB each): consistent with a reordered design holding 4 expert buffers and about 2.6 MiB of other memory (our reading); ours holds 2 experts and ${mib(nonExpert)} of other buffers, ${mib(est.onchip.activation_bytes)} of them activations (N = ${ir.dims.tokens} tokens, 48-bit accumulators; ${est.onchip.activations_fit ? 'within' : 'more than'} what the board holds)`,
      },
      {
        figure: `latency, cache-based without reordering (${task})`,
        paper: ms(PAPER.cacheLatencyMs),
        ours: `${ms(c.backbone)} backbone, ${ms(c.total)} with the ${task} head`,
        note: `ours: token-major with an LRU cache of ${slots} experts, ${tm.expert_loads.toFixed(0)} expected expert loads per inference (routing model: with top-${ir.dims.moe.topK} and ${slots} slots almost every lookup misses); the paper's cache design (size, policy) is not described in enough detail to model`,
      },
      {
        figure: `latency, expert-major reordering (${task})`,
        paper: ms(PAPER.reorderedLatencyMs),
        ours: `${ms(r.backbone)} backbone, ${ms(r.total)} with the ${task} head`,
        note: `ours: ${config.parallelism.pe * config.parallelism.simd} MACs per cycle in the shared engine; the paper does not state its parallelism or whether the head runs on the FPGA (Edge-MoE, its follow-up, runs no head)`,
      },
      {
        figure: `backbone (${task} pathway) at the roof of all ${config.board.resources.DSP} DSPs, 1 MAC per DSP per cycle`,
        paper: `${ms(PAPER.reorderedLatencyMs)} needs ${(backboneMacs / (PAPER.reorderedLatencyMs * 1e-3) / 1e9).toFixed(0)} GMAC/s = ${(backboneMacs / (PAPER.reorderedLatencyMs * 1e-3) / (config.clockMHz * 1e6)).toFixed(0)} MACs per cycle`,
        ours: `lower bound ${ms(cyclesToMs(backboneMacs / config.board.resources.DSP, config.clockMHz))}; our ${config.parallelism.pe * config.parallelism.simd}-MAC engine's roof ${ms(cyclesToMs(backboneMacs / (config.parallelism.pe * config.parallelism.simd), config.clockMHz))}`,
        note: `${(backboneMacs / 1e9).toFixed(1)} GMAC per backbone pass (${ir.dims.tokens} tokens): the paper's 69.0 ms is only reachable with most of the DSPs busy every cycle (or packed narrower MACs) and the UpHead left out; ours is a small shared engine; its largest backbone cost is ${topKind} (${ms(cyclesToMs(topCycles, config.clockMHz))})`,
      },
      {
        figure: 'expert weights read from DDR per inference',
        paper: 'not reported',
        ours: `${mib(em.expert_weight_ddr_bytes)} expert-major, ${mib(tm.expert_weight_ddr_bytes)} token-major (${slots} slots), ${mib(all.expert_weight_ddr_bytes)} all-on-chip`,
        note: 'routing model: uniform random top-k',
      },
    ],
  };
}
