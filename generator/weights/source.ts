/**
 * Where a project's weights come from: a weights file (command-line override first, then
 * the config's "weights") through the importer, else seeded random weights.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { MissingHeads } from '../config/types';
import type { LoadedProject } from '../project';
import { UserError } from '../util/errors';
import { displayPath } from '../util/paths';
import { importWeightsFile } from './import';
import { randomWeights } from './random';
import type { WeightSet } from './types';

export interface WeightsOrigin {
  kind: 'file' | 'random';
  /** Absolute path of the weights file (kind "file"). */
  file?: string;
  seed?: number;
  init?: string;
  /** Heads of tasks the file lacks (kind "file", with --heads); a heads file as an absolute path. */
  heads?: { kind: 'random'; seed: number; init: string } | { kind: 'file'; file: string };
}

/** The CLI's --heads: "random" or the path of a .safetensors file with decoders.<task>.* tensors. */
export const HEADS_OPTION = {
  type: 'string',
  describe: 'heads for tasks the weights file has none of (a backbone-only checkpoint): "random" (seeded: the config\'s seed and randomInit) or a .safetensors FILE to take decoders.<task>.* from',
} as const;

/** Applies --heads to the project, refusing it up front (before any work) when there is no weights file. */
export function setMissingHeads(project: LoadedProject, value: string | undefined, weightsFileOverride?: string): void {
  project.config.missingHeads = parseHeadsOption(value);
  weightsOrigin(project, weightsFileOverride);
}

function parseHeadsOption(value: string | undefined): MissingHeads | undefined {
  if (value === undefined) return undefined;
  if (value === 'random') return { kind: 'random' };
  if (value.trim() === '') throw new UserError('--heads', ['expected "random" or a .safetensors file']);
  return { kind: 'file', file: path.resolve(value) };
}

export function weightsOrigin(project: LoadedProject, weightsFileOverride?: string): WeightsOrigin {
  const { config } = project;
  const file = weightsFileOverride ?? config.weightsFile;
  const heads = config.missingHeads;
  if (file === undefined) {
    if (heads) throw new UserError('--heads', ['applies only to a weights file (--weights or the config\'s "weights"); without one every weight is seeded random already']);
    return { kind: 'random', seed: config.seed, init: config.randomInit };
  }
  if (!heads) return { kind: 'file', file };
  return { kind: 'file', file, heads: heads.kind === 'random' ? { kind: 'random', seed: config.seed, init: config.randomInit } : heads };
}

/** --weights as an absolute path, refused here (naming the option) when the file does not exist. */
export function cliWeightsFile(arg: string | undefined): string | undefined {
  if (arg === undefined) return undefined;
  const file = path.resolve(arg);
  if (!fs.existsSync(file)) throw new UserError('--weights', [`${arg}: weights file not found`]);
  return file;
}

export function resolveWeights(project: LoadedProject, weightsFileOverride?: string): WeightSet {
  const origin = weightsOrigin(project, weightsFileOverride);
  if (origin.kind === 'file') {
    // --weights was checked by cliWeightsFile; a missing file here is the config's.
    if (!fs.existsSync(origin.file!)) {
      throw new UserError(project.config.configFile, [`/weights: weights file not found: ${displayPath(origin.file!)} (paths in the config are relative to its folder)`]);
    }
    const h = origin.heads;
    return importWeightsFile(origin.file!, project.ir, {
      randomHeads: h?.kind === 'random' ? { seed: h.seed, init: project.config.randomInit } : undefined,
      headsFile: h?.kind === 'file' ? h.file : undefined,
    });
  }
  return randomWeights(project.ir, project.config.seed, project.config.randomInit);
}
