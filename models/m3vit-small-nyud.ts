// M³ViT ViT-S on NYUD-v2: 480x640 images, 2 tasks.
import { defineModel } from 'm3vit-gen';
import { vitSmall } from './vit-small-backbone';

export default defineModel({
  name: 'm3vit-small-nyud',
  image: { height: 480, width: 640 },
  ...vitSmall,
  tasks: [
    { name: 'semseg', channels: 40 },
    { name: 'depth', channels: 1 },
  ],
});
