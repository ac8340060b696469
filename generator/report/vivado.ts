/**
 * Vivado post-implementation reports: report_utilization (box tables, by the "Site Type",
 * "Used" and "Available" headers) and report_timing_summary (the Design Timing Summary and
 * Clock Summary dash tables, by header).
 */
import type { ResourceClass } from '../config/types';
import { checkedNumber, COUNT, CYCLES, MHZ, PERIOD_NS, ReportFormatError, SLACK_NS, type NumberRule } from './checked';
import { parseBoxTables, parseDashTable } from './tables';

export type Utilization = Partial<Record<ResourceClass, { used: number; available: number }>>;

/** Site types per resource class; synthesised (not placed) designs mark some with `*`.
 * Block RAM is counted in 36 Kb tiles: BRAM_18K = 2 x tiles. */
const SITES: Array<{ cls: ResourceClass; site: RegExp; scale: number }> = [
  { cls: 'LUT', site: /^(CLB|Slice) LUTs$/, scale: 1 },
  { cls: 'FF', site: /^(CLB|Slice) Registers$/, scale: 1 },
  { cls: 'BRAM_18K', site: /^Block RAM Tile$/, scale: 2 },
  { cls: 'URAM', site: /^URAM$/, scale: 1 },
  { cls: 'DSP', site: /^DSPs$/, scale: 1 },
];

/** Used may be fractional (Block RAM Tile counts a RAMB18 as 0.5). */
const USED: NumberRule = { what: 'a used count (a number, 0 to 100,000,000)', min: 0, max: 1e8 };

/** A ReportFormatError when the text has no utilisation table or a row of ours holds no numbers. */
export function parseUtilization(text: string): Utilization {
  const out: Utilization = {};
  for (const t of parseBoxTables(text)) {
    if (!t.columns.includes('Site Type') || !t.columns.includes('Used') || !t.columns.includes('Available')) continue;
    for (const row of t.rows) {
      const site = row['Site Type'].replace(/\*+$/, '').trim();
      const s = SITES.find((x) => x.site.test(site));
      if (!s || out[s.cls]) continue;
      const used = checkedNumber(row.Used, `"${site}" row, Used column`, USED);
      const available = checkedNumber(row.Available, `"${site}" row, Available column`, COUNT);
      out[s.cls] = { used: used * s.scale, available: available * s.scale };
    }
  }
  if (Object.keys(out).length === 0) {
    throw new ReportFormatError('no utilisation table (Site Type | Used | ... | Available) with LUT, register, Block RAM, URAM or DSP rows: not a report_utilization output, or cut short');
  }
  return out;
}

export interface TimingSummary {
  wnsNs?: number;
  tnsNs?: number;
  whsNs?: number;
  thsNs?: number;
  failingSetupEndpoints?: number;
  clocks: Array<{ name: string; periodNs: number; freqMHz: number }>;
}

export function parseTimingSummary(text: string): TimingSummary {
  const out: TimingSummary = { clocks: [] };
  const design = parseDashTable(text, 'WNS(ns)');
  const row = design?.rows[0];
  // "NA" (no paths of that kind) is unknown; any other text must be a number in range.
  const n = (k: string, rule = SLACK_NS): number | undefined =>
    row && row[k] !== undefined && row[k].trim() !== 'NA' && row[k].trim() !== '' ? checkedNumber(row[k], `Design Timing Summary, ${k}`, rule) : undefined;
  if (row) {
    out.wnsNs = n('WNS(ns)');
    out.tnsNs = n('TNS(ns)');
    out.whsNs = n('WHS(ns)');
    out.thsNs = n('THS(ns)');
    out.failingSetupEndpoints = n('TNS Failing Endpoints', { ...CYCLES, what: 'an endpoint count (a whole number >= 0)' });
  }
  const clocks = parseDashTable(text, 'Frequency(MHz)');
  for (const c of clocks?.rows ?? []) {
    if (!c.Clock) continue;
    const period = checkedNumber(c['Period(ns)'] ?? '', `Clock Summary, clock ${c.Clock}, Period(ns)`, PERIOD_NS);
    const freq = checkedNumber(c['Frequency(MHz)'] ?? '', `Clock Summary, clock ${c.Clock}, Frequency(MHz)`, MHZ);
    out.clocks.push({ name: c.Clock, periodNs: period, freqMHz: freq });
  }
  return out;
}
