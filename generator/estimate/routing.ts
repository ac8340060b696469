/**
 * Measured MoE routing for the estimator (`estimate --routing golden/manifest.json`): the
 * experts every token chose in every MoE block of every task, read from the golden
 * `blocks.B.gate.experts` files the int reference wrote. With it, the counters of the
 * program (expert queues, token-major cache misses) are exact for that input instead of
 * the uniform routing model's expectation.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { GoldenManifest } from '../golden/vectors';
import type { TaskRouting } from '../schedule/program';
import { UserError } from '../util/errors';

export type Routing = Record<string, TaskRouting>;

export function loadRouting(manifestFile: string): Routing {
  let m: GoldenManifest;
  try {
    m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as GoldenManifest;
  } catch (e) {
    throw new UserError(manifestFile, [`cannot read the golden manifest: ${(e as Error).message}`]);
  }
  if (!Array.isArray(m.tasks)) throw new UserError(manifestFile, ['/tasks: must be the golden manifest\'s task list']);
  const dir = path.dirname(manifestFile);
  const out: Routing = {};
  for (const t of m.tasks) {
    const r: TaskRouting = {};
    for (const tensor of t.tensors) {
      const hit = /^blocks\.(\d+)\.gate\.experts$/.exec(tensor.name);
      if (!hit) continue;
      const [n, k] = tensor.shape;
      const file = path.join(dir, tensor.file);
      let buf: Buffer;
      try {
        buf = fs.readFileSync(file);
      } catch (e) {
        throw new UserError(file, [`cannot read the routing of ${t.name} ${tensor.name}: ${(e as Error).message}`]);
      }
      if (buf.length !== n * k * 4) throw new UserError(file, [`has ${buf.length} bytes, the manifest says [${n}, ${k}] int32 (${n * k * 4} bytes)`]);
      r[Number(hit[1])] = Array.from({ length: n }, (_, i) => Array.from({ length: k }, (_, j) => buf.readInt32LE(4 * (i * k + j))));
    }
    out[t.name] = r;
  }
  return out;
}
