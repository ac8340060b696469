/**
 * Chart geometry for report.html: every SVG element is computed here, so that the
 * template only loops over rects, lines, circles, paths and texts. Coordinates are rounded
 * to 0.1 px so that the report is byte-identical for identical inputs.
 */
import { cyclesToMs } from './formulas';
import { PAPER } from './paper';
import type { Estimate, LayerEstimate, SchedulerName } from './types';

export interface Rect { x: number; y: number; w: number; h: number; fill: string; tip: string }
export interface Line { x1: number; y1: number; x2: number; y2: number; stroke: string; width: number; dash: string }
export interface Circle { cx: number; cy: number; r: number; fill: string; tip: string }
export interface Path { d: string; stroke: string; width: number; fill: string }
export interface Text { x: number; y: number; text: string; anchor: 'start' | 'middle' | 'end'; size: number; fill: string; weight: string }

export interface Chart {
  id: string;
  title: string;
  caption: string;
  width: number;
  height: number;
  rects: Rect[];
  lines: Line[];
  circles: Circle[];
  paths: Path[];
  texts: Text[];
}

const r1 = (v: number): number => Math.round(v * 10) / 10;
const MIB = 1024 * 1024;

class Canvas {
  rects: Rect[] = [];
  lines: Line[] = [];
  circles: Circle[] = [];
  paths: Path[] = [];
  texts: Text[] = [];
  rect(x: number, y: number, w: number, h: number, fill: string, tip: string): void {
    this.rects.push({ x: r1(x), y: r1(y), w: r1(Math.max(w, 0)), h: r1(Math.max(h, 0)), fill, tip });
  }
  line(x1: number, y1: number, x2: number, y2: number, stroke = '#888', width = 1, dash = ''): void {
    this.lines.push({ x1: r1(x1), y1: r1(y1), x2: r1(x2), y2: r1(y2), stroke, width, dash });
  }
  text(x: number, y: number, text: string, o: Partial<Omit<Text, 'x' | 'y' | 'text'>> = {}): void {
    this.texts.push({ x: r1(x), y: r1(y), text, anchor: o.anchor ?? 'start', size: o.size ?? 11, fill: o.fill ?? '#222', weight: o.weight ?? 'normal' });
  }
  chart(id: string, title: string, caption: string, width: number, height: number): Chart {
    return { id, title, caption, width, height, rects: this.rects, lines: this.lines, circles: this.circles, paths: this.paths, texts: this.texts };
  }
}

/** Round axis steps: 1, 2, 5 x 10^n. */
export function niceStep(range: number, ticks: number): number {
  if (range <= 0) return 1;
  const raw = range / ticks;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));

// Layer categories of the latency chart (colour-blind-safe palette, Okabe-Ito).
const CATEGORIES: Array<{ name: string; color: string; match: (l: LayerEstimate) => boolean }> = [
  { name: 'LayerNorm', color: '#999999', match: (l) => l.kind === 'layernorm' },
  { name: 'qkv / proj / fc', color: '#0072B2', match: (l) => l.kind === 'linear' || l.kind === 'patch_embed' },
  { name: 'attention core', color: '#E69F00', match: (l) => l.kind === 'attention' },
  { name: 'MoE gate', color: '#CC79A7', match: (l) => l.kind === 'moe_gate' },
  { name: 'MoE experts', color: '#D55E00', match: (l) => l.kind === 'moe_experts' },
  { name: 'conv', color: '#009E73', match: (l) => l.kind === 'conv3x3' || l.kind === 'conv1x1' },
  { name: 'streaming passes', color: '#56B4E9', match: () => true },
];
const category = (l: LayerEstimate): (typeof CATEGORIES)[number] => CATEGORIES.find((c) => c.match(l))!;

/** Per-layer latency of one task's pathway: one row per block (segments per layer), one
 * row per head layer. */
export function latencyChart(est: Estimate, task: string): Chart {
  const clock = est.clock_mhz;
  const run = est.layers.filter((l) => l.cycles > 0 && (l.scope === 'backbone' || l.scope === `task:${task}`));
  const rows: Array<{ label: string; layers: LayerEstimate[] }> = [];
  for (const l of run) {
    const label = l.block !== undefined ? `block ${l.block}` : l.layer.replace(`head.${task}.`, `head: `);
    const last = rows[rows.length - 1];
    if (last && last.label === label) last.layers.push(l);
    else rows.push({ label, layers: [l] });
  }
  const rowMs = rows.map((r) => r.layers.reduce((s, l) => s + cyclesToMs(l.cycles, clock), 0));
  const maxMs = Math.max(...rowMs, 1e-9);
  const left = 150;
  const right = 90;
  const width = 1100;
  const top = 40;
  const rowH = 18;
  const plotW = width - left - right;
  const height = top + rows.length * rowH + 60;
  const cv = new Canvas();
  const step = niceStep(maxMs, 6);
  const xmax = Math.ceil(maxMs / step) * step;
  const x = (ms: number): number => left + (ms / xmax) * plotW;
  for (let t = 0; t <= xmax + 1e-12; t += step) {
    cv.line(x(t), top - 4, x(t), top + rows.length * rowH, '#ddd');
    cv.text(x(t), top - 8, fmt(t), { anchor: 'middle', size: 10, fill: '#555' });
  }
  cv.text(left + plotW / 2, top - 24, `milliseconds per row (estimate), task ${task}`, { anchor: 'middle', size: 11 });
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    cv.text(left - 6, y + rowH * 0.7, r.label, { anchor: 'end', size: 10 });
    let acc = 0;
    for (const l of r.layers) {
      const ms = cyclesToMs(l.cycles, clock);
      const c = category(l);
      cv.rect(x(acc), y + 2, x(acc + ms) - x(acc), rowH - 4, c.color, `${l.layer}: ${fmt(ms)} ms (${l.roofline.bound}-bound)`);
      acc += ms;
    }
    cv.text(x(acc) + 4, y + rowH * 0.7, `${fmt(acc)} ms`, { size: 10, fill: '#555' });
  });
  const ly = top + rows.length * rowH + 24;
  let lx = left;
  for (const c of CATEGORIES) {
    cv.rect(lx, ly - 9, 10, 10, c.color, c.name);
    cv.text(lx + 14, ly, c.name, { size: 10 });
    lx += 24 + c.name.length * 6.2;
  }
  const total = rowMs.reduce((s, v) => s + v, 0);
  return cv.chart('latency', 'Latency per layer', `Estimated ${fmt(total)} ms for one ${task} inference at ${clock} MHz; each bar is a block (segments: its layers) or a head layer.`, width, height);
}

/** Resources used against the board budget, as a fraction of it. */
export function resourcesChart(est: Estimate): Chart {
  const classes = Object.keys(est.resources) as Array<keyof Estimate['resources']>;
  const left = 110;
  const width = 1100;
  const right = 260;
  const top = 34;
  const rowH = 30;
  const plotW = width - left - right;
  const maxU = Math.max(1, ...classes.map((c) => est.resources[c].utilization));
  const step = niceStep(maxU * 100, 5);
  const xmaxPct = Math.ceil((maxU * 100) / step) * step;
  const x = (pct: number): number => left + (pct / xmaxPct) * plotW;
  const height = top + classes.length * rowH + 30;
  const cv = new Canvas();
  for (let t = 0; t <= xmaxPct + 1e-9; t += step) {
    cv.line(x(t), top - 4, x(t), top + classes.length * rowH, '#ddd');
    cv.text(x(t), top - 8, `${fmt(t)}%`, { anchor: 'middle', size: 10, fill: '#555' });
  }
  classes.forEach((c, i) => {
    const f = est.resources[c];
    const y = top + i * rowH;
    const pct = f.utilization * 100;
    cv.text(left - 8, y + rowH * 0.62, c, { anchor: 'end', size: 11, weight: 'bold' });
    cv.rect(left, y + 5, x(Math.min(pct, 100)) - left, rowH - 10, '#0072B2', `${c}: ${f.used} of ${f.available}`);
    if (pct > 100) cv.rect(x(100), y + 5, x(pct) - x(100), rowH - 10, '#D55E00', `${c}: over by ${f.used - f.available}`);
    cv.text(x(Math.max(pct, 0)) + 6, y + rowH * 0.62, `${f.used.toLocaleString('en-US')} / ${f.available.toLocaleString('en-US')} (${pct.toFixed(0)}%)`, { size: 10 });
  });
  cv.line(x(100), top - 4, x(100), top + classes.length * rowH, '#D55E00', 2, '4 3');
  cv.text(x(100), top + classes.length * rowH + 16, 'budget', { anchor: 'middle', size: 10, fill: '#D55E00' });
  return cv.chart(
    'resources',
    'Resources against the board budget',
    `${est.fits ? 'Fits' : 'Does NOT fit'} the ${est.board} budget of the config (estimate; red = over budget).`,
    width,
    height,
  );
}

/** Roofline: achieved GMAC/s of each layer against its arithmetic intensity (MACs per DDR
 * byte), under the roofs of the linear engine and of the weights port. */
export function rooflineChart(est: Estimate): Chart {
  const f = est.clock_mhz * 1e6;
  const engine = (est.roofline.engine_macs_per_cycle * f) / 1e9;
  const board = (est.roofline.peak_macs_per_cycle * f) / 1e9;
  const bw = (est.roofline.weights_port_bytes_per_cycle * f) / 1e9;
  const pts = est.layers
    .filter((l) => l.roofline.intensity !== null && l.macs > 0 && l.cycles > 0)
    .map((l) => ({ l, xi: l.roofline.intensity as number, y: l.macs / (l.cycles / f) / 1e9 }));
  const xs = pts.map((p) => p.xi);
  const ys = pts.map((p) => p.y);
  const lx0 = Math.floor(Math.log10(Math.min(...xs, engine / bw) / 2));
  const lx1 = Math.ceil(Math.log10(Math.max(...xs, engine / bw) * 2));
  const ly0 = Math.floor(Math.log10(Math.min(...ys, bw * 10 ** lx0, engine) / 2));
  const ly1 = Math.ceil(Math.log10(board * 1.5));
  const left = 70;
  const top = 30;
  const width = 1100;
  const height = 520;
  const plotW = width - left - 220;
  const plotH = height - top - 60;
  const X = (v: number): number => left + ((Math.log10(v) - lx0) / (lx1 - lx0)) * plotW;
  const Y = (v: number): number => top + plotH - ((Math.log10(v) - ly0) / (ly1 - ly0)) * plotH;
  const cv = new Canvas();
  for (let e = lx0; e <= lx1; e++) {
    cv.line(X(10 ** e), top, X(10 ** e), top + plotH, '#e5e5e5');
    cv.text(X(10 ** e), top + plotH + 16, fmt(10 ** e), { anchor: 'middle', size: 10, fill: '#555' });
  }
  for (let e = ly0; e <= ly1; e++) {
    cv.line(left, Y(10 ** e), left + plotW, Y(10 ** e), '#e5e5e5');
    cv.text(left - 6, Y(10 ** e) + 4, fmt(10 ** e), { anchor: 'end', size: 10, fill: '#555' });
  }
  cv.line(left, top + plotH, left + plotW, top + plotH, '#333');
  cv.line(left, top, left, top + plotH, '#333');
  cv.text(left + plotW / 2, height - 12, 'arithmetic intensity (MACs per DDR byte)', { anchor: 'middle', size: 11 });
  cv.text(left, top - 12, 'GMAC/s achieved', { anchor: 'start', size: 11 });
  // Roofs: min(engine peak, bandwidth x intensity), and the whole board's DSPs dashed.
  const xa = 10 ** lx0;
  const xb = 10 ** lx1;
  const knee = engine / bw;
  cv.paths.push({ d: `M${r1(X(xa))},${r1(Y(bw * xa))} L${r1(X(knee))},${r1(Y(engine))} L${r1(X(xb))},${r1(Y(engine))}`, stroke: '#0072B2', width: 2.5, fill: 'none' });
  cv.line(X(board / bw), Y(board), X(xb), Y(board), '#999', 1.5, '6 4');
  cv.line(X(xa), Y(bw * xa), X(board / bw), Y(board), '#999', 1.5, '6 4');
  cv.text(X(xb) - 4, Y(engine) - 6, `linear engine ${fmt(engine)} GMAC/s`, { anchor: 'end', size: 10, fill: '#0072B2' });
  cv.text(X(xb) - 4, Y(board) - 6, `all ${est.roofline.peak_macs_per_cycle} DSPs ${fmt(board)} GMAC/s`, { anchor: 'end', size: 10, fill: '#777' });
  cv.text(X(xa) + 4, Y(bw * xa) - 8, `weights port ${fmt(bw)} GB/s`, { size: 10, fill: '#0072B2' });
  const colors: Record<string, string> = { linear: '#0072B2', conv: '#009E73', moe: '#D55E00', stream: '#56B4E9', layernorm: '#999999', attention: '#E69F00', fused: '#000' };
  for (const p of pts) {
    cv.circles.push({ cx: r1(X(p.xi)), cy: r1(Y(p.y)), r: 4, fill: colors[p.l.engine], tip: `${p.l.layer}: ${fmt(p.xi)} MAC/B, ${fmt(p.y)} GMAC/s, ${(100 * p.l.roofline.efficiency).toFixed(0)}% of its bound` });
  }
  let ly = top + 10;
  for (const [engineName, color] of Object.entries(colors).filter(([k]) => pts.some((p) => p.l.engine === k))) {
    cv.circles.push({ cx: left + plotW + 30, cy: ly, r: 4, fill: color, tip: engineName });
    cv.text(left + plotW + 40, ly + 4, engineName, { size: 10 });
    ly += 18;
  }
  return cv.chart(
    'roofline',
    'Roofline',
    'Each point is a layer with DDR traffic (estimate). Layers without DDR traffic (attention core, LayerNorm) have no finite intensity and are listed in the table only.',
    width,
    height,
  );
}

/** Reordering comparison: on-chip memory and expert-weight DDR traffic per scheduler. */
export function reorderingChart(est: Estimate): Chart | undefined {
  if (est.moe.layers.length === 0) return undefined;
  const nonExpert = est.buffers.filter((b) => b.group !== 'expert weights').reduce((s, b) => s + b.bytes, 0) / MIB;
  const slots = est.expert_cache_slots;
  const names: Array<[SchedulerName, string, string]> = [
    ['expert-major', 'expert-major', '#009E73'],
    ['token-major', `token-major (${slots})`, '#E69F00'],
    ['all-on-chip', 'all on chip', '#D55E00'],
  ];
  const mem: Array<{ label: string; base: number; expert: number; color: string }> = names.map(([s, label, color]) => ({
    label,
    base: nonExpert,
    expert: est.moe.total[s].onchip_weight_bytes / MIB,
    color,
  }));
  if (est.paper) {
    mem.push({ label: 'paper: reordered', base: 0, expert: PAPER.reorderedMemoryMiB, color: '#777' });
    mem.push({ label: 'paper: naive', base: 0, expert: PAPER.naiveMemoryMiB, color: '#444' });
  }
  const traffic = names.map(([s, label, color]) => ({ label, v: est.moe.total[s].expert_weight_ddr_bytes / MIB, color }));
  const width = 1100;
  const height = 380;
  const top = 50;
  const plotH = 240;
  const cv = new Canvas();
  // Left panel: on-chip memory (linear scale).
  const lx = 70;
  const lw = 440;
  const maxMem = Math.max(...mem.map((m) => m.base + m.expert), 1e-9);
  const mstep = niceStep(maxMem, 5);
  const mmax = Math.ceil(maxMem / mstep) * mstep;
  const my = (v: number): number => top + plotH - (v / mmax) * plotH;
  for (let t = 0; t <= mmax + 1e-9; t += mstep) {
    cv.line(lx, my(t), lx + lw, my(t), '#e5e5e5');
    cv.text(lx - 6, my(t) + 4, fmt(t), { anchor: 'end', size: 10, fill: '#555' });
  }
  cv.text(lx + lw / 2, top - 22, 'on-chip memory, MiB (grey: non-expert buffers)', { anchor: 'middle', size: 11, weight: 'bold' });
  const bw = lw / mem.length;
  mem.forEach((m, i) => {
    const x0 = lx + i * bw + bw * 0.2;
    const w = bw * 0.6;
    cv.rect(x0, my(m.base), w, my(0) - my(m.base), '#bbbbbb', `${m.label}: ${fmt(m.base)} MiB non-expert buffers`);
    cv.rect(x0, my(m.base + m.expert), w, my(m.base) - my(m.base + m.expert), m.color, `${m.label}: ${fmt(m.expert)} MiB`);
    cv.text(x0 + w / 2, my(m.base + m.expert) - 4, fmt(m.base + m.expert), { anchor: 'middle', size: 10 });
    cv.text(x0 + w / 2, top + plotH + 14, m.label, { anchor: 'middle', size: 9 });
  });
  cv.line(lx, top + plotH, lx + lw, top + plotH, '#333');
  // Right panel: expert weight DDR traffic per inference (log scale: token-major is orders larger).
  const rx = 620;
  const rw = 420;
  const vals = traffic.map((t) => t.v).filter((v) => v > 0);
  const l0 = Math.floor(Math.log10(Math.min(...vals, 1)));
  const l1 = Math.ceil(Math.log10(Math.max(...vals, 10)));
  const ry = (v: number): number => top + plotH - ((Math.log10(Math.max(v, 10 ** l0)) - l0) / (l1 - l0)) * plotH;
  for (let e = l0; e <= l1; e++) {
    cv.line(rx, ry(10 ** e), rx + rw, ry(10 ** e), '#e5e5e5');
    cv.text(rx - 6, ry(10 ** e) + 4, fmt(10 ** e), { anchor: 'end', size: 10, fill: '#555' });
  }
  cv.text(rx + rw / 2, top - 22, 'expert weights read from DDR per inference, MiB (log)', { anchor: 'middle', size: 11, weight: 'bold' });
  const tw = rw / traffic.length;
  traffic.forEach((t, i) => {
    const x0 = rx + i * tw + tw * 0.2;
    const w = tw * 0.6;
    cv.rect(x0, ry(t.v), w, ry(10 ** l0) - ry(t.v), t.color, `${t.label}: ${fmt(t.v)} MiB`);
    cv.text(x0 + w / 2, ry(t.v) - 4, fmt(t.v), { anchor: 'middle', size: 10 });
    cv.text(x0 + w / 2, top + plotH + 14, t.label, { anchor: 'middle', size: 9 });
  });
  cv.line(rx, top + plotH, rx + rw, top + plotH, '#333');
  return cv.chart(
    'reordering',
    'MoE computation reordering',
    `Expert-major keeps 2 experts on chip whatever E is and reads each used expert once per layer; token-major (LRU cache of ${slots}) traffic follows tokens x top-k (uniform random routing model, expected values).${est.paper ? ' Paper bars: total on-chip memory of Table 4.' : ''}`,
    width,
    height,
  );
}
