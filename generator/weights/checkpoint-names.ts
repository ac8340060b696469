/**
 * M³ViT state-dict keys -> the model IR's tensors (canonical names: checkpoint keys without
 * "module."; see generator/ir/build.ts). What the training code saves and how it maps:
 *
 *   module.<key>                      data-parallel wrapper: prefix removed
 *   patch_embed.* / blocks.* / ...    backbone keys saved without "backbone.": read as backbone.* if unambiguous
 *   blocks.{i}.mlp.gate.{t}.w_gate    multi-gate: gate t belongs to the checkpoint's task t
 *   blocks.{i}.mlp.gate.w_gate        one shared gate; in a multi-gate model it is copied to every task's gate
 *   decoders.{task}.conv_{s} + syncbn_fc_{s}   conv3x3 + BatchNorm (eval): folded into one conv
 *   training-only tensors             ignored with a note (num_batches_tracked, tam_model*, gate noise/aux)
 *
 * Every missing, unexpected or misshapen tensor is reported in one UserError.
 */
import type { RandomInit } from '../config/types';
import type { ModelIR, TensorIR } from '../ir/types';
import { UserError } from '../util/errors';
import { randomTensor } from './random';
import type { FloatTensor, WeightSet } from './types';

export interface CheckpointEntry {
  /** Key as stored in the file. */
  key: string;
  shape: number[];
  dtype: string;
}

export interface CheckpointSource {
  /** How the file is named in messages. */
  file: string;
  metadata: Record<string, string>;
  entries: CheckpointEntry[];
  /** Values of an entry (by its key in the file), C order. */
  read(key: string): Float64Array;
}

export interface MapOptions {
  /** BatchNorm epsilon of the task heads (PyTorch and mmcv default: 1e-5). The file's metadata "bn_eps" overrides it. */
  bnEps?: number;
  /** Heads of tasks the file has no decoders.<task>.* for (a backbone-only checkpoint): seeded random (--heads random). Without it a missing task is an error. */
  randomHeads?: { seed: number; init: RandomInit };
}

/** How to tell the user what a backbone-only file needs (also used by the CLI's --heads help). */
export const MISSING_HEADS_HINT = 'a backbone-only checkpoint? --heads random gives the missing heads seeded random weights, --heads FILE takes them from another .safetensors file';

export interface MappedWeights {
  weights: WeightSet;
  /** What the import did that the user should know (prefixes removed, tensors ignored, BN folded...). */
  notes: string[];
}

/** Metadata keys written by tools/export_m3vit.py and `m3vit-gen export-weights`. */
export const META_TASKS = 'm3vit.tasks';
export const META_BN_EPS = 'bn_eps';
export const META_BN_FOLDED = 'm3vit.bn_folded';
/** The model description's name, written by `m3vit-gen export-weights`. */
export const META_MODEL = 'm3vit.model';

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);

/** Training-only tensors: present in checkpoints, unused at inference. */
const TRAINING_ONLY: { what: string; re: RegExp }[] = [
  { what: 'BatchNorm num_batches_tracked', re: /(^|\.)num_batches_tracked$/ },
  { what: 'task-affinity modules (tam_model*)', re: /(^|\.)tam_model[^.]*(\.|$)/ },
  { what: 'gate noise / auxiliary gate weights', re: /\.mlp\.gate(\.\d+)?\.(w_noise|w_gate_aux)$/ },
  { what: 'gate regularisation heads', re: /\.mlp\.gate(\.\d+)?\.head\./ },
  { what: 'deep-supervision outputs (decoders.*.output_level_*)', re: /^decoders\.[^.]+\.output_level_\d+\./ },
];

const CLS_TOKEN = 'backbone.cls_token';

/** Backbone roots that checkpoints of the bare backbone store without "backbone.". */
const BACKBONE_ROOTS = /^(patch_embed\.|cls_token$|pos_embed$|blocks\.)/;

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Where the values of one IR tensor come from. */
type Source =
  | { kind: 'direct'; name: string }
  | { kind: 'random' }
  | { kind: 'zeros' }
  | { kind: 'bn_fold'; conv: string; bias: string; bn: string; channels: number };

export function mapCheckpoint(src: CheckpointSource, ir: ModelIR, opts: MapOptions = {}): MappedWeights {
  const notes: string[] = [];
  const problems: string[] = [];

  // 1. Canonical names: without "module.", training-only tensors set aside.
  const byName = new Map<string, CheckpointEntry>();
  let moduleStripped = 0;
  const ignored = new Map<string, number>();
  for (const e of src.entries) {
    let name = e.key;
    while (name.startsWith('module.')) name = name.slice('module.'.length);
    if (name !== e.key) moduleStripped++;
    const training = TRAINING_ONLY.find((t) => t.re.test(name));
    if (training) {
      ignored.set(training.what, (ignored.get(training.what) ?? 0) + 1);
      continue;
    }
    const other = byName.get(name);
    if (other) {
      problems.push(`${e.key}: same tensor as ${other.key} once the "module." prefix is removed`);
      continue;
    }
    byName.set(name, e);
  }
  if (moduleStripped > 0) notes.push(`removed the data-parallel prefix "module." from ${moduleStripped} keys`);
  if (ignored.size > 0) {
    const n = [...ignored.values()].reduce((a, b) => a + b, 0);
    notes.push(`ignored ${n} training-only tensors: ${[...ignored].map(([w, c]) => `${c} ${w}`).join(', ')}`);
  }

  // 2. Bare backbone keys (a backbone-only state dict, or a model saved without the wrapper).
  let bare = 0;
  for (const [name, e] of [...byName]) {
    if (!BACKBONE_ROOTS.test(name)) continue;
    const full = `backbone.${name}`;
    if (byName.has(full)) {
      problems.push(`${e.key}: ambiguous: the file also has ${byName.get(full)!.key}`);
      continue;
    }
    byName.delete(name);
    byName.set(full, e);
    bare++;
  }
  if (bare > 0) notes.push(`read ${bare} keys without the "backbone." prefix as backbone tensors`);

  // 3. Tasks: decoders.<task>.* by name; the gate index is the task's position in the checkpoint.
  const ckptTasks: string[] = [];
  for (const name of byName.keys()) {
    const m = /^decoders\.([^.]+)\./.exec(name);
    if (m && !ckptTasks.includes(m[1])) ckptTasks.push(m[1]);
  }
  const modelTasks = ir.tasks.map((t) => t.name);
  const missingTasks = modelTasks.filter((t) => !ckptTasks.includes(t));
  const randomTasks = opts.randomHeads ? missingTasks : [];
  if (!opts.randomHeads) {
    for (const t of missingTasks) {
      problems.push(`missing task "${t}": no decoders.${t}.* tensors (the file has tasks: ${ckptTasks.join(', ') || 'none'}; ${MISSING_HEADS_HINT})`);
    }
  } else if (randomTasks.length > 0) {
    const r = opts.randomHeads;
    notes.push(`no decoders.* tensors for task${randomTasks.length > 1 ? 's' : ''} ${randomTasks.join(', ')}: ${randomTasks.length > 1 ? 'their heads are' : 'its head is'} seeded random (seed ${r.seed}, init ${r.init}; --heads random)`);
  }
  const extraTasks = ckptTasks.filter((t) => !modelTasks.includes(t));
  for (const t of extraTasks) {
    const n = [...byName.keys()].filter((k) => k.startsWith(`decoders.${t}.`)).length;
    problems.push(`unexpected task "${t}": ${n} decoders.${t}.* tensors, but the model description has tasks: ${modelTasks.join(', ')}`);
  }
  const gateOrder = checkpointTaskOrder(src, ir, ckptTasks, problems, notes);

  // 4. The source of every IR tensor.
  const eps = bnEpsilon(src, opts, problems);
  const bnOptional = src.metadata[META_BN_FOLDED] === 'true';
  const sources = new Map<string, Source>();
  let broadcastGates = 0;
  let folded = 0;
  const foldedAbsent: string[] = [];
  for (const t of ir.tensors) {
    if (randomTasks.some((task) => t.name.startsWith(`decoders.${task}.`))) {
      sources.set(t.name, { kind: 'random' });
      continue;
    }
    if (t.name === CLS_TOKEN && !byName.has(CLS_TOKEN)) {
      sources.set(t.name, { kind: 'zeros' });
      notes.push(`${CLS_TOKEN}: not in the file, taken as zeros (checkpoints such as Edge-MoE's fold the class token into pos_embed[0])`);
      continue;
    }
    const gate = /^backbone\.blocks\.(\d+)\.mlp\.gate\.(\d+)\.w_gate$/.exec(t.name);
    if (gate) {
      const taskName = ir.tasks[Number(gate[2])].name;
      const j = gateOrder.indexOf(taskName);
      const own = `backbone.blocks.${gate[1]}.mlp.gate.${j < 0 ? gate[2] : j}.w_gate`;
      const shared = `backbone.blocks.${gate[1]}.mlp.gate.w_gate`;
      if (!byName.has(own) && byName.has(shared)) {
        sources.set(t.name, { kind: 'direct', name: shared });
        broadcastGates++;
      } else {
        sources.set(t.name, { kind: 'direct', name: own });
      }
      continue;
    }
    const conv = /^(decoders\.[^.]+)\.conv_(\d+)\.weight$/.exec(t.name);
    const task = conv ? ir.tasks.find((x) => `decoders.${x.name}` === conv[1]) : undefined;
    if (conv && task?.head.kind === 'uphead' && Number(conv[2]) < task.head.stages) {
      const bn = `${conv[1]}.syncbn_fc_${conv[2]}`;
      const hasBn = ['weight', 'bias', 'running_mean', 'running_var'].some((p) => byName.has(`${bn}.${p}`));
      if (hasBn || !bnOptional) {
        sources.set(t.name, { kind: 'bn_fold', conv: t.name, bias: `${conv[1]}.conv_${conv[2]}.bias`, bn, channels: t.shape[0] });
        folded++;
      } else {
        sources.set(t.name, { kind: 'direct', name: t.name });
        foldedAbsent.push(t.name);
      }
      continue;
    }
    // The bias of a folded conv comes with its weight.
    const convBias = /^(decoders\.[^.]+\.conv_\d+)\.bias$/.exec(t.name);
    if (convBias && sources.get(`${convBias[1]}.weight`)?.kind === 'bn_fold') continue;
    sources.set(t.name, { kind: 'direct', name: t.name });
  }
  if (broadcastGates > 0) {
    notes.push(
      `the file has one shared gate per MoE block; the model is multi-gate, so each shared gate was copied to all ${ir.tasks.length} tasks' gates (${broadcastGates} gate tensors)`,
    );
  }
  if (foldedAbsent.length > 0) notes.push(`${foldedAbsent.length} head convolutions have no BatchNorm in the file (metadata says it is folded already)`);

  // 5. Structure: every expected tensor present with its shape and a float dtype; nothing left over.
  const consumed = new Set<string>();
  const irByName = new Map(ir.tensors.map((t) => [t.name, t]));
  const expect = (name: string, shape: number[], hint?: string, optional = false): boolean => {
    const e = byName.get(name);
    if (!e) {
      // A missing task is one line, not one per head tensor.
      const ofMissingTask = missingTasks.some((t) => name.startsWith(`decoders.${t}.`));
      if (!optional && !ofMissingTask) problems.push(`${name}: missing (expected shape ${fmtShape(shape)})`);
      return false;
    }
    consumed.add(name);
    if (!sameShape(e.shape, shape)) {
      problems.push(`${e.key}: expected shape ${fmtShape(shape)}, found ${fmtShape(e.shape)}${hint ? ` ${hint}` : ''}`);
      return false;
    }
    if (!FLOAT_DTYPES.has(e.dtype)) {
      problems.push(`${e.key}: dtype ${e.dtype}; weights must be a float dtype (${[...FLOAT_DTYPES].join(', ')})`);
      return false;
    }
    return true;
  };
  const convBiasAbsent: string[] = [];
  for (const [irName, s] of sources) {
    const t = irByName.get(irName)!;
    if (s.kind === 'random' || s.kind === 'zeros') continue;
    if (s.kind === 'direct') {
      expect(s.name, t.shape, shapeHint(t, ir, byName.get(s.name)?.shape));
    } else {
      expect(s.conv, t.shape);
      if (!expect(s.bias, [s.channels], undefined, true) && !byName.has(s.bias)) convBiasAbsent.push(s.bias);
      for (const p of ['weight', 'bias', 'running_mean', 'running_var']) expect(`${s.bn}.${p}`, [s.channels]);
    }
  }
  if (convBiasAbsent.length > 0) notes.push(`${convBiasAbsent.length} head convolutions have no bias (conv without bias before BatchNorm): taken as zero`);
  for (const [name, e] of byName) {
    if (consumed.has(name)) continue;
    if (extraTasks.some((t) => name.startsWith(`decoders.${t}.`))) continue; // reported per task
    problems.push(`${e.key}: unexpected tensor (shape ${fmtShape(e.shape)}, ${e.dtype})${unexpectedHint(name, ir)}`);
  }
  if (problems.length > 0) throw mismatch(src, ir, problems);

  // 6. Values: float32 (as the checkpoint was trained), finite, BatchNorm folded.
  const weights: WeightSet = new Map();
  let rounded = 0;
  let nonIdentity = 0;
  const values = (name: string): Float64Array => {
    const e = byName.get(name)!;
    const data = src.read(e.key);
    if (e.dtype === 'F64') {
      rounded++;
      for (let i = 0; i < data.length; i++) data[i] = Math.fround(data[i]);
    }
    let bad = 0;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
    if (bad > 0) problems.push(`${e.key}: ${bad} of ${data.length} values are NaN or infinite`);
    return data;
  };
  for (const t of ir.tensors) {
    const s = sources.get(t.name);
    if (!s) continue; // a folded conv's bias, written with its weight
    if (s.kind === 'direct') {
      weights.set(t.name, { shape: [...t.shape], data: values(s.name) });
      continue;
    }
    if (s.kind === 'zeros') {
      weights.set(t.name, { shape: [...t.shape], data: new Float64Array(t.shape.reduce((a, b) => a * b, 1)) });
      continue;
    }
    if (s.kind === 'random') {
      weights.set(t.name, randomTensor(t, opts.randomHeads!.seed, opts.randomHeads!.init));
      continue;
    }
    const bias = byName.has(s.bias) ? values(s.bias) : new Float64Array(s.channels);
    const bn = {
      gamma: values(`${s.bn}.weight`),
      beta: values(`${s.bn}.bias`),
      mean: values(`${s.bn}.running_mean`),
      variance: values(`${s.bn}.running_var`),
    };
    if (!isIdentity(bn, eps)) nonIdentity++;
    const negative = bn.variance.filter((v) => v < 0).length;
    if (negative > 0) problems.push(`${byName.get(`${s.bn}.running_var`)!.key}: ${negative} negative variances`);
    const f = foldBatchNorm({ shape: [...t.shape], data: values(s.conv) }, bias, bn, eps);
    weights.set(t.name, f.weight);
    weights.set(s.bias, f.bias);
  }
  // An exported file's BatchNorm is already folded (identity statistics): nothing to tell.
  if (folded > 0 && (!bnOptional || nonIdentity > 0)) notes.push(`folded BatchNorm (eval mode, eps ${eps}) into ${folded} head convolutions`);
  if (rounded > 0) notes.push(`rounded ${rounded} F64 tensors to float32`);
  if (problems.length > 0) throw mismatch(src, ir, problems);
  return { weights, notes };
}

function mismatch(src: CheckpointSource, ir: ModelIR, problems: string[]): UserError {
  // A file that says it holds another model's weights: that, not every tensor that differs.
  const other = src.metadata[META_MODEL];
  if (other !== undefined && other !== ir.dims.name) {
    return new UserError(src.file, [
      `holds the weights of model "${other}" (metadata ${META_MODEL}), but the config's model description is "${ir.dims.name}" (${problems.length} tensor problem${problems.length > 1 ? 's' : ''}); nothing was written. Use the description of "${other}", or weights of "${ir.dims.name}"`,
    ]);
  }
  return new UserError(src.file, problems, `does not match model "${ir.dims.name}" (${problems.length} problem${problems.length > 1 ? 's' : ''}); nothing was written`);
}

/**
 * The checkpoint's task order, which gives the gate index of each task. The exporters
 * record it (the order of decoders.* in the state dict, i.e. the training code's task
 * list) in the metadata; without it the model description's order is assumed.
 */
function checkpointTaskOrder(src: CheckpointSource, ir: ModelIR, ckptTasks: string[], problems: string[], notes: string[]): string[] {
  const meta = src.metadata[META_TASKS];
  const multiGate = ir.dims.moe?.gate === 'multi';
  // An empty list is what the exporter records for a backbone-only checkpoint: no order either.
  if (meta === undefined || meta.trim() === '') {
    const order = ir.tasks.map((t) => t.name);
    if (multiGate && ir.tasks.length > 1) notes.push(`the file does not record its task order; gate t is taken to be task t of the model description (${order.join(', ')})`);
    return order;
  }
  const order = meta.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const unlisted = ckptTasks.filter((t) => !order.includes(t));
  if (unlisted.length > 0) problems.push(`__metadata__.${META_TASKS}: "${meta}" does not list the file's task${unlisted.length > 1 ? 's' : ''} ${unlisted.join(', ')}`);
  const model = ir.tasks.map((t) => t.name);
  if (multiGate && order.join(',') !== model.join(',')) notes.push(`gates follow the file's task order (${order.join(', ')}), mapped by name to the model's (${model.join(', ')})`);
  return order;
}

function bnEpsilon(src: CheckpointSource, opts: MapOptions, problems: string[]): number {
  const meta = src.metadata[META_BN_EPS];
  if (meta !== undefined) {
    const v = Number(meta);
    if (!(v > 0 && Number.isFinite(v))) problems.push(`__metadata__.${META_BN_EPS}: "${meta}" is not a positive number`);
    else return v;
  }
  return opts.bnEps ?? 1e-5;
}

function shapeHint(t: TensorIR, ir: ModelIR, found: number[] | undefined): string | undefined {
  if (!found) return undefined;
  const d = ir.dims;
  if (t.role === 'gate_weight' && found.length === 2 && sameShape(found, [...t.shape].reverse())) {
    return `(looks transposed: M³ViT stores w_gate as [embed dim, experts] and computes x @ w_gate; transpose it before exporting, in PyTorch state_dict[key] = state_dict[key].t().contiguous())`;
  }
  if (t.name === 'backbone.pos_embed' && found.length === 3) {
    return `(the model description's ${d.imageH}x${d.imageW} image and patch ${d.patch} give ${d.tokens} tokens; the file has ${found[1]})`;
  }
  if (t.role === 'expert_weight' || (t.role === 'bias' && t.name.includes('.mlp.experts.'))) {
    const e = d.moe!.experts;
    if (found.length === t.shape.length && found[0] < e && e % found[0] === 0 && sameShape(found.slice(1), t.shape.slice(1))) {
      return `(looks like one rank's shard of ${e / found[0]}; export the whole {rank}.pth folder with tools/export_m3vit.py to merge the experts)`;
    }
  }
  return undefined;
}

function unexpectedHint(name: string, ir: ModelIR): string {
  if (/\.mlp\.gate\.\d+\.w_gate$/.test(name) && ir.dims.moe?.gate === 'shared') return ' (per-task gates: the model description says moe.gate "shared"; use "multi")';
  if (/\.mlp\.(fc1|fc2|experts)\./.test(name)) return ' (dense vs MoE blocks differ from the model description: check moe.blocks)';
  if (/^decoders\.[^.]+\.(conv_|syncbn_fc_|linear\.)/.test(name)) return ' (the head differs from the model description: check the task\'s head kind and the patch size)';
  return '';
}

/** What export-weights writes: gamma 1, beta 0, mean 0, var + eps = 1 (to float32 rounding). */
function isIdentity(bn: BatchNormStats, eps: number): boolean {
  const near = (v: number, want: number): boolean => Math.abs(v - want) <= 1e-6;
  return [...bn.gamma].every((v) => near(v, 1)) && [...bn.beta].every((v) => v === 0) && [...bn.mean].every((v) => v === 0) && [...bn.variance].every((v) => near(v + eps, 1));
}

export interface BatchNormStats {
  gamma: Float64Array;
  beta: Float64Array;
  mean: Float64Array;
  variance: Float64Array;
}

/**
 * conv -> BatchNorm (eval) as one conv: with s_c = gamma_c / sqrt(var_c + eps),
 * W'[c] = s_c W[c] and b'_c = s_c (b_c - mean_c) + beta_c. Computed in float64, rounded to
 * float32 like every weight.
 */
export function foldBatchNorm(weight: FloatTensor, bias: Float64Array, bn: BatchNormStats, eps: number): { weight: FloatTensor; bias: FloatTensor } {
  const channels = weight.shape[0];
  const per = weight.data.length / channels;
  const w = new Float64Array(weight.data.length);
  const b = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = bn.gamma[c] / Math.sqrt(bn.variance[c] + eps);
    for (let i = 0; i < per; i++) w[c * per + i] = Math.fround(weight.data[c * per + i] * s);
    b[c] = Math.fround((bias[c] - bn.mean[c]) * s + bn.beta[c]);
  }
  return { weight: { shape: [...weight.shape], data: w }, bias: { shape: [channels], data: b } };
}
