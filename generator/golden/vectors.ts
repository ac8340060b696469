/**
 * Golden vectors: for every built task, the quantized input and the int reference's output
 * of the whole network and of every checkpointed layer, in the binary format of
 * docs/golden-format.md, with a JSON manifest; plus the quantization plan as JSON. The
 * generated testbench compares the C++ kernels with these word for word.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { PreprocessConfig } from '../config/types';
import { LAYOUT } from '../emit/layout';
import { imageFormatOf } from '../io/image';
import { readModelInput } from '../io/input';
import { formatCalibrationReport } from './calibration-report';
import type { ModelIR } from '../ir/types';
import type { LoadedProject } from '../project';
import { heldOutImageIndex } from '../reference/calibrate';
import { runIntOnImage } from '../reference/int';
import type { PreparedModel } from '../reference/prepare';
import type { Checkpoint, Image, IntRun } from '../reference/types';
import { activationSites } from '../numerics/plan';
import type { OutputFile } from '../util/output';
import type { Progress } from '../util/progress';
import { randomImage } from '../weights/random';
import type { WeightsOrigin } from '../weights/source';

export const GOLDEN_FORMAT = 'm3vit-golden';
export const GOLDEN_VERSION = 1;

/**
 * File names inside the golden folder (docs/golden-format.md): the quantized input once
 * (every task runs on the same image), then one folder per built task with one file per
 * checkpoint. The testbench emitter takes its file names from here.
 */
export const GOLDEN_NAMES = {
  input: 'input.bin',
  output: (task: string): string => `${task}/head.${task}.out.bin`,
  checkpoint: (task: string, name: string): string => `${task}/${name}.bin`,
};

export interface GoldenTensor {
  name: string;
  /** Relative to the golden folder. */
  file: string;
  dtype: 'int16' | 'int32';
  shape: number[];
  /** Fraction bits (value = word * 2^-frac); null for expert indices. */
  frac: number | null;
  bytes: number;
  sha256: string;
}

export interface GoldenMoeLayer {
  block: number;
  /** Experts with a non-empty queue, ascending: the experts whose weights are loaded, once each. */
  expertsUsed: number[];
  /** Queue length of every expert (tokens routed to it). */
  tokensPerExpert: number[];
}

export interface GoldenTask {
  name: string;
  /** The run-time `task` register value: index in the built task list. */
  taskId: number;
  /** Index in the model's task list (the checkpoint's gate index). */
  modelIndex: number;
  /** Checkpoint name of the task output (its file: GOLDEN_NAMES.output). */
  output: string;
  /** Every checkpoint of the run but the input, in execution order. */
  tensors: GoldenTensor[];
  moe: GoldenMoeLayer[];
  /** Saturated values per layer of the int run (every layer that can saturate is listed). */
  saturation: Record<string, number>;
  saturatedTotal: number;
  /** Sums beyond the accumulator width (0 by construction; listed so that a failure shows). */
  accumulatorOverflow: number;
}

/** A seeded N(0,1) image, or the user's file (--input) with how it was preprocessed. */
export type GoldenImage =
  | { kind: 'seeded'; seed: number; index: number; shape: number[] }
  | { kind: 'file'; file: string; sha256: string; shape: number[]; preprocess?: PreprocessConfig };

export interface GoldenManifest {
  format: typeof GOLDEN_FORMAT;
  version: number;
  model: string;
  byteOrder: 'little-endian';
  /** Identity of the generation (config, model, weights): the testbench refuses golden vectors of another. */
  generation: string;
  /** The real image the vectors were computed from (quantized: `input`). */
  image: GoldenImage;
  input: GoldenTensor;
  weights:
    | { kind: 'random'; seed: number; init: string }
    | { kind: 'file'; file: string; missingHeads?: { kind: 'random'; seed: number; init: string } | { kind: 'file'; file: string } };
  quantPlan: string;
  tasks: GoldenTask[];
}

function encode(c: Checkpoint): Uint8Array {
  const dtype = c.dtype ?? 'int16';
  const n = c.data.length;
  const buf = Buffer.alloc(dtype === 'int16' ? 2 * n : 4 * n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'int16') buf.writeInt16LE(c.data[i], 2 * i);
    else buf.writeInt32LE(c.data[i], 4 * i);
  }
  return buf;
}

function tensorFile(c: Checkpoint, file: string): { tensor: GoldenTensor; bytes: Uint8Array } {
  const bytes = encode(c);
  return {
    tensor: { name: c.name, file, dtype: c.dtype ?? 'int16', shape: c.shape, frac: c.frac ?? null, bytes: bytes.length, sha256: sha256(bytes) },
    bytes,
  };
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function taskEntry(name: string, taskId: number, modelIndex: number, run: IntRun, files: OutputFile[]): GoldenTask {
  const tensors: GoldenTensor[] = [];
  for (const c of run.checkpoints) {
    if (c.name === 'input') continue;
    const { tensor, bytes } = tensorFile(c, GOLDEN_NAMES.checkpoint(name, c.name));
    tensors.push(tensor);
    files.push({ path: `${LAYOUT.goldenDir}/${tensor.file}`, contents: bytes });
  }
  const saturation: Record<string, number> = {};
  let total = 0;
  let overflow = 0;
  for (const [layer, c] of Object.entries(run.counts)) {
    saturation[layer] = c.saturated;
    total += c.saturated;
    overflow += c.accOverflow;
  }
  const moe = run.gates.map((g) => ({
    block: g.block,
    expertsUsed: g.load.map((n, e) => (n > 0 ? e : -1)).filter((e) => e >= 0),
    tokensPerExpert: [...g.load],
  }));
  return { name, taskId, modelIndex, output: `head.${name}.out`, tensors, moe, saturation, saturatedTotal: total, accumulatorOverflow: overflow };
}

/** The quantization plan for people and tools: word widths, every binary point, calibration and weight statistics. */
export function quantPlanJson(ir: ModelIR, prepared: PreparedModel): unknown {
  const { plan } = prepared;
  return {
    format: 'm3vit-quant-plan',
    version: 1,
    model: ir.dims.name,
    bits: plan.bits,
    calibration: { statistic: prepared.calibration.statistic, inputs: prepared.calibration.inputs },
    activations: activationSites(ir).map((s) => {
      const st = prepared.calibration.sites[s.name];
      return { site: s.name, kind: s.kind, frac: plan.act[s.name], calibratedMaxAbs: prepared.actMaxAbs[s.name], observedMin: st.min, observedMax: st.max };
    }),
    tensors: prepared.quantStats.map((s) => ({
      name: s.name, shape: s.shape, bits: s.bits, frac: s.frac, min: s.min, max: s.max, maxError: s.maxError, saturated: s.saturated,
    })),
  };
}

/** Every golden file and the quantization plan, as output-folder files (paths from LAYOUT). */
/** The golden input: the --input file (preprocessed when an image) or the held-out seeded image. */
export function goldenImage(project: LoadedProject): { image: Image; info: GoldenImage } {
  const { ir, config } = project;
  const shape = [ir.dims.inChannels, ir.dims.imageH, ir.dims.imageW];
  const file = config.goldenInputFile;
  if (file === undefined) {
    const index = heldOutImageIndex(config.numerics.calibrationImages);
    return { image: randomImage(ir.dims, config.seed, index), info: { kind: 'seeded', seed: config.seed, index, shape } };
  }
  const image = readModelInput(file, ir.dims, config.preprocess);
  const bytes = fs.readFileSync(file);
  // A file is named without its folder: no absolute paths in generated files (DESIGN.md invariant 5).
  const info: GoldenImage = { kind: 'file', file: path.basename(file), sha256: sha256(bytes), shape };
  if (imageFormatOf(bytes)) info.preprocess = config.preprocess;
  return { image, info };
}

export function goldenFiles(project: LoadedProject, prepared: PreparedModel, progress?: Progress): { files: OutputFile[]; manifest: GoldenManifest } {
  const { ir } = project;
  const { image, info } = goldenImage(project);
  const files: OutputFile[] = [];
  const tasks: GoldenTask[] = [];
  let input: GoldenTensor | undefined;
  project.tasks.forEach((t, taskId) => {
    progress?.step(`golden vectors: ${t.name} (int reference)`);
    const run = runIntOnImage(ir, prepared.plan, prepared.quant, t.name, image, { record: true });
    if (!input) {
      const { tensor, bytes } = tensorFile(run.checkpoints.find((c) => c.name === 'input')!, GOLDEN_NAMES.input);
      input = tensor;
      files.push({ path: `${LAYOUT.goldenDir}/${tensor.file}`, contents: bytes });
    }
    tasks.push(taskEntry(t.name, taskId, t.index, run, files));
  });
  const o = prepared.origin;
  const manifest: GoldenManifest = {
    format: GOLDEN_FORMAT,
    version: GOLDEN_VERSION,
    model: ir.dims.name,
    byteOrder: 'little-endian',
    generation: prepared.generation,
    image: info,
    input: input!,
    // A file is named without its folder: no absolute paths in generated files (DESIGN.md invariant 5).
    weights: o.kind === 'file' ? fileOrigin(o) : { kind: 'random', seed: o.seed!, init: o.init! },
    quantPlan: LAYOUT.quantPlanJson,
    tasks,
  };
  files.push({ path: LAYOUT.goldenManifest, contents: `${JSON.stringify(manifest, null, 2)}\n` });
  files.push({ path: LAYOUT.quantPlanJson, contents: `${JSON.stringify(quantPlanJson(ir, prepared), null, 2)}\n` });
  files.push({ path: LAYOUT.calibrationReport, contents: formatCalibrationReport(ir, prepared, project.config.numerics.headroomBits) });
  return { files, manifest };
}

/** One line for the summary of the main command and of `m3vit-gen golden`. */
export function goldenSummary(m: GoldenManifest): string {
  const sat = m.tasks.reduce((s, t) => s + t.saturatedTotal, 0);
  const bytes = m.tasks.reduce((s, t) => s + t.tensors.reduce((a, x) => a + x.bytes, 0), m.input.bytes);
  return `${LAYOUT.goldenDir}/: ${m.tasks.length} task(s), ${(bytes / 1048576).toFixed(1)} MiB, ${sat === 0 ? 'no saturation' : `${sat} saturated value(s), see ${LAYOUT.goldenManifest}`}; ${LAYOUT.quantPlanJson}`;
}

/** A weights file and, with --heads, what the tasks it lacks got; base names only (no absolute paths in generated files). */
function fileOrigin(o: WeightsOrigin): GoldenManifest['weights'] {
  const h = o.heads;
  const missingHeads = h === undefined ? undefined : h.kind === 'random' ? h : { kind: 'file' as const, file: path.basename(h.file) };
  return { kind: 'file', file: path.basename(o.file!), ...(missingHeads ? { missingHeads } : {}) };
}
