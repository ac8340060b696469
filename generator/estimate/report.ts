/**
 * report.html and report.md: view-models prepared here (numbers formatted, charts laid
 * out by ./charts.ts), rendered by templates/report/*.hbs. The HTML is self-contained:
 * inline CSS and SVG, no script, no network.
 */
import * as fs from 'fs';
import Handlebars from 'handlebars';
import { packageFile } from '../util/package';
import { latencyChart, reorderingChart, resourcesChart, rooflineChart, type Chart } from './charts';
import { cyclesToMs } from './formulas';
import type { Estimate, SchedulerName } from './types';

const MIB = 1024 * 1024;
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const mib = (b: number): string => (b / MIB >= 100 ? (b / MIB).toFixed(0) : (b / MIB).toFixed(2));
const pct = (f: number): string => `${(100 * f).toFixed(0)}%`;

export interface ReportView {
  title: string;
  fits: boolean;
  verdict: string;
  overflows: string[];
  activationNote: string;
  config: Array<{ key: string; value: string }>;
  tasks: Array<{ name: string; latency: string; backbone: string; head: string; read: string; write: string; energy: string; util: string }>;
  taskSwitch: string;
  resources: Array<{ cls: string; used: string; available: string; util: string; over: boolean }>;
  units: Array<{ unit: string; LUT: string; FF: string; DSP: string }>;
  buffers: Array<{ name: string; purpose: string; shape: string; pragmas: string; memory: string; storage: string; blocks: string; kib: string }>;
  layers: Array<{ layer: string; engine: string; ms: string; cycles: string; bound: string; efficiency: string; intensity: string; read: string; note: string }>;
  charts: Chart[];
  hasMoe: boolean;
  moeRows: Array<{ scheduler: string; onchip: string; traffic: string; loads: string; ms: string }>;
  slotSweep: Array<{ slots: string; loads: string; traffic: string }>;
  moeTokens: string;
  routingModel: string;
  hasPaper: boolean;
  paperConfig: string;
  paperRows: Array<{ figure: string; paper: string; ours: string; note: string }>;
  assumptions: string[];
  powerW: string;
}

export function reportView(est: Estimate): ReportView {
  const task0 = est.tasks[0];
  const charts = [latencyChart(est, task0), resourcesChart(est), rooflineChart(est)];
  const reorder = reorderingChart(est);
  if (reorder) charts.push(reorder);
  const overflows = est.overflows.map((o) => `${o.resource}: ${int(o.used)} needed, ${int(o.available)} available (over by ${int(o.over)})`);
  const act = est.onchip;
  const activationNote = act.activations_fit
    ? `Activation buffers: ${mib(act.activation_bytes)} MiB, within the ${mib(act.budget_bytes)} MiB that all BRAM and URAM of the budget hold.`
    : `Activation buffers alone need ${mib(act.activation_bytes)} MiB, more than the ${mib(act.budget_bytes)} MiB that ALL BRAM and URAM of the budget hold (${pct(act.activation_bytes / act.budget_bytes)}): with activations on chip, as the current architecture keeps them, this model cannot fit this board at any parallelism; activations would have to live in DDR scratch.`;
  const schedulerLabel: Record<SchedulerName, string> = {
    'expert-major': 'expert-major (reordered)',
    'token-major': `token-major, LRU cache of ${est.expert_cache_slots}`,
    'all-on-chip': 'all experts on chip (naive)',
  };
  const moeTotal = est.moe.total;
  const configuredMoe = moeTotal[est.scheduler].cycles;
  return {
    title: `${est.model} on ${est.board} at ${est.clock_mhz} MHz`,
    fits: est.fits,
    verdict: est.fits
      ? `Fits the ${est.board} budget (estimate).`
      : `Does NOT fit the ${est.board} budget (estimate): ${overflows.join('; ')}.`,
    overflows,
    activationNote,
    config: [
      { key: 'model', value: est.model },
      { key: 'board / part', value: `${est.board} / ${est.part}` },
      { key: 'clock', value: `${est.clock_mhz} MHz` },
      { key: 'linear engine', value: `PE ${est.parallelism.pe} x SIMD ${est.parallelism.simd} = ${est.parallelism.pe * est.parallelism.simd} MACs/cycle` },
      { key: 'MoE scheduler', value: est.scheduler === 'token-major' ? `token-major, ${est.expert_cache_slots} cache slots` : 'expert-major' },
      { key: 'board power (config)', value: `${est.power_w} W` },
      { key: 'format', value: `${est.format}, m3vit-gen ${est.generator_version}` },
    ],
    tasks: est.tasks.map((t) => {
      const p = est.per_task[t];
      return {
        name: t,
        latency: ms(p.latency_ms),
        backbone: ms(p.backbone_ms),
        head: ms(p.head_ms),
        read: mib(p.ddr_read_bytes),
        write: mib(p.ddr_write_bytes),
        energy: ms(p.energy_mj),
        util: pct(p.engine_utilization),
      };
    }),
    taskSwitch: `Task switch: ${est.task_switch.extra_cycles} extra cycles, ${est.task_switch.extra_ddr_bytes} extra DDR bytes; ${est.task_switch.note}.`,
    resources: (Object.keys(est.resources) as Array<keyof Estimate['resources']>).map((c) => ({
      cls: c,
      used: int(est.resources[c].used),
      available: int(est.resources[c].available),
      util: pct(est.resources[c].utilization),
      over: est.resources[c].used > est.resources[c].available,
    })),
    units: est.units.map((u) => ({ unit: u.unit, LUT: int(u.LUT), FF: int(u.FF), DSP: int(u.DSP) })),
    buffers: est.buffers.map((b) => ({
      name: b.name,
      purpose: b.purpose,
      shape: `${b.copies > 1 ? `${b.copies} x ` : ''}[${b.dims.join('][')}] x ${b.elem_bits} b`,
      pragmas: [b.partition > 1 ? `partition ${b.partition}` : '', b.reshape > 1 ? `reshape ${b.reshape}` : '', b.copies_share_memory ? 'copies stacked' : '']
        .filter((s) => s)
        .join(', '),
      memory: `${b.memories} x ${b.memory_width_bits} b x ${b.memory_depth}`,
      storage: `${b.storage}${b.storage_from === 'kernels' ? ' (bound)' : ' (HLS default)'}`,
      blocks: b.storage === 'bram' ? `${b.BRAM_18K} BRAM_18K` : b.storage === 'uram' ? `${b.URAM} URAM` : `${int(b.LUT)} LUT`,
      kib: (b.bytes / 1024).toFixed(1),
    })),
    layers: est.layers
      .filter((l) => l.cycles > 0)
      .map((l) => ({
        layer: l.layer,
        engine: l.engine,
        ms: ms(cyclesToMs(l.cycles, est.clock_mhz)),
        cycles: int(l.cycles),
        bound: l.roofline.bound,
        efficiency: l.roofline.bound === 'none' ? '' : pct(l.roofline.efficiency),
        intensity: l.roofline.intensity === null ? '' : l.roofline.intensity.toFixed(1),
        read: mib(l.ddr_read_bytes),
        note: l.note ?? '',
      })),
    charts,
    hasMoe: est.moe.layers.length > 0,
    moeRows: (Object.keys(moeTotal) as SchedulerName[]).map((s) => ({
      scheduler: schedulerLabel[s],
      onchip: mib(moeTotal[s].onchip_weight_bytes),
      traffic: mib(moeTotal[s].expert_weight_ddr_bytes),
      loads: moeTotal[s].expert_loads.toFixed(1),
      ms: ms(cyclesToMs(moeTotal[s].cycles, est.clock_mhz)),
    })),
    slotSweep: est.moe.token_major_by_slots.map((r) => ({ slots: String(r.slots), loads: r.expert_loads.toFixed(1), traffic: mib(r.expert_weight_ddr_bytes) })),
    moeTokens: est.moe.layers.length > 0
      ? `${est.moe.layers.length} MoE layers, ${est.moe.layers[0].tokens} tokens, top-${est.moe.layers[0].top_k} of ${est.moe.layers[0].experts} experts, ${mib(est.moe.layers[0].expert_bytes)} MiB per expert; configured scheduler: ${est.scheduler} (${ms(cyclesToMs(configuredMoe, est.clock_mhz))} ms of expert compute per inference).`
      : '',
    routingModel: est.moe.routing_model,
    hasPaper: est.paper !== undefined,
    paperConfig: est.paper?.config ?? '',
    paperRows: est.paper?.rows ?? [],
    assumptions: est.assumptions,
    powerW: String(est.power_w),
  };
}

const env = Handlebars.create();
const templates = new Map<string, HandlebarsTemplateDelegate>();
function template(rel: string, escape: boolean): HandlebarsTemplateDelegate {
  const key = `${rel}:${escape}`;
  let t = templates.get(key);
  if (!t) {
    t = env.compile(fs.readFileSync(packageFile(`templates/report/${rel}`), 'utf8'), { strict: true, noEscape: !escape });
    templates.set(key, t);
  }
  return t;
}

/** report.html: HTML-escaped text, inline SVG charts. */
export function renderReportHtml(est: Estimate): string {
  return template('report.html.hbs', true)(reportView(est));
}

/** report.md: the short version (no charts). */
export function renderReportMd(est: Estimate): string {
  return template('report.md.hbs', false)(reportView(est));
}
