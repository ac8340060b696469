/**
 * Where a project's weights come from: a weights file (command-line override first, then
 * the config's "weights") through the importer, else seeded random weights.
 */
import type { LoadedProject } from '../project';
import { importWeightsFile } from './import';
import { randomWeights } from './random';
import type { WeightSet } from './types';

export interface WeightsOrigin {
  kind: 'file' | 'random';
  /** Absolute path of the weights file (kind "file"). */
  file?: string;
  seed?: number;
  init?: string;
}

export function weightsOrigin(project: LoadedProject, weightsFileOverride?: string): WeightsOrigin {
  const file = weightsFileOverride ?? project.config.weightsFile;
  if (file !== undefined) return { kind: 'file', file };
  return { kind: 'random', seed: project.config.seed, init: project.config.randomInit };
}

export function resolveWeights(project: LoadedProject, weightsFileOverride?: string): WeightSet {
  const origin = weightsOrigin(project, weightsFileOverride);
  if (origin.kind === 'file') return importWeightsFile(origin.file!, project.ir);
  return randomWeights(project.ir, project.config.seed, project.config.randomInit);
}
