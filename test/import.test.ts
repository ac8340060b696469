/**
 * Checkpoint import: name mapping, BatchNorm folding, task/gate matching and the one-error
 * report. Checkpoints are assembled here in M³ViT's layout (BatchNorm unfolded, optional
 * prefixes) with the safetensors writer; expected values are derived independently
 * (hand-computed folds, a direct conv + BatchNorm evaluation).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildIR } from '../generator/ir/build';
import type { ModelIR } from '../generator/ir/types';
import type { ModelSpec } from '../generator/model/spec';
import { UserError } from '../generator/util/errors';
import { exportWeightSet } from '../generator/weights/export';
import { importWeights, importWeightsFile } from '../generator/weights/import';
import { randomWeights } from '../generator/weights/random';
import { encodeSafetensors, type TensorToWrite } from '../generator/weights/safetensors';
import type { WeightSet } from '../generator/weights/types';

const spec: ModelSpec = {
  name: 'import-small',
  image: { height: 32, width: 32 },
  patch: 4,
  embedDim: 8,
  depth: 2,
  heads: 2,
  mlpRatio: 2,
  moe: { experts: 4, topK: 2, hidden: 6 },
  tasks: [
    { name: 'semseg', channels: 3, head: { kind: 'uphead', channels: 4 } },
    { name: 'depth', channels: 1, head: { kind: 'linear' } },
  ],
};
const ir = buildIR(spec);

/** Deterministic, distinct values per tensor (a small LCG; exact in float32 after fround). */
function fill(n: number, seed: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.fround(((s / 2 ** 32) * 2 - 1) * scale);
  }
  return out;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * An M³ViT-layout checkpoint for `ir`: every IR tensor under its checkpoint name, plus
 * syncbn_fc_s (weight, bias, running_mean, running_var, num_batches_tracked) for every
 * UpHead conv3x3 stage.
 */
function checkpoint(model: ModelIR = ir): Map<string, TensorToWrite> {
  const m = new Map<string, TensorToWrite>();
  model.tensors.forEach((t, i) => {
    m.set(t.name, { name: t.name, shape: t.shape, data: fill(size(t.shape), i + 1) });
    const conv = /^(decoders\.[^.]+)\.conv_(\d+)\.bias$/.exec(t.name);
    const task = conv ? model.tasks.find((x) => `decoders.${x.name}` === conv[1]) : undefined;
    if (conv && task?.head.kind === 'uphead' && Number(conv[2]) < task.head.stages) {
      const bn = `${conv[1]}.syncbn_fc_${conv[2]}`;
      const c = t.shape[0];
      m.set(`${bn}.weight`, { name: `${bn}.weight`, shape: [c], data: fill(c, 100 + i).map((v) => 1 + 0.5 * v) });
      m.set(`${bn}.bias`, { name: `${bn}.bias`, shape: [c], data: fill(c, 200 + i) });
      m.set(`${bn}.running_mean`, { name: `${bn}.running_mean`, shape: [c], data: fill(c, 300 + i) });
      m.set(`${bn}.running_var`, { name: `${bn}.running_var`, shape: [c], data: fill(c, 400 + i).map((v) => Math.fround(1.5 + v)) });
      m.set(`${bn}.num_batches_tracked`, { name: `${bn}.num_batches_tracked`, shape: [], data: [1000] });
    }
  });
  return m;
}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-import-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function write(tensors: Iterable<TensorToWrite>, metadata: Record<string, string> = {}, name = 'w.safetensors'): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, encodeSafetensors([...tensors], metadata));
  return file;
}

function importOk(file: string, model: ModelIR = ir): { weights: WeightSet; notes: string[] } {
  return importWeights(file, model, { displayName: 'w.safetensors' });
}

function importError(file: string, model: ModelIR = ir): string {
  try {
    importWeights(file, model, { displayName: 'w.safetensors' });
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

const renamed = (ck: Map<string, TensorToWrite>, f: (n: string) => string): TensorToWrite[] => [...ck.values()].map((t) => ({ ...t, name: f(t.name) }));

describe('importing an M³ViT checkpoint', () => {
  it('reads every IR tensor; backbone and linear-head tensors unchanged', () => {
    const ck = checkpoint();
    const { weights } = importOk(write(ck.values()));
    expect([...weights.keys()]).toEqual(ir.tensors.map((t) => t.name));
    for (const name of ['backbone.pos_embed', 'backbone.blocks.0.attn.qkv.weight', 'backbone.blocks.1.mlp.experts.htoh4.weight', 'backbone.blocks.1.mlp.gate.1.w_gate', 'decoders.depth.linear.weight', 'decoders.semseg.conv_2.weight']) {
      expect([...weights.get(name)!.data]).toEqual(Array.from(ck.get(name)!.data));
      expect(weights.get(name)!.shape).toEqual(ck.get(name)!.shape);
    }
    expect(weights.get('backbone.blocks.1.mlp.experts.htoh4.weight')!.shape).toEqual([4, 6, 8]);
  });

  it('folds BatchNorm into the conv: hand-computed single channel', () => {
    // One output channel, eps 0.25 and var 3.75: sqrt(var + eps) = 2, s = gamma / 2 = 1.5.
    const tiny = buildIR({ ...spec, embedDim: 2, heads: 1, tasks: [{ name: 'a', channels: 1, head: { kind: 'uphead', channels: 1 } }] });
    const ck = checkpoint(tiny);
    const set = (n: string, data: number[]): void => void (ck.get(n)!.data = data);
    set('decoders.a.conv_0.weight', Array(18).fill(0).map((_, i) => i - 9)); // [1, 2, 3, 3]
    set('decoders.a.conv_0.bias', [1]);
    set('decoders.a.syncbn_fc_0.weight', [3]);
    set('decoders.a.syncbn_fc_0.bias', [0.5]);
    set('decoders.a.syncbn_fc_0.running_mean', [0.25]);
    set('decoders.a.syncbn_fc_0.running_var', [3.75]);
    const { weights } = importOk(write(ck.values(), { bn_eps: '0.25' }), tiny);
    expect([...weights.get('decoders.a.conv_0.weight')!.data]).toEqual(Array(18).fill(0).map((_, i) => 1.5 * (i - 9)));
    expect([...weights.get('decoders.a.conv_0.bias')!.data]).toEqual([(1 - 0.25) * 1.5 + 0.5]); // 1.625
  });

  it('folds BatchNorm so that conv(x) then BN(eval) equals the folded conv(x)', () => {
    const ck = checkpoint();
    const { weights } = importOk(write(ck.values()));
    const eps = 1e-5;
    const w = ck.get('decoders.semseg.conv_1.weight')!;
    const b = ck.get('decoders.semseg.conv_1.bias')!.data;
    const [co, ci] = w.shape;
    const x = fill(ci * 9, 77, 2); // one 3x3 window of every input channel
    const bn = (p: string): ArrayLike<number> => ck.get(`decoders.semseg.syncbn_fc_1.${p}`)!.data;
    let worst = 0;
    for (let c = 0; c < co; c++) {
      let conv = b[c];
      let folded = weights.get('decoders.semseg.conv_1.bias')!.data[c];
      for (let i = 0; i < ci * 9; i++) {
        conv += w.data[c * ci * 9 + i] * x[i];
        folded += weights.get('decoders.semseg.conv_1.weight')!.data[c * ci * 9 + i] * x[i];
      }
      const ref = ((conv - bn('running_mean')[c]) / Math.sqrt(bn('running_var')[c] + eps)) * bn('weight')[c] + bn('bias')[c];
      worst = Math.max(worst, Math.abs(folded - ref) / Math.max(1, Math.abs(ref)));
    }
    // Float32 rounding of the folded values: ~1e-7 relative per term.
    expect(worst).toBeLessThan(1e-6);
  });

  it('accepts "module." and keys without "backbone."', () => {
    const ck = checkpoint();
    const { weights: ref } = importOk(write(ck.values()));
    const prefixed = importOk(write(renamed(ck, (n) => `module.${n}`), {}, 'm.safetensors'));
    const bare = importOk(write(renamed(ck, (n) => `module.${n.replace(/^backbone\./, '')}`), {}, 'b.safetensors'));
    for (const r of [prefixed, bare]) {
      expect([...r.weights.keys()]).toEqual([...ref.keys()]);
      for (const [k, v] of ref) expect(r.weights.get(k)!.data).toEqual(v.data);
    }
    expect(prefixed.notes.join('\n')).toMatch(/removed the data-parallel prefix "module." from \d+ keys/);
    expect(bare.notes.join('\n')).toMatch(/read \d+ keys without the "backbone." prefix as backbone tensors/);
  });

  it('refuses a key present both with and without "backbone."', () => {
    const ck = checkpoint();
    const extra = { ...ck.get('backbone.cls_token')!, name: 'cls_token' };
    expect(importError(write([...ck.values(), extra]))).toContain('cls_token: ambiguous: the file also has backbone.cls_token');
  });

  it('ignores training-only tensors with a note', () => {
    const ck = checkpoint();
    const extra: TensorToWrite[] = [
      { name: 'tam_model.fc.weight', shape: [2, 2], data: [1, 2, 3, 4] },
      { name: 'decoders.semseg.tam_model_0.bias', shape: [2], data: [1, 2] },
      { name: 'backbone.blocks.1.mlp.gate.0.w_noise', shape: [8, 4], data: fill(32, 5) },
      { name: 'decoders.semseg.output_level_0.weight', shape: [3, 4, 1, 1], data: fill(12, 6) },
    ];
    const { notes } = importOk(write([...ck.values(), ...extra]));
    expect(notes.join('\n')).toContain('ignored 6 training-only tensors: 2 BatchNorm num_batches_tracked, 2 task-affinity modules (tam_model*), 1 gate noise / auxiliary gate weights, 1 deep-supervision outputs');
  });

  it('copies a single shared gate to every task of a multi-gate model, and says so', () => {
    const ck = checkpoint();
    ck.delete('backbone.blocks.1.mlp.gate.0.w_gate');
    ck.delete('backbone.blocks.1.mlp.gate.1.w_gate');
    const shared: TensorToWrite = { name: 'backbone.blocks.1.mlp.gate.w_gate', shape: [8, 4], data: fill(32, 999) };
    const { weights, notes } = importOk(write([...ck.values(), shared]));
    expect(weights.get('backbone.blocks.1.mlp.gate.0.w_gate')!.data).toEqual(shared.data);
    expect(weights.get('backbone.blocks.1.mlp.gate.1.w_gate')!.data).toEqual(shared.data);
    expect(notes.join('\n')).toContain("one shared gate per MoE block; the model is multi-gate, so each shared gate was copied to all 2 tasks' gates");
  });

  it('maps gates by the task order the file records', () => {
    const ck = checkpoint();
    const g0 = ck.get('backbone.blocks.1.mlp.gate.0.w_gate')!.data; // the model's semseg gate
    const g1 = ck.get('backbone.blocks.1.mlp.gate.1.w_gate')!.data;
    // A file trained with tasks (depth, semseg): its gate 0 is depth's.
    ck.get('backbone.blocks.1.mlp.gate.0.w_gate')!.data = g1;
    ck.get('backbone.blocks.1.mlp.gate.1.w_gate')!.data = g0;
    const { weights, notes } = importOk(write(ck.values(), { 'm3vit.tasks': 'depth,semseg' }));
    expect(weights.get('backbone.blocks.1.mlp.gate.0.w_gate')!.data).toEqual(g0);
    expect(weights.get('backbone.blocks.1.mlp.gate.1.w_gate')!.data).toEqual(g1);
    expect(notes.join('\n')).toContain("gates follow the file's task order (depth, semseg)");
  });

  it('rounds F64 tensors to float32', () => {
    const ck = checkpoint();
    const file = path.join(tmp, 'mixed.safetensors');
    // Re-encode pos_embed as F64 with a value that float32 cannot hold.
    const pos = ck.get('backbone.pos_embed')!;
    pos.dtype = 'F64';
    pos.data = Array.from(pos.data, (v, i) => (i === 0 ? 0.1 : v));
    fs.writeFileSync(file, encodeSafetensors([...ck.values()]));
    const { weights, notes } = importWeights(file, ir, { displayName: 'x' });
    expect(weights.get('backbone.pos_embed')!.data[0]).toBe(Math.fround(0.1));
    expect(notes.join('\n')).toContain('rounded 1 F64 tensors to float32');
  });

  it('round-trips m3vit-gen export-weights files bit for bit (identity BatchNorm folds back exactly)', () => {
    const { weights } = importOk(write(checkpoint().values()));
    const file = path.join(tmp, 'export.safetensors');
    fs.writeFileSync(file, exportWeightSet(weights, ir, { 'm3vit.source': 'test' }));
    const again = importOk(file);
    for (const [k, v] of weights) expect(again.weights.get(k)!.data).toEqual(v.data);
  });
});

describe('import errors: one message listing everything, nothing imported', () => {
  it('lists missing, unexpected and misshapen tensors together, with expected and found shapes', () => {
    const ck = checkpoint();
    ck.delete('backbone.blocks.0.attn.proj.bias');
    ck.set('backbone.blocks.0.attn.qkv.weight', { name: 'backbone.blocks.0.attn.qkv.weight', shape: [8, 8], data: fill(64, 1) });
    ck.set('backbone.head.weight', { name: 'backbone.head.weight', shape: [10, 8], data: fill(80, 2) });
    const msg = importError(write(ck.values()));
    expect(msg.split('\n')[0]).toBe('w.safetensors: does not match model "import-small" (3 problems); nothing was written');
    expect(msg).toContain('backbone.blocks.0.attn.proj.bias: missing (expected shape [8])');
    expect(msg).toContain('backbone.blocks.0.attn.qkv.weight: expected shape [24, 8], found [8, 8]');
    expect(msg).toContain('backbone.head.weight: unexpected tensor (shape [10, 8], F32)');
  });

  it('names a missing task and an unexpected one', () => {
    const ck = checkpoint();
    const renamedDepth = renamed(ck, (n) => n.replace(/^decoders\.depth\./, 'decoders.normals.'));
    const msg = importError(write(renamedDepth));
    expect(msg).toContain(
      'missing task "depth": no decoders.depth.* tensors (the file has tasks: semseg, normals; a backbone-only checkpoint? --heads random gives the missing heads seeded random weights, --heads FILE takes them from another .safetensors file)',
    );
    expect(msg).toContain('unexpected task "normals": 4 decoders.normals.* tensors, but the model description has tasks: semseg, depth');
  });

  it('refuses missing BatchNorm statistics', () => {
    const ck = checkpoint();
    ck.delete('decoders.semseg.syncbn_fc_1.running_var');
    expect(importError(write(ck.values()))).toContain('decoders.semseg.syncbn_fc_1.running_var: missing (expected shape [4])');
  });

  it('refuses integer weights and non-finite values', () => {
    const ck = checkpoint();
    const f = path.join(tmp, 'int.safetensors');
    const tensors = [...ck.values()];
    const bytes = encodeSafetensors(tensors);
    // Re-label cls_token (8 floats = 32 bytes) as I32 [1, 1, 8]: same byte size, integer dtype.
    const json = Buffer.from(bytes.subarray(8, 8 + new DataView(bytes.buffer).getUint32(0, true))).toString('utf8');
    const patched = json.replace('"backbone.cls_token":{"dtype":"F32"', '"backbone.cls_token":{"dtype":"I32"');
    fs.writeFileSync(f, Buffer.concat([Buffer.from(bytes.subarray(0, 8)), Buffer.from(patched, 'utf8'), Buffer.from(bytes.subarray(8 + json.length))]));
    expect(importError(f)).toContain('backbone.cls_token: dtype I32; weights must be a float dtype');
    ck.get('backbone.blocks.1.mlp.experts.h4toh.bias')!.data = Array(32).fill(NaN);
    expect(importError(write(ck.values()))).toContain('backbone.blocks.1.mlp.experts.h4toh.bias: 32 of 32 values are NaN or infinite');
  });

  it('hints at a rank shard and at a shared-gate model description', () => {
    const ck = checkpoint();
    const w = ck.get('backbone.blocks.1.mlp.experts.htoh4.weight')!;
    ck.set(w.name, { ...w, shape: [2, 6, 8], data: Array.from(w.data).slice(0, 96) });
    expect(importError(write(ck.values()))).toContain('expected shape [4, 6, 8], found [2, 6, 8] (looks like one rank\'s shard of 2');
    const shared = buildIR({ ...spec, moe: { ...spec.moe!, gate: 'shared' } });
    const msg = importError(write(checkpoint().values(), {}, 's.safetensors'), shared);
    expect(msg).toContain('backbone.blocks.1.mlp.gate.w_gate: missing (expected shape [8, 4])');
    expect(msg).toContain('backbone.blocks.1.mlp.gate.0.w_gate: unexpected tensor (shape [8, 4], F32) (per-task gates: the model description says moe.gate "shared"; use "multi")');
  });

  it('hints at the image size when pos_embed does not fit', () => {
    const other = buildIR({ ...spec, image: { height: 16, width: 32 } });
    expect(importError(write(checkpoint().values()), other)).toContain(
      "backbone.pos_embed: expected shape [1, 33, 8], found [1, 65, 8] (the model description's 16x32 image and patch 4 give 33 tokens; the file has 65)",
    );
  });

  it('refuses PyTorch checkpoints with the conversion command, and missing files', () => {
    fs.writeFileSync(path.join(tmp, 'model.pth'), 'x');
    expect(() => importWeightsFile(path.join(tmp, 'model.pth'), ir, { displayName: 'model.pth' })).toThrow(
      'model.pth: not a .safetensors file; convert the PyTorch checkpoint first: python3 tools/export_m3vit.py CHECKPOINT --out weights.safetensors',
    );
    expect(() => importWeightsFile(path.join(tmp, 'none.safetensors'), ir, { displayName: 'none.safetensors' })).toThrow('none.safetensors: weights file not found');
  });

  it('reports truncated files as such', () => {
    const file = write(checkpoint().values());
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    expect(importError(file)).toMatch(/run past the end of the data .*: the file is truncated/);
  });
});

/**
 * An Edge-MoE-style backbone-only state dict: keys without "backbone.", no decoders.*, no
 * cls_token (folded into pos_embed[0]); `transposed` stores block 1's task-0 gate as
 * nn.Linear would, [E, D].
 */
function backboneOnly(transposed = false): TensorToWrite[] {
  const out: TensorToWrite[] = [];
  for (const t of checkpoint().values()) {
    if (t.name.startsWith('decoders.') || t.name === 'backbone.cls_token') continue;
    const name = t.name.replace(/^backbone\./, '');
    const flip = transposed && name === 'blocks.1.mlp.gate.0.w_gate';
    out.push({ ...t, name, shape: flip ? [...t.shape].reverse() : t.shape });
  }
  return out;
}

describe('backbone-only checkpoints (class token folded, no heads)', () => {
  it('says a [E, D] gate looks transposed and how to fix it, and names --heads for the missing heads', () => {
    const msg = importError(write(backboneOnly(true)));
    expect(msg).toContain(
      'blocks.1.mlp.gate.0.w_gate: expected shape [8, 4], found [4, 8] (looks transposed: M³ViT stores w_gate as [embed dim, experts] and computes x @ w_gate; transpose it before exporting, in PyTorch state_dict[key] = state_dict[key].t().contiguous())',
    );
    expect(msg).toMatch(/missing task "semseg": no decoders\.semseg\.\* tensors \(the file has tasks: none; a backbone-only checkpoint\? --heads random/);
    expect(msg).not.toContain('cls_token'); // optional: not a problem
  });

  it('with random heads: imports, cls_token zeros, heads the seeded random ones of that seed, all said in notes', () => {
    const file = write(backboneOnly());
    const r = importWeights(file, ir, { displayName: 'w.safetensors', randomHeads: { seed: 3, init: 'm3vit' } });
    expect(Array.from(r.weights.get('backbone.cls_token')!.data)).toEqual(new Array(8).fill(0));
    const given = checkpoint();
    expect(r.weights.get('backbone.pos_embed')!.data).toEqual(Float64Array.from(given.get('backbone.pos_embed')!.data as Float64Array));
    const seeded = randomWeights(ir, 3, 'm3vit');
    const heads = ir.tensors.filter((t) => t.name.startsWith('decoders.'));
    expect(heads.length).toBeGreaterThan(0);
    for (const t of heads) expect(r.weights.get(t.name)!.data).toEqual(seeded.get(t.name)!.data);
    expect(r.notes).toContain('no decoders.* tensors for tasks semseg, depth: their heads are seeded random (seed 3, init m3vit; --heads random)');
    expect(r.notes).toContain('backbone.cls_token: not in the file, taken as zeros (checkpoints such as Edge-MoE\'s fold the class token into pos_embed[0])');
  });

  it('with a heads file: the heads come from it (BatchNorm folded as in a full import)', () => {
    const full = importOk(write(checkpoint().values(), {}, 'full.safetensors')).weights;
    const heads = [...checkpoint().values()].filter((t) => t.name.startsWith('decoders.'));
    const r = importWeights(write(backboneOnly()), ir, { displayName: 'w.safetensors', headsFile: write(heads, {}, 'heads.safetensors') });
    for (const t of ir.tensors.filter((x) => x.name.startsWith('decoders.'))) expect(r.weights.get(t.name)!.data).toEqual(full.get(t.name)!.data);
    expect(r.notes.some((n) => /^task semseg: head \(\d+ decoders\.semseg\.\* tensors\) from .*heads\.safetensors \(--heads\)$/.test(n))).toBe(true);
  });
});
