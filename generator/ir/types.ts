/**
 * The model IR: the model description resolved into numbers every later stage shares
 * (reference model, quantizer, emitters, estimator). It holds no weights and no numeric
 * formats, only structure: dimensions, tensors (named as in M³ViT checkpoints), and the
 * layers of the backbone and of every task head with shapes, parameters and MACs.
 */

export interface MoeDims {
  experts: number;
  topK: number;
  /** Hidden width of one expert. */
  hidden: number;
  /** Indices of the MoE blocks, ascending. */
  blocks: number[];
  gate: 'multi' | 'shared';
}

export interface ModelDims {
  name: string;
  imageH: number;
  imageW: number;
  inChannels: number;
  patch: number;
  gridH: number;
  gridW: number;
  /** Patch tokens (gridH * gridW). */
  patches: number;
  /** Sequence length: patches + the class token. */
  tokens: number;
  embedDim: number;
  depth: number;
  heads: number;
  headDim: number;
  /** Dense MLP hidden width (mlpRatio * D). */
  mlpHidden: number;
  moe?: MoeDims;
  layerNormEps: number;
}

export interface UpHeadIR {
  kind: 'uphead';
  /** Channels of the conv3x3 stages. */
  channels: number;
  /** Number of conv3x3 stages = log2(patch) (4 for patch 16). */
  stages: number;
}

export interface LinearHeadIR {
  kind: 'linear';
}

export type HeadIR = UpHeadIR | LinearHeadIR;

export interface TaskIR {
  name: string;
  /** Position in the model description's task list: the checkpoint's gate index. */
  index: number;
  channels: number;
  head: HeadIR;
  /** Shape of the task output: [C, H, W] for the UpHead, [patches, C] for the linear head. */
  outputShape: number[];
}

export type TensorRole =
  | 'conv_weight' // [out, in, kh, kw]
  | 'linear_weight' // [out, in]
  | 'expert_weight' // [E, out, in] (fastmoe layout)
  | 'gate_weight' // [D, E] (M³ViT's w_gate layout, not nn.Linear's)
  | 'bias' // [out] or [E, out]
  | 'norm_weight'
  | 'norm_bias'
  | 'embedding'; // cls_token, pos_embed

export type Scope = { kind: 'backbone' } | { kind: 'task'; task: string };

export interface TensorIR {
  /** Checkpoint name (the state dict key without a leading "module."). */
  name: string;
  shape: number[];
  role: TensorRole;
  scope: Scope;
  /** Inputs per output element, for initialisation and accumulator sizing (weights only). */
  fanIn?: number;
}

export type LayerKind =
  | 'patch_embed'
  | 'cls_pos_embed'
  | 'layernorm'
  | 'linear'
  | 'attention'
  | 'gelu'
  | 'residual_add'
  | 'moe_gate'
  | 'moe_experts'
  | 'moe_combine'
  | 'conv3x3'
  | 'relu'
  | 'upsample2x'
  | 'conv1x1'
  | 'drop_cls';

export interface LayerIR {
  name: string;
  kind: LayerKind;
  scope: Scope;
  /** Backbone block index, when the layer is in a block. */
  block?: number;
  inputShape: number[];
  outputShape: number[];
  /** Parameters this layer reads (at inference: BatchNorm folded into its conv). */
  params: number;
  /** Multiply-accumulates per inference (matmuls and convolutions only; MoE: the k active experts). */
  macs: number;
  /** MACs if every expert ran for every token (equals `macs` outside MoE layers). */
  denseMacs: number;
  /** Tensors the layer reads. */
  tensors: string[];
}

export interface PathwayTotals {
  /** MACs of one single-task inference: backbone + this task's gate and head, k experts per token. */
  macs: number;
  /** Parameters on the pathway: backbone (all experts) + this task's gate and head. */
  params: number;
  /** MACs with all experts active for every token (the dense-equivalent model). */
  denseMacs: number;
  /** Parameters read per token in MoE layers: only the k active experts counted. */
  activeParams: number;
}

export interface ModelIR {
  dims: ModelDims;
  tasks: TaskIR[];
  tensors: TensorIR[];
  layers: LayerIR[];
  totals: {
    backbone: { params: number; macs: number; denseMacs: number };
    perTask: Record<string, PathwayTotals>;
    /** Every tensor of the model once; MACs of running every task once (the backbone runs per task, as the gates differ). */
    allTasks: { params: number; macs: number; denseMacs: number };
  };
}
