// The M³ViT ViT-S backbone shared by the paper's PASCAL-Context and NYUD-v2 models.
// Spread into a model with `...vitSmall` and add the image size and the tasks.
export const vitSmall = {
  patch: 16,
  embedDim: 384,
  depth: 12,
  heads: 12,
  mlpRatio: 4,
  moe: { experts: 16, topK: 4, hidden: 384, blocks: 'odd', gate: 'multi' },
} as const;
