/**
 * The estimator as a stage of the main job (report/estimate.json, report.html, report.md,
 * and the fit check) and as the `estimate` command.
 */
import { LAYOUT } from '../emit/layout';
import { displayPath, type LoadedProject } from '../project';
import type { OutputFile } from '../util/output';
import { estimate } from './estimate';
import type { Routing } from './routing';
import { renderReportHtml, renderReportMd } from './report';
import { checkFit, largestBuffers } from './resources';
import type { Estimate } from './types';

export const ESTIMATE_FILES = {
  json: `${LAYOUT.reportDir}/estimate.json`,
  html: `${LAYOUT.reportDir}/report.html`,
  md: `${LAYOUT.reportDir}/report.md`,
} as const;

export function estimateProject(project: LoadedProject, routing?: Routing): Estimate {
  return estimate(project.ir, project.tasks, project.config, undefined, routing);
}

/** estimate.json text: numbers rounded to 4 decimals (integers stay exact), so that the
 * file is stable and readable; Infinity (a resource with a zero budget) becomes null. */
export function estimateJson(est: Estimate): string {
  const round = (_k: string, v: unknown): unknown =>
    typeof v === 'number' ? (Number.isFinite(v) ? (Number.isInteger(v) ? v : Number(v.toFixed(4))) : null) : v;
  return `${JSON.stringify(est, round, 2)}\n`;
}

export function estimateFiles(est: Estimate): OutputFile[] {
  return [
    { path: ESTIMATE_FILES.json, contents: estimateJson(est) },
    { path: ESTIMATE_FILES.html, contents: renderReportHtml(est) },
    { path: ESTIMATE_FILES.md, contents: renderReportMd(est) },
  ];
}

/** One line for the main job's summary. */
export function estimateSummary(est: Estimate): string {
  const lat = est.tasks.map((t) => `${t} ${est.latency_ms[t].toFixed(1)} ms`).join(', ');
  const fit = est.fits ? 'fits' : `does NOT fit (${est.overflows.map((o) => `${o.resource} +${o.over}`).join(', ')})`;
  return `${LAYOUT.reportDir}/: estimate ${fit} ${est.board}; latency ${lat}`;
}

/** The stage of the main job: refuses a design that does not fit unless allowed. */
export function runEstimateStage(project: LoadedProject, allowOverfit: boolean): { files: OutputFile[]; summary: string } {
  const est = estimateProject(project);
  if (!allowOverfit) {
    const act = est.onchip;
    const note = act.activations_fit
      ? undefined
      : `the activation buffers alone (${(act.activation_bytes / 2 ** 20).toFixed(2)} MiB) exceed all BRAM and URAM of the budget (${(act.budget_bytes / 2 ** 20).toFixed(2)} MiB)`;
    const largest = { BRAM_18K: largestBuffers(est.buffers, 'BRAM_18K'), URAM: largestBuffers(est.buffers, 'URAM') };
    checkFit({ ...project.config, configFile: displayPath(project.config.configFile) }, est.overflows, note, largest);
  }
  return { files: estimateFiles(est), summary: estimateSummary(est) };
}
