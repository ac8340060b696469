/** The estimator's program counters next to what C simulation counted (csim_result.json). */
import * as fs from 'fs';
import * as path from 'path';
import { loadRouting } from '../../generator/estimate/routing';
import { estimateProject } from '../../generator/estimate/stage';
import type { LoadedProject } from '../../generator/project';
import type { ProgramCounters } from '../../generator/schedule/program';

/** Per task: estimate.json's `counters` with the project's golden routing (`estimate --routing`). */
export function modelCounters(project: LoadedProject, projectDir: string): Record<string, ProgramCounters> {
  return estimateProject(project, loadRouting(path.join(projectDir, 'golden', 'manifest.json'))).counters;
}

/** csim's counters per task, without the debug dumps (the estimate is of a run without them). */
export function csimCounters(projectDir: string): Record<string, ProgramCounters> {
  const j = JSON.parse(fs.readFileSync(path.join(projectDir, 'csim_result.json'), 'utf8')) as { counters: Record<string, ProgramCounters> };
  return Object.fromEntries(Object.entries(j.counters).map(([task, ops]) => [task, Object.fromEntries(Object.entries(ops).filter(([op]) => op !== 'debug'))]));
}
