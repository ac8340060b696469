/**
 * `predict --trace DIR`: every checkpointed layer of one run (backbone features, gates,
 * head stages, the output) as a .npy file, like hls4ml's trace. Values are real numbers in
 * float64 (int mode: the integer words times 2^-frac, exact), expert indices int32; an
 * index trace.json lists each file with its shape and, in int mode, its binary point.
 */
import * as path from 'path';
import { formatNpy } from '../io/npy';
import type { OutputFile } from '../util/output';
import type { Checkpoint } from './types';

export const TRACE_INDEX = 'trace.json';
export const TRACE_REPORT = 'report.txt';

export interface TraceLayer {
  name: string;
  file: string;
  shape: number[];
  dtype: 'float64' | 'int32';
  /** int mode: fraction bits of the hardware word (value = word * 2^-frac). */
  frac?: number;
  /** int mode: width of the hardware word. */
  word?: 'int16' | 'int32';
}

export interface TraceIndex {
  format: 'm3vit-trace';
  version: 1;
  model: string;
  task: string;
  mode: 'int' | 'float';
  /** The input file, without its folder. */
  input: string;
  layers: TraceLayer[];
}

function isIndexTensor(c: Checkpoint): boolean {
  return c.name.endsWith('.gate.experts');
}

function layerFile(c: Checkpoint, mode: 'int' | 'float'): { layer: TraceLayer; bytes: Uint8Array } {
  const file = `${c.name}.npy`;
  if (isIndexTensor(c)) return { layer: { name: c.name, file, shape: c.shape, dtype: 'int32' }, bytes: formatNpy(c.shape, c.data, 'int32') };
  if (mode === 'float') return { layer: { name: c.name, file, shape: c.shape, dtype: 'float64' }, bytes: formatNpy(c.shape, c.data, 'float64') };
  const scale = 2 ** -(c.frac ?? 0);
  return {
    layer: { name: c.name, file, shape: c.shape, dtype: 'float64', frac: c.frac ?? 0, word: c.dtype ?? 'int16' },
    bytes: formatNpy(c.shape, c.data.map((v) => v * scale), 'float64'),
  };
}

/** The files of a trace folder; `reportText` (predict --report) is written beside them. */
export function traceFiles(
  checkpoints: Checkpoint[],
  ctx: { model: string; task: string; mode: 'int' | 'float'; inputFile: string },
  reportText?: string,
): OutputFile[] {
  const files: OutputFile[] = [];
  const layers: TraceLayer[] = [];
  for (const c of checkpoints) {
    const { layer, bytes } = layerFile(c, ctx.mode);
    layers.push(layer);
    files.push({ path: layer.file, contents: bytes });
  }
  const index: TraceIndex = { format: 'm3vit-trace', version: 1, model: ctx.model, task: ctx.task, mode: ctx.mode, input: path.basename(ctx.inputFile), layers };
  files.push({ path: TRACE_INDEX, contents: `${JSON.stringify(index, null, 2)}\n` });
  if (reportText !== undefined) files.push({ path: TRACE_REPORT, contents: `${reportText}\n` });
  return files;
}
