/**
 * Weights files (.safetensors from tools/export_m3vit.py or m3vit-gen itself) -> WeightSet.
 * Placeholder until the checkpoint importer lands: it refuses clearly rather than guessing.
 */
import type { ModelIR } from '../ir/types';
import { UserError } from '../util/errors';
import type { WeightSet } from './types';

export function importWeightsFile(file: string, ir: ModelIR): WeightSet {
  void ir;
  throw new UserError(file, ['weights files cannot be imported by this version yet; omit "weights" to use seeded random weights']);
}
