/**
 * What one iteration of each pipelined loop (or pipelined function) does, calls included:
 * a call is followed into the callee (inlined or not: either way its work happens in the
 * iteration), with the callee's array parameters bound to the caller's arrays. From that:
 * calls of functions that are not inlined, accesses of each array against its ports, and
 * divides / shifts whose divisor or amount is not a constant.
 */
import type { Program } from './program';
import type { PortModel } from './ports';
import type { ArrayAccess, PipelineOp, PipelineReport, Violation } from './types';
import type { CallEvent, FunctionFacts, OpKind, Region } from './walk';

interface Iteration {
  accesses: Map<string, number>;
  ops: Map<string, PipelineOp>;
  violations: Violation[];
}

const MAX_CALL_DEPTH = 32;

export function analysePipeline(
  region: Region,
  facts: Map<string, FunctionFacts>,
  inPipeline: Map<string, FunctionFacts>,
  program: Program,
  ports: PortModel,
): { report: PipelineReport; ops: PipelineOp[]; violations: Violation[] } {
  const it: Iteration = { accesses: new Map(), ops: new Map(), violations: [] };
  const own = facts.get(region.fn.id)!;
  const inRegion = <T extends { region: Region | null }>(xs: T[]): T[] => xs.filter((x) => x.region === region);
  for (const a of inRegion(own.accesses)) addAccess(it, a.varId, a.count * a.regionCopies);
  for (const o of inRegion(own.ops)) addOp(it, region, region.fn.name, o.op, o, o.regionCopies);
  for (const c of inRegion(own.calls)) followCall(it, region, c, c.regionCopies, new Map(), { facts, inPipeline, ports }, true, 0);

  const arrays: ArrayAccess[] = [];
  for (const [id, accesses] of it.accesses) {
    const p = ports.ports(id);
    const variable = variableName(program, id);
    arrays.push({ variable, accesses, ports: p });
    // A loop at II = n has n cycles per iteration: each port serves n accesses.
    const cycles = typeof region.ii === 'number' && region.ii > 1 ? region.ii : 1;
    if (typeof p === 'number' && accesses > p * cycles) {
      it.violations.push({
        kind: 'array-ports',
        file: region.file,
        line: region.line,
        message: `${region.name} (${region.fn.name}): ${accesses} accesses of ${variable} per iteration, ${p} ports${cycles > 1 ? ` x II ${cycles}` : ''} (partition or replicate it to ${Math.ceil(accesses / (2 * cycles))} banks)`,
      });
    }
  }
  arrays.sort((a, b) => a.variable.localeCompare(b.variable));
  const ops = [...it.ops.values()];
  // A run-time divide in a pipelined loop is a pipelined divider (StructureReport.dividers,
  // which the estimate must count); a modulo beside it would be a second one, so the kernels
  // never write one (floor_div takes one divide).
  for (const o of ops) {
    if (o.op !== '%') continue;
    it.violations.push({
      kind: 'runtime-divide',
      file: o.file,
      line: o.line,
      message: `${region.name}: ${o.bits}-bit modulo by a run-time ${o.amountBits}-bit value in ${o.function} (x${o.copies} per iteration): a second divider; take the remainder from one divide`,
    });
  }
  const report: PipelineReport = {
    name: region.name,
    function: region.fn.name,
    kind: region.kind,
    file: region.file,
    line: region.line,
    ii: region.ii,
    unrolled: region.unrolled,
    arrays,
  };
  return { report, ops, violations: it.violations };
}

function variableName(program: Program, id: string): string {
  const v = program.variables.get(id);
  if (!v) return id;
  return v.fn ? `${v.fn.name}.${v.node.name}` : (v.node.name ?? id);
}

function addAccess(it: Iteration, id: string, n: number): void {
  it.accesses.set(id, (it.accesses.get(id) ?? 0) + n);
}

function addOp(it: Iteration, region: Region, fnName: string, op: OpKind, o: { file: string; line: number; a: { bits: number }; b: { bits: number } }, copies: number): void {
  if (op === '*') return;
  const key = `${o.file}:${o.line}:${op}:${fnName}`;
  const cur = it.ops.get(key);
  if (cur) cur.copies += copies;
  else it.ops.set(key, { pipeline: region.name, function: fnName, file: o.file, line: o.line, op, bits: o.a.bits, amountBits: o.b.bits, copies });
}

/** The callee's work, `copies` times per iteration; `bound` maps the callee's parameters to
 * the arrays they stand for; `direct`: every function between the loop and here is inlined. */
function followCall(
  it: Iteration,
  region: Region,
  call: CallEvent,
  copies: number,
  bound: Map<string, string>,
  ctx: { facts: Map<string, FunctionFacts>; inPipeline: Map<string, FunctionFacts>; ports: PortModel },
  direct: boolean,
  depth: number,
): void {
  const asWritten = ctx.facts.get(call.callee.id);
  if (!asWritten || depth > MAX_CALL_DEPTH) return;
  // Inlined into the loop, the callee's loops unroll with it; a sub-module keeps its own.
  const inlined = direct && asWritten.inline === 'inline';
  const f = inlined ? ctx.inPipeline.get(call.callee.id)! : asWritten;
  if (inlined) {
    for (const u of f.unknownBounds) {
      it.violations.push({
        kind: 'unroll-bound',
        file: u.loop.file,
        line: u.loop.line,
        message: `${u.loop.name} (${f.fn.name}, inlined into pipelined ${region.name}) must unroll but its trip count is not a compile-time constant`,
      });
    }
  }
  if (direct && f.inline !== 'inline') {
    const why = f.inline === 'off' ? '`inline off`' : 'no `#pragma HLS inline`';
    it.violations.push({
      kind: 'call-not-inlined',
      file: call.file,
      line: call.line,
      message: `${region.name} (${region.fn.name}): calls ${f.fn.name}, which is not inlined (${why}): a sub-module in a pipelined loop`,
    });
  }
  // A parameter with partition pragmas of its own is a memory of its own; any other stands
  // for the caller's array.
  const params = new Map<string, string>();
  call.callee.params.forEach((p, i) => {
    const arg = call.bindings[i];
    if (p.id && arg && !ctx.ports.hasStoragePragmas(p.id)) params.set(p.id, bound.get(arg) ?? arg);
  });
  const resolve = (id: string): string => params.get(id) ?? bound.get(id) ?? id;
  for (const a of f.accesses) addAccess(it, resolve(a.varId), a.count * a.copies * copies);
  for (const o of f.ops) addOp(it, region, f.fn.name, o.op, o, o.copies * copies);
  for (const c of f.calls) followCall(it, region, c, c.copies * copies, params, ctx, inlined, depth + 1);
}
