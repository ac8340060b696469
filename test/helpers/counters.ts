/** The estimator's program counters next to what C simulation counted (csim_result.json). */
import * as fs from 'fs';
import * as path from 'path';
import { loadRouting } from '../../generator/estimate/routing';
import { estimateProject } from '../../generator/estimate/stage';
import type { Estimate } from '../../generator/estimate/types';
import type { LoadedProject } from '../../generator/project';
import type { ProgramCounters } from '../../generator/schedule/program';

/** The estimate with the project's golden routing (`estimate --routing`). */
export function routedEstimate(project: LoadedProject, projectDir: string): Estimate {
  return estimateProject(project, loadRouting(path.join(projectDir, 'golden', 'manifest.json')));
}

/** Per task: estimate.json's `counters` with the project's golden routing (`estimate --routing`). */
export function modelCounters(project: LoadedProject, projectDir: string): Record<string, ProgramCounters> {
  return routedEstimate(project, projectDir).counters;
}

/** csim's counters per task, without the debug dumps (the estimate is of a run without them).
 * Every op must carry `loops`, `starts` (loop entries) and `words`: a testbench that predates
 * one of them is an error here, not a silent pass of a narrower comparison. */
export function csimCounters(projectDir: string): Record<string, ProgramCounters> {
  const j = JSON.parse(fs.readFileSync(path.join(projectDir, 'csim_result.json'), 'utf8')) as { counters: Record<string, ProgramCounters> };
  for (const [task, ops] of Object.entries(j.counters)) {
    for (const [op, c] of Object.entries(ops)) {
      for (const field of COUNTER_FIELDS) if (typeof c[field] !== 'object') throw new Error(`csim_result.json: counters.${task}.${op} has no "${field}"`);
    }
  }
  return Object.fromEntries(Object.entries(j.counters).map(([task, ops]) => [task, Object.fromEntries(Object.entries(ops).filter(([op]) => op !== 'debug'))]));
}

/** The per-label / per-channel fields of an op's counters, compared key by key. */
export const COUNTER_FIELDS = ['loops', 'starts', 'words'] as const;

/** Every difference between two programs' counters of one task, as "op field key: a vs b"
 * (an op, a loop label or a channel present in one only counts as 0 in the other). */
export function counterDiffs(a: ProgramCounters, b: ProgramCounters): string[] {
  const out: string[] = [];
  for (const op of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if ((a[op]?.iterations ?? 0) !== (b[op]?.iterations ?? 0)) out.push(`${op} iterations: ${a[op]?.iterations} vs ${b[op]?.iterations}`);
    for (const field of COUNTER_FIELDS) {
      const x = (a[op]?.[field] ?? {}) as Record<string, number>;
      const y = (b[op]?.[field] ?? {}) as Record<string, number>;
      for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
        if ((x[k] ?? 0) !== (y[k] ?? 0)) out.push(`${op} ${field}.${k}: ${x[k] ?? 0} vs ${y[k] ?? 0}`);
      }
    }
  }
  return out;
}
