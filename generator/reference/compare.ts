/**
 * Error of an int run against a float run of the same weights and image, layer by layer
 * (the checkpoints both modes record under the same names): max |int - float| after
 * dequantizing, relative L2 ||int - float|| / ||float||, and the int run's saturations.
 */
import type { Checkpoint, FloatRun, IntRun } from './types';

export interface LayerError {
  name: string;
  /** Largest |dequantized int - float|. */
  maxAbs: number;
  /** ||int - float||_2 / ||float||_2 (0 when both are zero). */
  relL2: number;
  /** Largest |float| (the scale the errors compare with). */
  floatMaxAbs: number;
  /** Saturations counted for the layer in the int run. */
  saturated: number;
  /** Gate layers: tokens whose set of kept experts differs between the two runs. */
  gateMismatch?: number;
}

export function errorOf(intData: ArrayLike<number>, frac: number, floatData: ArrayLike<number>): { maxAbs: number; relL2: number; floatMaxAbs: number } {
  if (intData.length !== floatData.length) throw new Error(`compare: ${intData.length} int values vs ${floatData.length} float values`);
  const scale = 2 ** -frac;
  let maxAbs = 0;
  let num = 0;
  let den = 0;
  let floatMaxAbs = 0;
  for (let i = 0; i < intData.length; i++) {
    const f = floatData[i];
    const e = intData[i] * scale - f;
    const ae = Math.abs(e);
    if (ae > maxAbs) maxAbs = ae;
    if (Math.abs(f) > floatMaxAbs) floatMaxAbs = Math.abs(f);
    num += e * e;
    den += f * f;
  }
  return { maxAbs, relL2: den > 0 ? Math.sqrt(num / den) : num > 0 ? Infinity : 0, floatMaxAbs };
}

/** One row per checkpoint both runs recorded (both must have run with { record: true }). */
export function compareRuns(f: FloatRun, q: IntRun): LayerError[] {
  const byName = new Map<string, Checkpoint>(f.checkpoints.map((c) => [c.name, c]));
  const rows: LayerError[] = [];
  for (const c of q.checkpoints) {
    const fc = byName.get(c.name);
    if (!fc) continue;
    if (c.name.endsWith('.gate.experts')) {
      const block = Number(/^blocks\.(\d+)\./.exec(c.name)![1]);
      const gi = q.gates.find((g) => g.block === block)!;
      const gf = f.gates.find((g) => g.block === block)!;
      let mismatch = 0;
      const n = gi.experts.length / gi.k;
      for (let t = 0; t < n; t++) {
        const a = Array.from(gi.experts.subarray(t * gi.k, (t + 1) * gi.k)).sort((x, y) => x - y);
        const b = Array.from(gf.experts.subarray(t * gf.k, (t + 1) * gf.k)).sort((x, y) => x - y);
        if (a.some((v, i) => v !== b[i])) mismatch++;
      }
      rows.push({ name: c.name, maxAbs: 0, relL2: 0, floatMaxAbs: 0, saturated: 0, gateMismatch: mismatch });
      continue;
    }
    if (c.frac === undefined) continue;
    const e = errorOf(c.data, c.frac, fc.data);
    rows.push({ name: c.name, ...e, saturated: q.counts[c.name]?.saturated ?? 0 });
  }
  return rows;
}

/** A fixed-width table for the terminal. */
export function formatErrorTable(rows: LayerError[]): string {
  const lines = [`${'layer'.padEnd(28)} ${'max abs err'.padStart(12)} ${'rel L2'.padStart(10)} ${'max |float|'.padStart(12)} ${'saturated'.padStart(10)}`];
  for (const r of rows) {
    if (r.gateMismatch !== undefined) {
      lines.push(`${r.name.padEnd(28)} ${`${r.gateMismatch} token(s) routed differently`.padStart(46)}`);
      continue;
    }
    lines.push(
      `${r.name.padEnd(28)} ${r.maxAbs.toExponential(3).padStart(12)} ${r.relL2.toExponential(2).padStart(10)} ${r.floatMaxAbs.toPrecision(4).padStart(12)} ${String(r.saturated).padStart(10)}`,
    );
  }
  return lines.join('\n');
}
