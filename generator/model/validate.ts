/**
 * Semantic checks of a model description, beyond what its types say: shapes that must
 * divide, counts that must be positive integers, names that must be usable in C++ and in
 * checkpoints. All problems are reported at once, each at the position of the field.
 */
import { UserError } from '../util/errors';
import type { LoadedModel } from './load';
import type { ModelSpec } from './spec';

const NAME_RE = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Model names go into generated C++, Tcl and Make comments and reports: an alphabet in
 * which no comment can be ended or continued onto the next line (no newline, no backslash). */
const MODEL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.+ -]{0,63}$/;

export function validateModelSpec(model: LoadedModel): void {
  const problems: string[] = [];
  const spec = model.spec;
  const where = (field: string): string => {
    // Fall back to the nearest enclosing field that has a position.
    for (let f = field; ; f = f.slice(0, f.lastIndexOf('/'))) {
      const p = model.positions.get(f);
      if (p) return `${p.file}:${p.line}:${p.col}`;
      if (f === '') return `${model.file}:1:1`;
    }
  };
  const fail = (field: string, msg: string): void => {
    problems.push(`${where(field)}: ${field.slice(1).replace(/\//g, '.')}: ${msg}`);
  };
  const posInt = (field: string, v: unknown, max = 1 << 20): v is number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      fail(field, `must be a whole number from 1 to ${max} (got ${String(v)})`);
      return false;
    }
    return true;
  };

  if (typeof spec.name !== 'string' || spec.name.length === 0) fail('/name', 'must be a non-empty string');
  else if (!MODEL_NAME_RE.test(spec.name)) {
    fail('/name', `${JSON.stringify(spec.name)} is not a usable model name: a letter or digit, then letters, digits, spaces or _ . + - (at most 64 characters)`);
  }
  const H = spec.image?.height;
  const W = spec.image?.width;
  const okH = posInt('/image/height', H, 8192);
  const okW = posInt('/image/width', W, 8192);
  if (spec.image?.channels !== undefined) posInt('/image/channels', spec.image.channels, 64);
  const okP = posInt('/patch', spec.patch, 256);
  if (okP && okH && H % spec.patch !== 0) fail('/image/height', `${H} is not divisible by the patch size ${spec.patch}`);
  if (okP && okW && W % spec.patch !== 0) fail('/image/width', `${W} is not divisible by the patch size ${spec.patch}`);
  const okD = posInt('/embedDim', spec.embedDim, 8192);
  posInt('/depth', spec.depth, 256);
  const okHeads = posInt('/heads', spec.heads, 256);
  if (okD && okHeads && spec.embedDim % spec.heads !== 0) {
    fail('/heads', `embedDim ${spec.embedDim} is not divisible by ${spec.heads} heads; divisors of ${spec.embedDim}: ${divisors(spec.embedDim).join(', ')}`);
  }
  if (typeof spec.mlpRatio !== 'number' || !(spec.mlpRatio > 0)) {
    fail('/mlpRatio', `must be a positive number (got ${String(spec.mlpRatio)})`);
  } else if (okD && !Number.isInteger(spec.mlpRatio * spec.embedDim)) {
    fail('/mlpRatio', `mlpRatio x embedDim = ${spec.mlpRatio * spec.embedDim} must be a whole number`);
  }
  if (spec.layerNormEps !== undefined && !(spec.layerNormEps > 0 && spec.layerNormEps < 1)) {
    fail('/layerNormEps', `must be between 0 and 1, exclusive (got ${spec.layerNormEps})`);
  }

  if (spec.moe !== undefined) {
    const m = spec.moe;
    const okE = posInt('/moe/experts', m.experts, 1024);
    const okK = posInt('/moe/topK', m.topK, 1024);
    if (okE && okK && m.topK > m.experts) fail('/moe/topK', `top-k ${m.topK} exceeds the ${m.experts} experts; allowed: 1 to ${m.experts}`);
    posInt('/moe/hidden', m.hidden, 65536);
    if (typeof spec.depth === 'number' && Number.isInteger(spec.depth)) {
      if (Array.isArray(m.blocks)) {
        const seen = new Set<number>();
        m.blocks.forEach((b, i) => {
          if (!Number.isInteger(b) || b < 0 || b >= spec.depth) fail(`/moe/blocks/${i}`, `block ${b} does not exist; blocks are 0 to ${spec.depth - 1}`);
          else if (seen.has(b)) fail(`/moe/blocks/${i}`, `block ${b} is listed twice`);
          seen.add(b);
        });
      }
      if (moeBlockIndices(spec).length === 0) fail('/moe/blocks', `selects no block of a ${spec.depth}-block model; remove "moe" for a dense ViT`);
    }
  }

  if (!Array.isArray(spec.tasks) || spec.tasks.length === 0) {
    fail('/tasks', 'at least one task is needed');
  } else {
    const names = new Set<string>();
    spec.tasks.forEach((t, i) => {
      const f = `/tasks/${i}`;
      if (typeof t.name !== 'string' || !NAME_RE.test(t.name)) {
        fail(`${f}/name`, `"${t.name}" is not a usable task name: a letter, then letters, digits or underscores (it names C++ symbols and checkpoint keys)`);
      } else if (names.has(t.name)) {
        fail(`${f}/name`, `task "${t.name}" is defined twice`);
      }
      names.add(t.name);
      posInt(`${f}/channels`, t.channels, 4096);
      const head = t.head ?? { kind: 'uphead' as const };
      if (head.kind === 'uphead') {
        if (head.channels !== undefined) posInt(`${f}/head/channels`, head.channels, 4096);
        if (okP && (spec.patch < 2 || (spec.patch & (spec.patch - 1)) !== 0)) {
          fail(`${f}/head`, `the UpHead upsamples by 2 until the patch grid is back at image size, so the patch (${spec.patch}) must be a power of two >= 2; use { kind: "linear" } otherwise`);
        }
      }
    });
  }

  if (problems.length > 0) {
    throw new UserError(model.file, problems, `invalid model description (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  }
}

/** The indices of the MoE blocks. */
export function moeBlockIndices(spec: ModelSpec): number[] {
  if (!spec.moe) return [];
  const all = Array.from({ length: spec.depth }, (_, i) => i);
  const sel = spec.moe.blocks ?? 'odd';
  if (sel === 'odd') return all.filter((i) => i % 2 === 1);
  if (sel === 'even') return all.filter((i) => i % 2 === 0);
  if (sel === 'all') return all;
  return [...sel].sort((a, b) => a - b);
}

export function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}
