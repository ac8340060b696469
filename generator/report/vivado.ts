/**
 * Vivado post-implementation reports: report_utilization (box tables, by the "Site Type",
 * "Used" and "Available" headers) and report_timing_summary (the Design Timing Summary and
 * Clock Summary dash tables, by header).
 */
import type { ResourceClass } from '../config/types';
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

export function parseUtilization(text: string): Utilization {
  const out: Utilization = {};
  for (const t of parseBoxTables(text)) {
    if (!t.columns.includes('Site Type') || !t.columns.includes('Used') || !t.columns.includes('Available')) continue;
    for (const row of t.rows) {
      const site = row['Site Type'].replace(/\*+$/, '').trim();
      const s = SITES.find((x) => x.site.test(site));
      if (!s || out[s.cls]) continue;
      const used = Number(row.Used);
      const available = Number(row.Available);
      if (Number.isFinite(used) && Number.isFinite(available)) out[s.cls] = { used: used * s.scale, available: available * s.scale };
    }
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
  const n = (k: string): number | undefined => (row && row[k] !== undefined && Number.isFinite(Number(row[k])) ? Number(row[k]) : undefined);
  if (row) {
    out.wnsNs = n('WNS(ns)');
    out.tnsNs = n('TNS(ns)');
    out.whsNs = n('WHS(ns)');
    out.thsNs = n('THS(ns)');
    out.failingSetupEndpoints = n('TNS Failing Endpoints');
  }
  const clocks = parseDashTable(text, 'Frequency(MHz)');
  for (const c of clocks?.rows ?? []) {
    const period = Number(c['Period(ns)']);
    const freq = Number(c['Frequency(MHz)']);
    if (c.Clock && Number.isFinite(period) && Number.isFinite(freq)) out.clocks.push({ name: c.Clock, periodNs: period, freqMHz: freq });
  }
  return out;
}
