/**
 * The model description users write (models/*.ts): plain data, typed so that an editor
 * completes it and flags mistakes before the generator ever runs.
 *
 * This file is self-contained on purpose: the model loader type-checks user files against
 * it with ts-morph, and a file with no imports keeps that check fast.
 */

/** M³ViT's task head: LayerNorm, reshape to the patch grid, log2(patch) conv3x3+BN+ReLU
 * stages with a 2x bilinear upsample after every stage but the last, a conv1x1 to the
 * task's channels, and a final 2x bilinear upsample back to the input resolution. */
export interface UpHeadSpec {
  kind: 'uphead';
  /** Channels of the conv3x3 stages (M³ViT: 256). */
  channels?: number;
}

/** A light head: LayerNorm then one Linear(D -> channels) on every patch token; the
 * output is [patch tokens, channels] (no upsampling). */
export interface LinearHeadSpec {
  kind: 'linear';
}

export type HeadSpec = UpHeadSpec | LinearHeadSpec;

export interface TaskSpec {
  /** Task name, as in the checkpoint's `decoders.<name>.*` (e.g. "semseg", "depth"). */
  name: string;
  /** Output channels: classes for segmentation, 1 for depth/saliency/edge, 3 for normals. */
  channels: number;
  /** Defaults to the M³ViT UpHead. */
  head?: HeadSpec;
}

export interface MoeSpec {
  /** Number of experts per MoE layer. */
  experts: number;
  /** Experts kept per token (the top-k of the full softmax; weights are not renormalised). */
  topK: number;
  /** Hidden width of one expert's MLP (M³ViT ViT-S: 384, i.e. ratio 1). */
  hidden: number;
  /** Which blocks are MoE blocks: "odd" (M³ViT: 1, 3, 5, ...), "even", "all", or a list. */
  blocks?: 'odd' | 'even' | 'all' | number[];
  /** "multi": one gate per task (M³ViT's best variant); "shared": one gate for all tasks. */
  gate?: 'multi' | 'shared';
}

export interface ModelSpec {
  /** Model name, used in reports and generated comments. */
  name: string;
  image: {
    height: number;
    width: number;
    /** Input channels (RGB: 3). */
    channels?: number;
  };
  /** Patch size: the patch-embedding conv has kernel = stride = patch. */
  patch: number;
  /** Embedding width D. */
  embedDim: number;
  /** Number of transformer blocks. */
  depth: number;
  /** Attention heads; D must be divisible by heads. */
  heads: number;
  /** Dense MLP hidden width = mlpRatio * D. */
  mlpRatio: number;
  /** Omit for a dense ViT (every block has a dense MLP). */
  moe?: MoeSpec;
  /** At least one task. */
  tasks: TaskSpec[];
  /** LayerNorm epsilon (M³ViT: 1e-6). */
  layerNormEps?: number;
}

/** Declare a model. The identity function exists for the types: it gives completion and
 * checks the literal in the user's editor (not generic, so that a misspelt field is an
 * excess-property error). Export the result as the module's default. */
export function defineModel(spec: ModelSpec): ModelSpec {
  return spec;
}
