/**
 * ModelSpec -> ModelIR. MAC and parameter counts follow the layer definitions in
 * ../shared/reference/m3vit-model.md; the formulas are written out per layer so that tests
 * can check them against hand derivations.
 */
import type { ModelSpec } from '../model/spec';
import { moeBlockIndices } from '../model/validate';
import type { HeadIR, LayerIR, ModelDims, ModelIR, PathwayTotals, Scope, TaskIR, TensorIR } from './types';

const BACKBONE: Scope = { kind: 'backbone' };

export function resolveDims(spec: ModelSpec): ModelDims {
  const gridH = spec.image.height / spec.patch;
  const gridW = spec.image.width / spec.patch;
  const patches = gridH * gridW;
  return {
    name: spec.name,
    imageH: spec.image.height,
    imageW: spec.image.width,
    inChannels: spec.image.channels ?? 3,
    patch: spec.patch,
    gridH,
    gridW,
    patches,
    tokens: patches + 1,
    embedDim: spec.embedDim,
    depth: spec.depth,
    heads: spec.heads,
    headDim: spec.embedDim / spec.heads,
    mlpHidden: spec.mlpRatio * spec.embedDim,
    moe: spec.moe
      ? {
          experts: spec.moe.experts,
          topK: spec.moe.topK,
          hidden: spec.moe.hidden,
          blocks: moeBlockIndices(spec),
          gate: spec.moe.gate ?? 'multi',
        }
      : undefined,
    layerNormEps: spec.layerNormEps ?? 1e-6,
  };
}

export function isMoeBlock(dims: ModelDims, block: number): boolean {
  return dims.moe !== undefined && dims.moe.blocks.includes(block);
}

/** Checkpoint name of a task's gate in an MoE block (multi-gate: gate.<task index>). */
export function gateTensorName(dims: ModelDims, block: number, taskIndex: number): string {
  return dims.moe?.gate === 'shared'
    ? `backbone.blocks.${block}.mlp.gate.w_gate`
    : `backbone.blocks.${block}.mlp.gate.${taskIndex}.w_gate`;
}

export function buildIR(spec: ModelSpec): ModelIR {
  const dims = resolveDims(spec);
  const tasks: TaskIR[] = spec.tasks.map((t, index) => {
    const head: HeadIR =
      (t.head?.kind ?? 'uphead') === 'uphead'
        ? { kind: 'uphead', channels: (t.head?.kind === 'uphead' ? t.head.channels : undefined) ?? 256, stages: Math.log2(dims.patch) }
        : { kind: 'linear' };
    const outputShape = head.kind === 'uphead' ? [t.channels, dims.imageH, dims.imageW] : [dims.patches, t.channels];
    return { name: t.name, index, channels: t.channels, head, outputShape };
  });

  const tensors: TensorIR[] = [];
  const layers: LayerIR[] = [];
  const tensor = (name: string, shape: number[], role: TensorIR['role'], scope: Scope, fanIn?: number): string => {
    tensors.push({ name, shape, role, scope, ...(fanIn !== undefined ? { fanIn } : {}) });
    return name;
  };
  const size = (name: string): number => tensors.find((t) => t.name === name)!.shape.reduce((a, b) => a * b, 1);
  const layer = (l: Omit<LayerIR, 'params' | 'denseMacs'> & { denseMacs?: number }): void => {
    const params = l.tensors.reduce((s, n) => s + size(n), 0);
    layers.push({ ...l, params, denseMacs: l.denseMacs ?? l.macs });
  };

  const { embedDim: D, tokens: N, patches: Np, inChannels: C, patch: P, heads, headDim } = dims;
  const seq = [N, D];

  // Patch embedding: a conv with kernel = stride = P is a linear layer over each patch.
  const k = C * P * P;
  layer({
    name: 'patch_embed', kind: 'patch_embed', scope: BACKBONE,
    inputShape: [C, dims.imageH, dims.imageW], outputShape: [Np, D],
    macs: Np * D * k,
    tensors: [tensor('backbone.patch_embed.proj.weight', [D, C, P, P], 'conv_weight', BACKBONE, k), tensor('backbone.patch_embed.proj.bias', [D], 'bias', BACKBONE)],
  });
  layer({
    name: 'cls_pos_embed', kind: 'cls_pos_embed', scope: BACKBONE, inputShape: [Np, D], outputShape: seq, macs: 0,
    tensors: [tensor('backbone.cls_token', [1, 1, D], 'embedding', BACKBONE), tensor('backbone.pos_embed', [1, N, D], 'embedding', BACKBONE)],
  });

  for (let b = 0; b < dims.depth; b++) {
    const pre = `backbone.blocks.${b}`;
    const blk = (name: string): string => `blocks.${b}.${name}`;
    const norm = (which: string): string[] => [
      tensor(`${pre}.${which}.weight`, [D], 'norm_weight', BACKBONE),
      tensor(`${pre}.${which}.bias`, [D], 'norm_bias', BACKBONE),
    ];
    const linear = (name: string, out: number, inp: number): string[] => [
      tensor(`${pre}.${name}.weight`, [out, inp], 'linear_weight', BACKBONE, inp),
      tensor(`${pre}.${name}.bias`, [out], 'bias', BACKBONE),
    ];
    layer({ name: blk('norm1'), kind: 'layernorm', scope: BACKBONE, block: b, inputShape: seq, outputShape: seq, macs: 0, tensors: norm('norm1') });
    layer({ name: blk('attn.qkv'), kind: 'linear', scope: BACKBONE, block: b, inputShape: seq, outputShape: [N, 3 * D], macs: N * 3 * D * D, tensors: linear('attn.qkv', 3 * D, D) });
    // Q.K^T and P.V, per head: 2 * heads * N * N * headDim.
    layer({ name: blk('attn.core'), kind: 'attention', scope: BACKBONE, block: b, inputShape: [N, 3 * D], outputShape: seq, macs: 2 * heads * N * N * headDim, tensors: [] });
    layer({ name: blk('attn.proj'), kind: 'linear', scope: BACKBONE, block: b, inputShape: seq, outputShape: seq, macs: N * D * D, tensors: linear('attn.proj', D, D) });
    layer({ name: blk('residual1'), kind: 'residual_add', scope: BACKBONE, block: b, inputShape: seq, outputShape: seq, macs: 0, tensors: [] });
    layer({ name: blk('norm2'), kind: 'layernorm', scope: BACKBONE, block: b, inputShape: seq, outputShape: seq, macs: 0, tensors: norm('norm2') });
    if (isMoeBlock(dims, b)) {
      const m = dims.moe!;
      const He = m.hidden;
      // Gates are per task; the layer lists each task's gate under the task's scope.
      const gateNames = m.gate === 'shared' ? [0] : tasks.map((t) => t.index);
      for (const ti of gateNames) {
        const scope: Scope = m.gate === 'shared' ? BACKBONE : { kind: 'task', task: tasks[ti].name };
        const name = tensor(gateTensorName(dims, b, ti), [D, m.experts], 'gate_weight', scope, D);
        layer({
          name: m.gate === 'shared' ? blk('mlp.gate') : blk(`mlp.gate.${tasks[ti].name}`),
          kind: 'moe_gate', scope, block: b, inputShape: seq, outputShape: [N, m.topK], macs: N * D * m.experts, tensors: [name],
        });
      }
      const experts = [
        tensor(`${pre}.mlp.experts.htoh4.weight`, [m.experts, He, D], 'expert_weight', BACKBONE, D),
        tensor(`${pre}.mlp.experts.htoh4.bias`, [m.experts, He], 'bias', BACKBONE),
        tensor(`${pre}.mlp.experts.h4toh.weight`, [m.experts, D, He], 'expert_weight', BACKBONE, He),
        tensor(`${pre}.mlp.experts.h4toh.bias`, [m.experts, D], 'bias', BACKBONE),
      ];
      layer({
        name: blk('mlp.experts'), kind: 'moe_experts', scope: BACKBONE, block: b, inputShape: seq, outputShape: [N, m.topK, D],
        macs: N * m.topK * 2 * D * He, denseMacs: N * m.experts * 2 * D * He, tensors: experts,
      });
      layer({ name: blk('mlp.combine'), kind: 'moe_combine', scope: BACKBONE, block: b, inputShape: [N, m.topK, D], outputShape: seq, macs: 0, tensors: [] });
    } else {
      const Hd = dims.mlpHidden;
      layer({ name: blk('mlp.fc1'), kind: 'linear', scope: BACKBONE, block: b, inputShape: seq, outputShape: [N, Hd], macs: N * Hd * D, tensors: linear('mlp.fc1', Hd, D) });
      layer({ name: blk('mlp.act'), kind: 'gelu', scope: BACKBONE, block: b, inputShape: [N, Hd], outputShape: [N, Hd], macs: 0, tensors: [] });
      layer({ name: blk('mlp.fc2'), kind: 'linear', scope: BACKBONE, block: b, inputShape: [N, Hd], outputShape: seq, macs: N * D * Hd, tensors: linear('mlp.fc2', D, Hd) });
    }
    layer({ name: blk('residual2'), kind: 'residual_add', scope: BACKBONE, block: b, inputShape: seq, outputShape: seq, macs: 0, tensors: [] });
  }

  for (const t of tasks) addHeadLayers(dims, t, tensor, layer);

  return { dims, tasks, tensors, layers, totals: totals(dims, tasks, tensors, layers) };
}

type TensorFn = (name: string, shape: number[], role: TensorIR['role'], scope: Scope, fanIn?: number) => string;
type LayerFn = (l: Omit<LayerIR, 'params' | 'denseMacs'> & { denseMacs?: number }) => void;

function addHeadLayers(dims: ModelDims, t: TaskIR, tensor: TensorFn, layer: LayerFn): void {
  const scope: Scope = { kind: 'task', task: t.name };
  const pre = `decoders.${t.name}`;
  const D = dims.embedDim;
  const name = (n: string): string => `head.${t.name}.${n}`;
  layer({ name: name('drop_cls'), kind: 'drop_cls', scope, inputShape: [dims.tokens, D], outputShape: [dims.patches, D], macs: 0, tensors: [] });
  layer({
    name: name('norm'), kind: 'layernorm', scope, inputShape: [dims.patches, D], outputShape: [dims.patches, D], macs: 0,
    tensors: [tensor(`${pre}.norm.weight`, [D], 'norm_weight', scope), tensor(`${pre}.norm.bias`, [D], 'norm_bias', scope)],
  });
  if (t.head.kind === 'linear') {
    layer({
      name: name('linear'), kind: 'linear', scope, inputShape: [dims.patches, D], outputShape: [dims.patches, t.channels], macs: dims.patches * t.channels * D,
      tensors: [tensor(`${pre}.linear.weight`, [t.channels, D], 'linear_weight', scope, D), tensor(`${pre}.linear.bias`, [t.channels], 'bias', scope)],
    });
    return;
  }
  const Ch = t.head.channels;
  let h = dims.gridH;
  let w = dims.gridW;
  let cin = D;
  for (let s = 0; s < t.head.stages; s++) {
    const conv = `${pre}.conv_${s}`;
    layer({
      name: name(`conv_${s}`), kind: 'conv3x3', scope, inputShape: [cin, h, w], outputShape: [Ch, h, w], macs: Ch * cin * 9 * h * w,
      tensors: [tensor(`${conv}.weight`, [Ch, cin, 3, 3], 'conv_weight', scope, cin * 9), tensor(`${conv}.bias`, [Ch], 'bias', scope)],
    });
    layer({ name: name(`relu_${s}`), kind: 'relu', scope, inputShape: [Ch, h, w], outputShape: [Ch, h, w], macs: 0, tensors: [] });
    // M³ViT upsamples after every conv3x3 stage but the last; the last upsample follows the conv1x1.
    if (s < t.head.stages - 1) {
      layer({ name: name(`up_${s}`), kind: 'upsample2x', scope, inputShape: [Ch, h, w], outputShape: [Ch, 2 * h, 2 * w], macs: 0, tensors: [] });
      h *= 2;
      w *= 2;
    }
    cin = Ch;
  }
  const last = `${pre}.conv_${t.head.stages}`;
  layer({
    name: name(`conv_${t.head.stages}`), kind: 'conv1x1', scope, inputShape: [Ch, h, w], outputShape: [t.channels, h, w], macs: t.channels * Ch * h * w,
    tensors: [tensor(`${last}.weight`, [t.channels, Ch, 1, 1], 'conv_weight', scope, Ch), tensor(`${last}.bias`, [t.channels], 'bias', scope)],
  });
  layer({ name: name('up_out'), kind: 'upsample2x', scope, inputShape: [t.channels, h, w], outputShape: [t.channels, 2 * h, 2 * w], macs: 0, tensors: [] });
}

function inScopeOf(scope: Scope, task: string): boolean {
  return scope.kind === 'backbone' || scope.task === task;
}

function totals(dims: ModelDims, tasks: TaskIR[], tensors: TensorIR[], layers: LayerIR[]): ModelIR['totals'] {
  const count = (t: TensorIR): number => t.shape.reduce((a, b) => a * b, 1);
  const backboneLayers = layers.filter((l) => l.scope.kind === 'backbone');
  const backbone = {
    params: tensors.filter((t) => t.scope.kind === 'backbone').reduce((s, t) => s + count(t), 0),
    macs: backboneLayers.reduce((s, l) => s + l.macs, 0),
    denseMacs: backboneLayers.reduce((s, l) => s + l.denseMacs, 0),
  };
  const perTask: Record<string, PathwayTotals> = {};
  for (const t of tasks) {
    const own = layers.filter((l) => inScopeOf(l.scope, t.name));
    const ownTensors = tensors.filter((x) => inScopeOf(x.scope, t.name));
    const params = ownTensors.reduce((s, x) => s + count(x), 0);
    // Per token, an MoE layer reads only k of its E experts. Expert tensors lead with the
    // expert axis, so count / E is a whole number (no 1 - k/E rounding, e.g. E = 3).
    const inactive = ownTensors
      .filter((x) => x.name.includes('.mlp.experts.'))
      .reduce((s, x) => s + (count(x) / dims.moe!.experts) * (dims.moe!.experts - dims.moe!.topK), 0);
    perTask[t.name] = {
      macs: own.reduce((s, l) => s + l.macs, 0),
      params,
      denseMacs: own.reduce((s, l) => s + l.denseMacs, 0),
      activeParams: params - inactive,
    };
  }
  const sum = (f: (p: PathwayTotals) => number): number => Object.values(perTask).reduce((s, p) => s + f(p), 0);
  return {
    backbone,
    perTask,
    allTasks: { params: tensors.reduce((s, t) => s + count(t), 0), macs: sum((p) => p.macs), denseMacs: sum((p) => p.denseMacs) },
  };
}
