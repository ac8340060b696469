/**
 * `m3vit-gen report <project-folder>`: what the tools reported, side by side with the
 * estimator's figures. Reads tcl/flow.json (where the reports are, the board budget and
 * clock), then whichever exist of: csynth.xml, the cosim report, Vivado's utilisation and
 * timing reports, report/estimate.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import { RESOURCE_CLASSES, type BoardResources, type ResourceClass } from '../config/types';
import { LAYOUT } from '../emit/layout';
import type { FlowManifest } from '../flow/stage';
import { UserError } from '../util/errors';
import { readJsonFile } from '../util/json';
import { readUserText } from '../util/read-file';
import { allowed, COUNT, MILLISECONDS, type NumberRule } from './checked';
import { parseCosimReport, type CosimRow } from './cosim';
import { checkFlowManifest } from './flow-manifest';
import { parseCsynthXml, ReportFormatError, type CsynthReport } from './csynth';
import { parseTimingSummary, parseUtilization, type TimingSummary, type Utilization } from './vivado';

export interface EstimateFigures {
  resources: Partial<Record<ResourceClass, number>>;
  latencyMs: Record<string, number>;
}

export interface ReportData {
  name: string;
  board: string;
  part: string;
  clockMHz: number;
  budget: Partial<BoardResources>;
  /** Relative paths of the files read, for the printout. */
  files: { csynth?: string; cosim?: string; utilization?: string; timing?: string; estimate?: string };
  csynth?: CsynthReport;
  cosim?: CosimRow[];
  utilization?: Utilization;
  timing?: TimingSummary;
  estimate?: EstimateFigures;
}

function readJson(file: string, shown: string): unknown {
  return readJsonFile(file, 'json', shown);
}

/**
 * estimate.json as the estimator writes it: resources.<class>.used (or resources.used.<class>),
 * latency_ms.<task>. Wrong types or values out of range are a UserError naming `shown` and
 * the field (a latency_ms array used to print tasks named "0" and "1").
 */
export function readEstimate(json: unknown, shown = 'estimate.json'): EstimateFigures {
  const out: EstimateFigures = { resources: {}, latencyMs: {} };
  const problems: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const check = (v: unknown, field: string, rule: NumberRule): number | undefined => {
    if (typeof v === 'number' && allowed(v, rule)) return v;
    problems.push(`${field}: ${JSON.stringify(v) ?? 'nothing'} is not ${rule.what}`);
    return undefined;
  };
  if (!isObject(json)) throw new UserError(shown, ['/: must be an object (the estimator\'s estimate.json)']);
  const res = json.resources ?? {};
  if (!isObject(res)) problems.push('/resources: must be an object of resource class -> { used, ... }');
  else {
    for (const cls of RESOURCE_CLASSES) {
      const nested = isObject(res[cls]);
      const v = nested ? (res[cls] as Record<string, unknown>).used : isObject(res.used) ? res.used[cls] : undefined;
      if (v === undefined) continue;
      const n = check(v, nested ? `/resources/${cls}/used` : `/resources/used/${cls}`, COUNT);
      if (n !== undefined) out.resources[cls] = n;
    }
  }
  const lat = json.latency_ms ?? {};
  const tasks = Array.isArray(json.tasks) && json.tasks.every((t) => typeof t === 'string') ? (json.tasks as string[]) : undefined;
  if (json.tasks !== undefined && !tasks) problems.push('/tasks: must be an array of task names');
  if (!isObject(lat)) problems.push(`/latency_ms: must be an object of task name -> ms (got ${Array.isArray(lat) ? 'an array' : JSON.stringify(lat)})`);
  else {
    for (const [t, ms] of Object.entries(lat)) {
      if (tasks && !tasks.includes(t)) problems.push(`/latency_ms/${t}: not one of the estimate's tasks (${tasks.join(', ')})`);
      const n = check(ms, `/latency_ms/${t}`, MILLISECONDS);
      if (n !== undefined) out.latencyMs[t] = n;
    }
  }
  if (problems.length > 0) throw new UserError(shown, problems, `not an estimate the estimator writes (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  return out;
}

/** Finds the csynth report of a folder without tcl/flow.json (an HLS project of one's own). */
function findCsynth(dir: string, depth = 6): string | undefined {
  if (depth < 0) return undefined;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const here = path.join(dir, 'csynth.xml');
  if (entries.some((e) => e.isFile() && e.name === 'csynth.xml') && /syn[\\/]report$/.test(dir)) return here;
  for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const f = findCsynth(path.join(dir, e.name), depth - 1);
    if (f) return f;
  }
  return undefined;
}

export function collectReport(projectDir: string, shownDir = projectDir): ReportData {
  if (!fs.existsSync(projectDir) || !fs.statSync(projectDir).isDirectory()) {
    throw new UserError(shownDir, ['is not a folder; give the generated project folder (hls-out/<name>)']);
  }
  const shown = (rel: string): string => path.join(shownDir, rel);
  const manifestFile = path.join(projectDir, LAYOUT.flowManifest);
  let m: FlowManifest | undefined;
  if (fs.existsSync(manifestFile)) m = checkFlowManifest(readJson(manifestFile, shown(LAYOUT.flowManifest)), shown(LAYOUT.flowManifest));

  const data: ReportData = {
    name: m?.name ?? path.basename(path.resolve(projectDir)),
    board: m?.board.name ?? '?',
    part: m?.board.part ?? '?',
    clockMHz: m?.clockMHz ?? NaN,
    budget: m?.board.resources ?? {},
    files: {},
  };

  const csynthRel = m ? m.hls.csynthXml : (() => {
    const f = findCsynth(projectDir);
    return f ? path.relative(projectDir, f) : undefined;
  })();
  if (csynthRel && fs.existsSync(path.join(projectDir, csynthRel))) {
    try {
      data.csynth = parseCsynthXml(readUserText(path.join(projectDir, csynthRel), 'report', shown(csynthRel)));
    } catch (e) {
      if (e instanceof ReportFormatError) throw new UserError(shown(csynthRel), [e.message]);
      throw e;
    }
    data.files.csynth = csynthRel;
    if (!m) {
      data.part = data.csynth.part ?? '?';
      if (data.csynth.targetClockNs) data.clockMHz = 1000 / data.csynth.targetClockNs;
      data.budget = { ...data.csynth.available };
    }
  }
  const optional = <T>(rel: string | undefined, parse: (t: string) => T): T | undefined => {
    if (!rel || !fs.existsSync(path.join(projectDir, rel))) return undefined;
    const text = readUserText(path.join(projectDir, rel), 'report', shown(rel));
    try {
      return parse(text);
    } catch (e) {
      if (e instanceof ReportFormatError) throw new UserError(shown(rel), [e.message]);
      throw e;
    }
  };
  if (m) {
    data.cosim = optional(m.hls.cosimReport, parseCosimReport);
    if (data.cosim) data.files.cosim = m.hls.cosimReport;
    data.utilization = optional(m.vivado.utilizationReport, parseUtilization);
    if (data.utilization) data.files.utilization = m.vivado.utilizationReport;
    data.timing = optional(m.vivado.timingReport, parseTimingSummary);
    if (data.timing) data.files.timing = m.vivado.timingReport;
  }
  const estRel = m?.estimate ?? `${LAYOUT.reportDir}/estimate.json`;
  if (fs.existsSync(path.join(projectDir, estRel))) {
    data.estimate = readEstimate(readJson(path.join(projectDir, estRel), shown(estRel)), shown(estRel));
    data.files.estimate = estRel;
  }
  if (!data.csynth && !data.utilization && !data.estimate) {
    throw new UserError(shownDir, [
      `no reports yet: neither ${data.files.csynth ?? csynthRel ?? '<solution>/syn/report/csynth.xml'} nor ${LAYOUT.reportDir}/estimate.json exists; run \`make csynth\` in the project folder first (needs Vitis HLS)`,
    ]);
  }
  return data;
}

// --- printing ---------------------------------------------------------------------------------

const int = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '?' : Math.round(v).toLocaleString('en-US'));
const fix = (v: number | undefined, d: number): string => (v === undefined || !Number.isFinite(v) ? '?' : v.toFixed(d));
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || !(b > 0) ? '' : (a / b).toFixed(2));
const pct = (used: number | undefined, avail: number | undefined): string =>
  used === undefined || avail === undefined || !(avail > 0) ? '' : `${((100 * used) / avail).toFixed(1)}%`;

function table(header: string[], rows: string[][]): string[] {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => `  ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Milliseconds for a cycle count at the report's clock. */
function ms(cycles: number | undefined, periodNs: number | undefined): number | undefined {
  return cycles === undefined || periodNs === undefined ? undefined : (cycles * periodNs) / 1e6;
}

export function formatReport(d: ReportData): string {
  const out: string[] = [];
  const periodNs = d.csynth?.targetClockNs ?? (Number.isFinite(d.clockMHz) ? 1000 / d.clockMHz : undefined);
  out.push(`${d.name}: ${d.board} (${d.part}), clock ${fix(d.clockMHz, Number.isInteger(d.clockMHz) ? 0 : 3)} MHz`);

  const c = d.csynth;
  if (c) {
    out.push('');
    out.push(`C synthesis (${d.files.csynth}${c.toolVersion ? `, ${c.toolVersion}` : ''})`);
    const est = c.estimatedClockNs;
    const target = c.targetClockNs;
    const met = est !== undefined && target !== undefined ? (est <= target - (c.clockUncertaintyNs ?? 0) ? 'met' : 'NOT met (after the uncertainty)') : '';
    out.push(`  clock     target ${fix(target, 3)} ns, estimated ${fix(est, 3)} ns (${fix(est ? 1000 / est : undefined, 1)} MHz), uncertainty ${fix(c.clockUncertaintyNs, 3)} ns${met ? `: ${met}` : ''}`);
    out.push(`  latency   best ${int(c.latency.best)} cycles (${fix(ms(c.latency.best, periodNs), 3)} ms), worst ${int(c.latency.worst)} cycles (${fix(ms(c.latency.worst, periodNs), 3)} ms)`);
    out.push(`  interval  min ${int(c.interval.min)}, max ${int(c.interval.max)} cycles`);
    if (c.latency.worst === undefined) out.push('  (latency "?": a loop without a trip count; the estimate and cosim give figures)');
  }

  // Resources: synthesis, implementation, estimate, against the board budget.
  const classes = RESOURCE_CLASSES;
  const hasEst = d.estimate && Object.keys(d.estimate.resources).length > 0;
  if (c || d.utilization || hasEst) {
    out.push('');
    out.push(`Resources (budget: the config's board.resources for ${d.board})`);
    const header = ['resource', 'budget'];
    if (c) header.push('csynth', 'util');
    if (d.utilization) header.push('implemented', 'util');
    if (hasEst) header.push('estimate');
    if (hasEst && c) header.push('est/csynth');
    if (hasEst && d.utilization) header.push('est/impl');
    const rows = classes.map((cls) => {
      const b = d.budget[cls];
      const r = [cls, int(b)];
      if (c) r.push(int(c.resources[cls]), pct(c.resources[cls], b));
      if (d.utilization) r.push(int(d.utilization[cls]?.used), pct(d.utilization[cls]?.used, b));
      if (hasEst) r.push(int(d.estimate!.resources[cls]));
      if (hasEst && c) r.push(ratio(d.estimate!.resources[cls], c.resources[cls]));
      if (hasEst && d.utilization) r.push(ratio(d.estimate!.resources[cls], d.utilization[cls]?.used));
      return r;
    });
    out.push(...table(header, rows));
    const over = classes.filter((cls) => {
      const used = d.utilization?.[cls]?.used ?? c?.resources[cls];
      const b = d.budget[cls];
      return used !== undefined && b !== undefined && used > b;
    });
    if (over.length > 0) out.push(`  over the budget: ${over.join(', ')}`);
  }

  const verilog = d.cosim?.find((r) => r.status !== 'NA');
  if (d.cosim) {
    out.push('');
    if (verilog) {
      out.push(`C/RTL co-simulation (${d.files.cosim}): ${verilog.rtl} ${verilog.status}`);
      out.push(`  latency   min ${int(verilog.latency.min)}, avg ${int(verilog.latency.avg)}, max ${int(verilog.latency.max)} cycles (avg ${fix(ms(verilog.latency.avg, periodNs), 3)} ms)`);
      out.push(`  total     ${int(verilog.totalCycles)} cycles for the whole testbench`);
    } else {
      out.push(`C/RTL co-simulation (${d.files.cosim}): no RTL was simulated`);
    }
  }

  if (d.timing) {
    out.push('');
    const t = d.timing;
    const ok = t.wnsNs !== undefined ? (t.wnsNs >= 0 && (t.whsNs ?? 0) >= 0 ? 'timing met' : 'timing NOT met') : 'no design timing summary found';
    out.push(`Vivado implementation (${d.files.timing}): ${ok}`);
    out.push(`  setup WNS ${fix(t.wnsNs, 3)} ns, TNS ${fix(t.tnsNs, 3)} ns (${int(t.failingSetupEndpoints)} failing endpoints); hold WHS ${fix(t.whsNs, 3)} ns`);
    for (const k of t.clocks) out.push(`  clock ${k.name}: ${fix(k.periodNs, 3)} ns, ${fix(k.freqMHz, 3)} MHz`);
  }

  if (d.estimate && Object.keys(d.estimate.latencyMs).length > 0) {
    out.push('');
    out.push('Latency per task: estimate vs synthesis (csynth: one figure for all tasks, best..worst case)');
    const header = ['task', 'estimate ms'];
    if (c) header.push('csynth ms', 'est/worst');
    if (verilog) header.push('cosim avg ms', 'est/cosim');
    const rows = Object.entries(d.estimate.latencyMs).map(([task, e]) => {
      const r = [task, fix(e, 3)];
      const worst = ms(c?.latency.worst, periodNs);
      if (c) r.push(`${fix(ms(c.latency.best, periodNs), 3)}..${fix(worst, 3)}`, ratio(e, worst));
      const co = ms(verilog?.latency.avg, periodNs);
      if (verilog) r.push(fix(co, 3), ratio(e, co));
      return r;
    });
    out.push(...table(header, rows));
  }
  if (!c) {
    out.push('');
    out.push('No C-synthesis report yet: run `make csynth` in the project folder (needs Vitis HLS).');
  }
  return out.join('\n');
}
