/**
 * Weights files -> WeightSet: a .safetensors file (from tools/export_m3vit.py, from
 * `m3vit-gen export-weights`, or any safetensors writer) whose tensors carry M³ViT
 * checkpoint names. The file is validated (./safetensors.ts), mapped onto the model IR
 * (./checkpoint-names.ts: prefixes, gates, BatchNorm folding) and every mismatch is reported
 * in one UserError (exit 2). Nothing is written by an import.
 */
import type { ModelIR } from '../ir/types';
import { displayPath } from '../project';
import { UserError } from '../util/errors';
import { mapCheckpoint, type CheckpointSource, type MapOptions } from './checkpoint-names';
import { decodeTensor, readSafetensorsFile, type SafetensorsFile } from './safetensors';
import type { WeightSet } from './types';

export interface ImportOptions extends MapOptions {
  /** Receives the import's notes (prefixes removed, tensors ignored, BatchNorm folded...). Default: printed to stderr. */
  onNote?: (note: string) => void;
  /** How the file is named in messages (default: relative to the working folder when below it). */
  displayName?: string;
  /** A .safetensors file whose decoders.<task>.* give the heads of tasks the file lacks (--heads FILE). */
  headsFile?: string;
}

export interface ImportResult {
  weights: WeightSet;
  notes: string[];
  metadata: Record<string, string>;
}

/** Reads a weights file and maps it onto the model; throws a UserError naming every problem. */
export function importWeights(file: string, ir: ModelIR, options: ImportOptions = {}): ImportResult {
  const st = readWeightsFile(file, options.displayName ?? displayPath(file));
  const headNotes: string[] = [];
  let source = sourceOf(st);
  if (options.headsFile !== undefined) {
    source = withHeadsFrom(source, sourceOf(readWeightsFile(options.headsFile, displayPath(options.headsFile))), ir, headNotes);
  }
  const { weights, notes } = mapCheckpoint(source, ir, options);
  return { weights, notes: [...headNotes, ...notes], metadata: st.metadata };
}

function readWeightsFile(file: string, name: string): SafetensorsFile {
  if (!/\.safetensors$/i.test(file)) {
    const hint = /\.(pth|pt|ckpt|bin)$/i.test(file)
      ? 'convert the PyTorch checkpoint first: python3 tools/export_m3vit.py CHECKPOINT --out weights.safetensors'
      : 'expected a .safetensors file';
    throw new UserError(name, [`not a .safetensors file; ${hint}`]);
  }
  return readSafetensorsFile(file, name);
}

/**
 * The file's tensors plus, for every model task the file has no decoders.<task>.* for,
 * the heads file's decoders.<task>.* (with or without "module."), read from there.
 */
function withHeadsFrom(main: CheckpointSource, heads: CheckpointSource, ir: ModelIR, notes: string[]): CheckpointSource {
  const strip = (k: string): string => k.replace(/^(module\.)+/, '');
  const has = (src: CheckpointSource, task: string): boolean => src.entries.some((e) => strip(e.key).startsWith(`decoders.${task}.`));
  const taken = new Set<string>();
  for (const t of ir.tasks) {
    if (has(main, t.name)) continue;
    const entries = heads.entries.filter((e) => strip(e.key).startsWith(`decoders.${t.name}.`));
    for (const e of entries) taken.add(e.key);
    notes.push(
      entries.length > 0
        ? `task ${t.name}: head (${entries.length} decoders.${t.name}.* tensors) from ${heads.file} (--heads)`
        : `task ${t.name}: ${heads.file} (--heads) has no decoders.${t.name}.* tensors either`,
    );
  }
  const extra = heads.entries.filter((e) => taken.has(e.key));
  return {
    ...main,
    entries: [...main.entries, ...extra],
    read: (key) => (taken.has(key) ? heads.read(key) : main.read(key)),
  };
}

/** The entry point the weights source uses (config "weights" or --weights). */
export function importWeightsFile(file: string, ir: ModelIR, options: ImportOptions = {}): WeightSet {
  const r = importWeights(file, ir, options);
  const name = options.displayName ?? displayPath(file);
  const onNote = options.onNote ?? ((n: string) => process.stderr.write(`${name}: note: ${n}\n`));
  for (const n of r.notes) onNote(n);
  return r.weights;
}

export function sourceOf(st: SafetensorsFile): CheckpointSource {
  const byKey = new Map(st.entries.map((e) => [e.name, e]));
  return {
    file: st.file,
    metadata: st.metadata,
    entries: st.entries.map((e) => ({ key: e.name, shape: e.shape, dtype: e.dtype })),
    read: (key) => decodeTensor(st, byKey.get(key)!),
  };
}
