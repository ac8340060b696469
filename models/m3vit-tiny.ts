// The ViT-tiny M³ViT of Edge-MoE (Cityscapes): 128x256 images, 2 tasks.
import { defineModel } from 'm3vit-gen';

export default defineModel({
  name: 'm3vit-tiny',
  image: { height: 128, width: 256 },
  patch: 16,
  embedDim: 192,
  depth: 12,
  heads: 3,
  mlpRatio: 4,
  // MoE in the odd blocks (1, 3, ..., 11), one gate per task.
  moe: { experts: 16, topK: 2, hidden: 384, blocks: 'odd', gate: 'multi' },
  tasks: [
    // 7 classes, as M³ViT's own Cityscapes config (configs/cityscapes/
    // pup_vit_tiny_deit_multi_task_baseline.yml, num_classes: 7): its checkpoints' decoders.semseg.conv_4 is [7, 256, 1, 1].
    { name: 'semseg', channels: 7 },
    { name: 'depth', channels: 1 },
  ],
});
