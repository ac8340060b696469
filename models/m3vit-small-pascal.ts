// M³ViT ViT-S on PASCAL-Context (paper Table 1 and Table 4): 512x512 images, 5 tasks.
import { defineModel } from 'm3vit-gen';
import { vitSmall } from './vit-small-backbone';

export default defineModel({
  name: 'm3vit-small-pascal',
  image: { height: 512, width: 512 },
  ...vitSmall,
  tasks: [
    { name: 'semseg', channels: 21 },
    { name: 'human_parts', channels: 7 },
    { name: 'saliency', channels: 1 },
    { name: 'normals', channels: 3 },
    { name: 'edge', channels: 1 },
  ],
});
