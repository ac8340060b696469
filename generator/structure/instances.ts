/**
 * RTL instances by UG1399's rule ("Function Instantiation", set_directive_allocation): a
 * function that is not inlined is a module, and every call site in a calling module is an
 * instance of it. An inlined function dissolves into each module that calls it, so its call
 * sites (and multipliers) are folded into its nearest non-inlined ancestor, once per call of
 * it. `allocation function instances=f limit=n` caps the instances of f in the function where
 * it is written: its own call sites and those of the functions inlined into it (they are its
 * own once inlined), not those of the modules it calls ("to share one unit, its callers must
 * be inlined into one scope"). A call inside a fully unrolled loop of trip U is U call sites.
 */
import type { FunctionFacts } from './walk';
import { intOption } from './pragmas';
import type { FunctionDef } from './program';
import type { Operand } from './types';

export interface MulShape {
  a: Operand;
  b: Operand;
  count: number;
  /** Inside a pipelined loop (its own, or the one its inlined function is called from): a
   * datapath multiplier busy every cycle; else control (setup, addresses), once per job. */
  pipelined: boolean;
}

/** What one instance of a module holds once its inlined callees are folded in. */
export interface Folded {
  /** Instances of each non-inlined callee (by id) created by this module. */
  sites: Map<string, number>;
  muls: Map<string, MulShape>;
}

export interface InstanceCounts {
  instances: Map<string, number>;
  folded: Map<string, Folded>;
  /** Functions on a call cycle (HLS cannot build recursion). */
  recursive: Set<string>;
}

export function mulKey(a: Operand, b: Operand): string {
  const [x, y] = orderOperands(a, b);
  return `${x.bits}${x.signed ? 's' : 'u'}x${y.bits}${y.signed ? 's' : 'u'}`;
}

/** The wider operand first. */
export function orderOperands(a: Operand, b: Operand): [Operand, Operand] {
  return a.bits >= b.bits ? [a, b] : [b, a];
}

function addMul(into: Map<string, MulShape>, a: Operand, b: Operand, count: number, pipelined: boolean): void {
  const key = `${mulKey(a, b)}${pipelined ? ' pipelined' : ''}`;
  const cur = into.get(key);
  if (cur) cur.count += count;
  else into.set(key, { a, b, count, pipelined });
}

/** The limit an `allocation function` pragma of `fn` puts on calls of `callee`, if any. */
function allocationLimit(fn: FunctionDef, callee: FunctionDef): number | null {
  for (const p of fn.pragmas) {
    if (p.directive !== 'allocation' || p.flags.includes('operation') || p.options.type === 'operation') continue;
    const target = p.options.instances;
    if (target === callee.baseName || target === callee.name) return intOption(p, 'limit');
  }
  return null;
}

/** `inPipeline`: the facts of each function once inlined into a pipelined loop (its loops
 * unrolled, so its call sites multiplied by their trip counts). */
/** `specialise`: the facts of a function as inlined at a call site with these constant
 * arguments (walk.ts walkFunction with constArgs). */
export type Specialise = (id: string, pipelined: boolean, constArgs: (number | null)[]) => FunctionFacts | undefined;

export function countInstances(facts: Map<string, FunctionFacts>, inPipeline: Map<string, FunctionFacts>, roots: string[], specialise?: Specialise): InstanceCounts {
  const folded = new Map<string, Folded>();
  const foldedInPipeline = new Map<string, Folded>();
  const foldedSpecial = new Map<string, Folded>();
  const recursive = new Set<string>();
  const onStack = new Set<string>();
  const fold = (id: string, pipelined = false, constArgs: (number | null)[] = []): Folded => {
    const special = specialise !== undefined && constArgs.some((v) => v !== null);
    const key = `${id} ${pipelined} ${constArgs.join(',')}`;
    const memo = special ? foldedSpecial.get(key) : (pipelined ? foldedInPipeline : folded).get(id);
    if (memo) return memo;
    const f = special ? specialise(id, pipelined, constArgs) : (pipelined ? inPipeline : facts).get(id);
    const out: Folded = { sites: new Map(), muls: new Map() };
    if (!f || onStack.has(id)) {
      recursive.add(id);
      return out;
    }
    onStack.add(id);
    const sites = new Map<string, number>();
    const add = (k: string, n: number): void => {
      sites.set(k, (sites.get(k) ?? 0) + n);
    };
    for (const call of f.calls) {
      const calleeId = call.callee.id;
      if (onStack.has(calleeId)) {
        recursive.add(calleeId);
        continue;
      }
      if (facts.get(calleeId)?.inline === 'inline') {
        const inner = fold(calleeId, call.region !== null, call.constArgs);
        for (const [k, n] of inner.sites) add(k, n * call.copies);
        for (const m of inner.muls.values()) addMul(out.muls, m.a, m.b, m.count * call.copies, m.pipelined || call.region !== null);
      } else {
        add(calleeId, call.copies);
      }
    }
    for (const [k, n] of sites) {
      const limit = allocationLimit(f.fn, facts.get(k)!.fn);
      out.sites.set(k, limit !== null ? Math.min(n, limit) : n);
    }
    for (const op of f.ops) if (op.op === '*') addMul(out.muls, op.a, op.b, op.copies, pipelined || op.region !== null);
    onStack.delete(id);
    if (special) foldedSpecial.set(key, out);
    else (pipelined ? foldedInPipeline : folded).set(id, out);
    return out;
  };
  for (const id of facts.keys()) fold(id);

  const instances = new Map<string, number>();
  const visiting = new Set<string>();
  const count = (id: string): number => {
    const memo = instances.get(id);
    if (memo !== undefined) return memo;
    if (facts.get(id)?.inline === 'inline' || visiting.has(id)) return 0;
    visiting.add(id);
    let n = roots.includes(id) ? 1 : 0;
    for (const [m, fm] of folded) {
      const sites = fm.sites.get(id);
      if (sites && facts.get(m)?.inline !== 'inline') n += count(m) * sites;
    }
    visiting.delete(id);
    instances.set(id, n);
    return n;
  };
  for (const id of facts.keys()) count(id);
  return { instances, folded, recursive };
}

/** Multipliers over every instance of every module. */
export function totalMultipliers(counts: InstanceCounts): MulShape[] {
  const total = new Map<string, MulShape>();
  for (const [id, f] of counts.folded) {
    const n = counts.instances.get(id) ?? 0;
    if (n > 0) for (const m of f.muls.values()) addMul(total, m.a, m.b, m.count * n, m.pipelined);
  }
  return [...total.values()];
}
