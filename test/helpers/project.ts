/** Small models and configs written to a temporary folder, for the emitter and csim tests. */
import * as fs from 'fs';
import * as path from 'path';
import type { ModelSpec } from '../../generator/model/spec';

const ROOT = path.resolve(__dirname, '..', '..');

export interface SmallOptions {
  name: string;
  pe: number;
  simd: number;
  scheduler?: 'expert-major' | 'token-major';
  cacheSlots?: number;
  seed?: number;
  /** Activations in DDR, in token tiles of this many rows. */
  tokenTile?: number;
  /** With tokenTile: the attention's query rows per tile. */
  queryTile?: number;
}

/** The default board config with a model file, parallelism and MoE scheduler of our choice. */
export function writeProject(dir: string, spec: ModelSpec, o: SmallOptions): string {
  fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'models', `${o.name}.ts`), `import { defineModel } from 'm3vit-gen';\n\nexport default defineModel(${JSON.stringify(spec, null, 2)});\n`);
  const base = JSON.parse(fs.readFileSync(path.join(ROOT, 'zcu104.json'), 'utf8'));
  delete base.$schema;
  const config = {
    ...base,
    name: o.name,
    model: `models/${o.name}.ts`,
    output: `out/${o.name}`,
    parallelism: { pe: o.pe, simd: o.simd },
    moe: { scheduler: o.scheduler ?? 'expert-major', expertCacheSlots: o.cacheSlots ?? 2 },
    ...(o.tokenTile !== undefined ? { activations: { placement: 'ddr', tokenTile: o.tokenTile, ...(o.queryTile !== undefined ? { queryTile: o.queryTile } : {}) } } : {}),
    seed: o.seed ?? 7,
    // Non-zero biases and LayerNorm affine: every datapath carries data.
    randomInit: 'exercise',
  };
  const file = path.join(dir, `${o.name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** A small M³ViT: 16x16 image, patch 4 (16 patches + cls), D 16, 2 blocks (block 1 is MoE). */
export function smallSpec(over: Partial<ModelSpec> & { experts?: number; topK?: number; tasks?: ModelSpec['tasks'] } = {}): ModelSpec {
  const { experts, topK, ...rest } = over;
  return {
    name: 'small',
    image: { height: 16, width: 16 },
    patch: 4,
    embedDim: 16,
    depth: 2,
    heads: 2,
    mlpRatio: 2,
    moe: { experts: experts ?? 4, topK: topK ?? 2, hidden: 16 },
    tasks: [
      { name: 'seg', channels: 3, head: { kind: 'uphead', channels: 8 } },
      { name: 'cls', channels: 5, head: { kind: 'linear' } },
    ],
    ...rest,
  };
}
