/**
 * The identity of a generation: a sha256 of what determines every generated word (the
 * config without its paths, the evaluated model description, the weights, the m3vit-gen
 * version). Golden vectors, the weight image manifest and the testbench carry it, so that a
 * golden folder or weight image from another config, model or weights is named as stale
 * before csim compares a single word.
 */
import { createHash } from 'crypto';
import type { BuildConfig } from '../config/types';
import type { ModelSpec } from '../model/spec';
import { packageVersion } from '../util/package';
import type { WeightsOrigin } from '../weights/source';
import type { WeightSet } from '../weights/types';

export function generationId(config: BuildConfig, spec: ModelSpec, weights: WeightSet, origin: WeightsOrigin): string {
  // Paths say where things are, not what they are: the same inputs elsewhere are the same generation.
  const { configFile: _c, outDir: _o, modelFile: _m, weightsFile: _w, ...settings } = config;
  const h = createHash('sha256');
  h.update(canonicalJson({ format: 'm3vit-gen generation 1', version: packageVersion(), settings, model: spec, weights: origin.kind === 'file' ? { kind: 'file' } : origin }));
  if (origin.kind === 'file') {
    // The values themselves (as imported), not the file name: a retrained checkpoint under the same name is another generation.
    for (const name of [...weights.keys()].sort()) {
      const t = weights.get(name)!;
      h.update(`\n${name} [${t.shape.join(',')}]\n`);
      h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
  }
  return h.digest('hex');
}

/** JSON with object keys sorted at every level, so that key order in a file does not matter. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
