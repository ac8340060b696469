/**
 * What the m3vit-gen package exports to its users: the model-description helper and its
 * types (models/*.ts import these from "m3vit-gen").
 */
export { defineModel } from './model/spec';
export type { ModelSpec, TaskSpec, MoeSpec, HeadSpec, UpHeadSpec, LinearHeadSpec } from './model/spec';
