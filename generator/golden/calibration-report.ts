/**
 * The calibration report (model/calibration.md): for every activation site the range the
 * calibration set produced, the statistic the format was chosen from, the format, the
 * largest value it holds and the margin (largest value / statistic: how far an input may
 * overshoot the calibration set before the site saturates).
 */
import type { CalibrationStatistic } from '../config/types';
import type { ModelIR } from '../ir/types';
import { maxOf, pow2 } from '../numerics/fixed';
import { activationSites } from '../numerics/plan';
import type { PreparedModel } from '../reference/prepare';
import { LAYOUT } from '../emit/layout';

export interface SiteCalibration {
  site: string;
  kind: string;
  min: number;
  max: number;
  /** The statistic's value: what the format must hold (times 2^headroomBits). */
  statistic: number;
  frac: number;
  /** Largest magnitude of the format: (2^(bits-1) - 1) * 2^-frac. */
  limit: number;
  /** limit / statistic (Infinity for a site that was always 0). */
  margin: number;
  /** The calibration set itself exceeds the format (possible with a percentile). */
  clipsOnSet: boolean;
}

export function siteCalibrations(ir: ModelIR, prepared: PreparedModel): SiteCalibration[] {
  const bits = prepared.plan.bits.activation;
  return activationSites(ir).map((s) => {
    const st = prepared.calibration.sites[s.name];
    const frac = prepared.plan.act[s.name];
    const limit = maxOf(bits) * pow2(-frac);
    return {
      site: s.name, kind: s.kind, min: st.min, max: st.max, statistic: st.value, frac, limit,
      margin: st.value > 0 ? limit / st.value : Infinity,
      clipsOnSet: st.maxAbs > limit,
    };
  });
}

export function describeStatistic(s: CalibrationStatistic): string {
  return s.kind === 'max' ? 'max |x|' : `the ${s.percent}th percentile of |x|`;
}

const num = (v: number): string => (v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? v.toPrecision(4) : v.toExponential(2));

function tightestSite(rows: SiteCalibration[]): SiteCalibration {
  return rows.reduce((a, r) => (r.margin < a.margin ? r : a), rows[0]);
}

/** One line for the summary: where the report is, what was calibrated on, the tightest site. */
export function calibrationSummary(ir: ModelIR, prepared: PreparedModel): string {
  const rows = siteCalibrations(ir, prepared);
  const tightest = tightestSite(rows);
  const clipping = rows.filter((r) => r.clipsOnSet).length;
  return `${LAYOUT.calibrationReport}: ${prepared.calibration.inputs.length} calibration input(s), smallest margin ${num(tightest.margin)}x (${tightest.site})${clipping > 0 ? `, ${clipping} site(s) clip on the set` : ''}`;
}

export function formatCalibrationReport(ir: ModelIR, prepared: PreparedModel, headroomBits: number): string {
  const { calibration } = prepared;
  const rows = siteCalibrations(ir, prepared);
  const clipping = rows.filter((r) => r.clipsOnSet);
  const tightest = tightestSite(rows);
  const inputs = calibration.inputs;
  const lines = [
    `# Activation calibration: ${ir.dims.name}`,
    '',
    `Calibrated on ${inputs.length} input(s) x ${ir.tasks.length} task(s) (float reference): ${inputs.join(', ')}.`,
    `Each site's format holds ${describeStatistic(calibration.statistic)} times 2^${headroomBits} (headroomBits) in a signed ${prepared.plan.bits.activation}-bit word.`,
    'margin = largest value of the format / statistic: an input may overshoot the calibration set by this factor before the site saturates.',
    '',
    `Smallest margin: ${num(tightest.margin)}x at ${tightest.site}. ` +
      (clipping.length === 0 ? 'No site exceeds its format on the calibration set.' : `${clipping.length} site(s) exceed their format on the calibration set: ${clipping.map((r) => r.site).join(', ')}.`),
    '',
    '| site | kind | min | max | statistic | format | largest value | margin |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.site} | ${r.kind} | ${num(r.min)} | ${num(r.max)} | ${num(r.statistic)} | frac ${r.frac} | ${r.limit.toPrecision(5)} | ${r.margin === Infinity ? 'n/a' : `${num(r.margin)}x`}${r.clipsOnSet ? ' (clips on the set)' : ''} |`);
  }
  return `${lines.join('\n')}\n`;
}
