/**
 * WeightSet -> .safetensors with M³ViT checkpoint names, so that the weights m3vit-gen uses
 * (seeded random or imported) load into a PyTorch M³ViT with load_state_dict(strict=False)
 * and the two can be compared.
 *
 * BatchNorm is folded in a WeightSet. The export writes the folded conv weights/biases as
 * decoders.<task>.conv_<s>.* and, so that a model with BatchNorm layers computes the same
 * thing, identity BatchNorm tensors: weight 1, bias 0, running_mean 0 and running_var
 * 1 - eps (so that var + eps = 1). The metadata says so. Importing the file again folds that
 * identity back to the same float32 values.
 */
import type { ModelIR } from '../ir/types';
import { META_BN_EPS, META_BN_FOLDED, META_MODEL, META_TASKS } from './checkpoint-names';
import { encodeSafetensors, type TensorToWrite } from './safetensors';
import type { WeightSet } from './types';

export const DEFAULT_BN_EPS = 1e-5;

export function exportWeightSet(weights: WeightSet, ir: ModelIR, extraMetadata: Record<string, string> = {}, bnEps = DEFAULT_BN_EPS): Uint8Array {
  const tensors: TensorToWrite[] = [];
  for (const t of ir.tensors) {
    const w = weights.get(t.name);
    if (!w) throw new Error(`weight set has no tensor ${t.name}`);
    tensors.push({ name: t.name, shape: [...w.shape], data: w.data });
    const convBias = /^(decoders\.([^.]+))\.conv_(\d+)\.bias$/.exec(t.name);
    const task = convBias ? ir.tasks.find((x) => x.name === convBias[2]) : undefined;
    if (convBias && task?.head.kind === 'uphead' && Number(convBias[3]) < task.head.stages) {
      const bn = `${convBias[1]}.syncbn_fc_${convBias[3]}`;
      const c = w.shape[0];
      tensors.push(
        { name: `${bn}.weight`, shape: [c], data: new Float64Array(c).fill(1) },
        { name: `${bn}.bias`, shape: [c], data: new Float64Array(c) },
        { name: `${bn}.running_mean`, shape: [c], data: new Float64Array(c) },
        { name: `${bn}.running_var`, shape: [c], data: new Float64Array(c).fill(1 - bnEps) },
      );
    }
  }
  const metadata: Record<string, string> = {
    format: 'pt',
    [META_MODEL]: ir.dims.name,
    [META_TASKS]: ir.tasks.map((t) => t.name).join(','),
    [META_BN_FOLDED]: 'true',
    [META_BN_EPS]: String(bnEps),
    'm3vit.note':
      'BatchNorm is folded into decoders.*.conv_<s>; syncbn_fc_<s> are identity (running_var = 1 - eps). Gate <t> belongs to task <t> of m3vit.tasks. Load with load_state_dict(strict=False).',
    ...extraMetadata,
  };
  return encodeSafetensors(tensors, metadata);
}
