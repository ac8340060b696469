/**
 * From the program and the per-function facts to the StructureReport: instances, multipliers
 * per function and over all instances (with DSP48E2 slices), pipelined loops, dependence
 * pragmas and the violations.
 */
import { arrayDims } from './ast';
import { dspPerProduct } from './dsp';
import { countInstances, mulKey, orderOperands, totalMultipliers } from './instances';
import type { Folded, MulShape, Specialise } from './instances';
import { analysePipeline } from './pipelines';
import { PortModel } from './ports';
import type { Program } from './program';
import type { ControlMultipliers, DependenceReport, DividerCount, FunctionReport, MultiplierCount, MultiplierGroup, PipelineOp, PipelineReport, StructureReport, Violation } from './types';
import type { FunctionFacts } from './walk';

/** `facts`: each function as written; `inPipeline`: as inlined into a pipelined loop. Roots
 * (one instance each) are the functions of the main file no one calls. */
export function analyse(program: Program, facts: Map<string, FunctionFacts>, inPipeline: Map<string, FunctionFacts>, specialise?: Specialise): StructureReport {
  const called = new Set([...facts.values()].flatMap((f) => f.calls.map((c) => c.callee.id)));
  const roots = [...facts.values()]
    .filter((f) => f.fn.file === program.mainFile && !called.has(f.fn.id) && f.inline !== 'inline')
    .map((f) => f.fn.id);
  const counts = countInstances(facts, inPipeline, roots, specialise);
  const ports = new PortModel(program, facts);
  const pipelines = pipelineFindings(program, facts, inPipeline, ports);
  const dependences = dependenceReports(program, ports);
  const violations = [
    ...pipelines.violations,
    ...unrollBoundViolations(facts),
    ...recursionViolations(program, counts.recursive),
    ...dependenceViolations(dependences),
  ];
  const multipliers = groupDsp(totalMultipliers(counts));
  const functions = functionReports(facts, counts.instances, counts.folded);
  return {
    file: program.mainFile,
    functions,
    pipelines: pipelines.reports.sort(byPlace),
    multipliers,
    dsp: multipliers.reduce((s, m) => s + m.dsp, 0),
    pipelineOps: pipelines.ops.sort((a, b) => byPlace(a, b) || a.pipeline.localeCompare(b.pipeline)),
    dividers: dividerCounts(pipelines.ops, pipelines.reports, functions),
    dataflow: [],
    dependences,
    violations: distinct(violations).sort((a, b) => byPlace(a, b) || a.message.localeCompare(b.message)),
  };
}

function pipelineFindings(program: Program, facts: Map<string, FunctionFacts>, inPipeline: Map<string, FunctionFacts>, ports: PortModel) {
  const out = { reports: [] as PipelineReport[], ops: [] as PipelineOp[], violations: [] as Violation[] };
  for (const f of facts.values()) {
    for (const region of f.regions) {
      const r = analysePipeline(region, facts, inPipeline, program, ports);
      out.reports.push(r.report);
      out.ops.push(...r.ops);
      out.violations.push(...r.violations);
    }
  }
  return out;
}

/** Every `/` of a pipelined loop, times the instances of the loop's function. */
function dividerCounts(ops: PipelineOp[], pipelines: PipelineReport[], functions: FunctionReport[]): DividerCount[] {
  const instances = (fn: string): number => Math.max(1, functions.find((f) => f.name === fn)?.instances ?? 1);
  return ops
    .filter((o) => o.op === '/')
    .map((o) => {
      const region = pipelines.find((p) => p.name === o.pipeline);
      return { pipeline: o.pipeline, function: o.function, dividend: o.bits, divisor: o.amountBits, count: o.copies * instances(region?.function ?? '') };
    })
    .sort((a, b) => a.pipeline.localeCompare(b.pipeline) || b.dividend - a.dividend);
}

function unrollBoundViolations(facts: Map<string, FunctionFacts>): Violation[] {
  return [...facts.values()].flatMap((f) =>
    f.unknownBounds.map((u) => ({
      kind: 'unroll-bound' as const,
      file: u.loop.file,
      line: u.loop.line,
      message: `${u.loop.name} (${f.fn.name}) must unroll${u.region ? ` inside pipelined ${u.region.name}` : ''} but its trip count is not a compile-time constant`,
    })),
  );
}

function recursionViolations(program: Program, recursive: Set<string>): Violation[] {
  return [...recursive]
    .map((id) => program.functions.get(id))
    .filter((fn) => fn !== undefined)
    .map((fn) => ({ kind: 'recursion' as const, file: fn!.file, line: fn!.line, message: `${fn!.name} is on a call cycle: HLS cannot build recursion` }));
}

function dependenceViolations(dependences: DependenceReport[]): Violation[] {
  return dependences
    .filter((d) => d.target === 'scalar' || d.target === 'registers')
    .map((d) => ({
      kind: 'dependence-on-register' as const,
      file: d.file,
      line: d.line,
      message: `${d.function}: \`${d.pragma.replace(/^#pragma HLS /, '')}\` names ${d.variable}, a ${d.target === 'scalar' ? 'scalar' : 'fully partitioned array (registers)'}: the dependence pragma acts on arrays and pointers only, the recurrence is scheduled as written`,
    }));
}

/** One of each (a callee reached from a loop twice reports its problem once). */
function distinct(violations: Violation[]): Violation[] {
  const seen = new Set<string>();
  return violations.filter((v) => {
    const key = `${v.kind}|${v.file}|${v.line}|${v.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function byPlace(a: { file: string; line: number }, b: { file: string; line: number }): number {
  return a.file.localeCompare(b.file) || a.line - b.line;
}

function signedBits(o: { bits: number; signed: boolean }): number {
  return o.signed ? o.bits : o.bits + 1;
}

function groupDsp(shapes: MulShape[]): MultiplierGroup[] {
  const groups = new Map<string, MultiplierGroup>();
  for (const m of shapes) {
    const [a, b] = orderOperands(m.a, m.b);
    const key = `${a.bits}x${b.bits}`;
    const dspEach = dspPerProduct(signedBits(a), signedBits(b));
    const g = groups.get(key) ?? { aBits: a.bits, bBits: b.bits, count: 0, pipelined: 0, dspEach: 0, dsp: 0 };
    g.count += m.count;
    if (m.pipelined) g.pipelined += m.count;
    g.dspEach = Math.max(g.dspEach, dspEach);
    g.dsp += dspEach * m.count;
    groups.set(key, g);
  }
  return [...groups.values()].sort((x, y) => y.aBits - x.aBits || y.bBits - x.bBits);
}

function ownMultipliers(f: FunctionFacts): MultiplierCount[] {
  const byShape = new Map<string, MultiplierCount>();
  for (const op of f.ops) {
    if (op.op !== '*') continue;
    const [a, b] = orderOperands(op.a, op.b);
    const key = mulKey(a, b);
    const cur = byShape.get(key) ?? { aBits: a.bits, bBits: b.bits, signedBits: [signedBits(a), signedBits(b)] as [number, number], count: 0, lines: [] };
    cur.count += op.copies;
    if (!cur.lines.includes(op.line)) cur.lines.push(op.line);
    byShape.set(key, cur);
  }
  return [...byShape.values()].sort((x, y) => y.aBits - x.aBits || y.bBits - x.bBits);
}

/** The multipliers outside pipelines of one call of a function, its inlined callees folded in. */
function controlMultipliers(folded: Folded | undefined): ControlMultipliers[] {
  const control = groupDsp([...(folded?.muls.values() ?? [])].filter((m) => !m.pipelined));
  return control.map((g) => ({ aBits: g.aBits, bBits: g.bBits, count: g.count, dsp: g.dsp }));
}

function functionReports(facts: Map<string, FunctionFacts>, instances: Map<string, number>, folded: Map<string, Folded>): FunctionReport[] {
  const callers = new Map<string, Set<string>>();
  for (const f of facts.values()) for (const c of f.calls) callers.set(c.callee.id, (callers.get(c.callee.id) ?? new Set()).add(f.fn.name));
  return [...facts.values()]
    .map((f) => ({
      name: f.fn.name,
      file: f.fn.file,
      line: f.fn.line,
      inline: f.inline,
      pipelined: f.regions.some((r) => r.kind === 'function'),
      instances: instances.get(f.fn.id) ?? 0,
      callers: [...(callers.get(f.fn.id) ?? [])].sort(),
      callSites: f.calls
        .map((c) => ({ callee: c.callee.name, file: c.file, line: c.line, copies: c.copies, pipeline: c.region?.name ?? null }))
        .sort((a, b) => byPlace(a, b) || a.callee.localeCompare(b.callee)),
      allocations: f.fn.pragmas
        .filter((p) => p.directive === 'allocation' && p.options.instances !== undefined)
        .map((p) => ({ callee: p.options.instances, limit: Number(p.options.limit ?? NaN) })),
      multipliers: ownMultipliers(f),
      control: controlMultipliers(folded.get(f.fn.id)),
    }))
    .sort((a, b) => byPlace(a, b) || a.name.localeCompare(b.name));
}

function dependenceReports(program: Program, ports: PortModel): DependenceReport[] {
  const out: DependenceReport[] = [];
  for (const fn of program.functions.values()) {
    const all = [...fn.pragmas, ...[...fn.loops.values()].flatMap((l) => l.pragmas)];
    for (const p of all) {
      if (p.directive !== 'dependence' || p.options.variable === undefined) continue;
      const v = fn.vars.get(p.options.variable) ?? program.globals.get(p.options.variable);
      let target: DependenceReport['target'] = 'unknown';
      if (v?.id) {
        const dims = arrayDims(v.type);
        const pr = ports.ports(v.id);
        target = dims.length === 0 ? 'scalar' : pr === 'registers' ? 'registers' : dims.length === 1 && dims[0] === null ? 'pointer' : 'array';
      }
      out.push({ function: fn.name, variable: p.options.variable, target, pragma: p.text, file: p.file, line: p.line });
    }
  }
  return out
    .sort((a, b) => byPlace(a, b) || a.function.localeCompare(b.function));
}
