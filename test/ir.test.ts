import { buildIR } from '../generator/ir/build';
import type { ModelSpec } from '../generator/model/spec';

// A small model whose MACs are derived by hand below.
const small: ModelSpec = {
  name: 'small',
  image: { height: 8, width: 16 },
  patch: 4,
  embedDim: 8,
  depth: 2,
  heads: 2,
  mlpRatio: 2,
  moe: { experts: 4, topK: 2, hidden: 6 },
  tasks: [
    { name: 'a', channels: 3, head: { kind: 'linear' } },
    { name: 'b', channels: 2, head: { kind: 'uphead', channels: 5 } },
  ],
};

describe('model IR MAC counts', () => {
  const ir = buildIR(small);
  // grid 2x4 = 8 patches, N = 9 tokens, D = 8, patch vector 3*4*4 = 48.
  const N = 9, D = 8, Np = 8, hd = 4;
  const patchEmbed = Np * D * 48; // 3072
  const attnBlock = N * 3 * D * D + 2 * 2 * N * N * hd + N * D * D; // qkv + QK^T,PV + proj
  const denseMlp = 2 * N * (2 * D) * D; // fc1 + fc2, hidden 16
  const gate = N * D * 4;
  const experts = N * 2 * 2 * D * 6; // k=2 experts per token, two matmuls of D x 6
  const backbone = patchEmbed + 2 * attnBlock + denseMlp + experts;

  it('resolves the dimensions', () => {
    expect(ir.dims).toMatchObject({ gridH: 2, gridW: 4, patches: 8, tokens: 9, headDim: 4, mlpHidden: 16 });
    expect(ir.dims.moe!.blocks).toEqual([1]);
  });

  it('counts a linear-head pathway', () => {
    const linearHead = Np * 3 * D;
    expect(ir.totals.perTask.a.macs).toBe(backbone + gate + linearHead);
  });

  it('counts an UpHead pathway: log2(4) = 2 conv3x3 stages, upsample between them, conv1x1, final upsample', () => {
    const conv0 = 5 * D * 9 * (2 * 4); // at the patch grid
    const conv1 = 5 * 5 * 9 * (4 * 8); // after one 2x upsample
    const conv1x1 = 2 * 5 * (4 * 8);
    expect(ir.totals.perTask.b.macs).toBe(backbone + gate + conv0 + conv1 + conv1x1);
    expect(ir.tasks[1].outputShape).toEqual([2, 8, 16]);
  });

  it('counts the dense-equivalent with every expert active', () => {
    const denseExperts = N * 4 * 2 * D * 6;
    expect(ir.totals.perTask.a.denseMacs - ir.totals.perTask.a.macs).toBe(denseExperts - experts);
  });
});
