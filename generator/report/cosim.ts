/** Vitis HLS C/RTL co-simulation report (<solution>/sim/report/<top>_cosim.rpt), read by
 * column header. */
import { parseBoxTables } from './tables';

export interface CosimRow {
  rtl: string;
  status: string;
  latency: { min?: number; avg?: number; max?: number };
  interval: { min?: number; avg?: number; max?: number };
  totalCycles?: number;
}

const num = (s: string | undefined): number | undefined => (s !== undefined && /^\d+(\.\d+)?$/.test(s.trim()) ? Number(s) : undefined);

/** The RTL rows of the cosim table (the language that was simulated has a status other than NA). */
export function parseCosimReport(text: string): CosimRow[] {
  const table = parseBoxTables(text).find((t) => t.columns.includes('RTL') && t.columns.includes('Status'));
  if (!table) return [];
  const col = (prefix: string, stat: string): string | undefined => table.columns.find((c) => c.startsWith(prefix) && c.endsWith(` ${stat}`));
  const pick = (row: Record<string, string>, prefix: string, stat: string): number | undefined => {
    const c = col(prefix, stat);
    return c === undefined ? undefined : num(row[c]);
  };
  const total = table.columns.find((c) => c.startsWith('Total Execution Time'));
  return table.rows.map((r) => ({
    rtl: r.RTL,
    status: r.Status,
    latency: { min: pick(r, 'Latency', 'min'), avg: pick(r, 'Latency', 'avg'), max: pick(r, 'Latency', 'max') },
    interval: { min: pick(r, 'Interval', 'min'), avg: pick(r, 'Interval', 'avg'), max: pick(r, 'Interval', 'max') },
    totalCycles: total === undefined ? undefined : num(r[total]),
  }));
}
