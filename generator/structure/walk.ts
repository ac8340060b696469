/**
 * One pass over each function body: the calls, the operators that cost hardware (`*`, and
 * `/`, `%`, `<<`, `>>` by a run-time amount) and the array accesses, each with its number of
 * copies (unrolled loops) and the pipelined region it sits in. A pipelined loop (or function)
 * unrolls every loop inside it (UG1399), so inside one a loop's copies are its trip count.
 */
import type { AstNode } from './clang';
import { fileLoc, LineIndex } from './clang';
import { constValue, DeclOverlay, kids, operandOf, stripCasts, typeWidth } from './ast';
import type { DeclLookup } from './ast';
import { intOption, isPipelinePragma } from './pragmas';
import type { FunctionDef, LoopDef, Program } from './program';
import { constructorKey, resolveFunction } from './program';
import type { InlineStatus, Operand, UnrolledLoop } from './types';

export interface Region {
  name: string;
  fn: FunctionDef;
  kind: 'loop' | 'function';
  file: string;
  line: number;
  ii: number | null;
  unrolled: UnrolledLoop[];
}

interface Where {
  file: string;
  line: number;
  /** Copies in one instance of the function. */
  copies: number;
  region: Region | null;
  /** Copies per iteration of `region`. */
  regionCopies: number;
}

export interface CallEvent extends Where {
  callee: FunctionDef;
  /** Per callee parameter: the id of the caller's variable passed (arrays), or null. */
  bindings: (string | null)[];
  /** Per callee parameter: the argument's value when it is a compile-time constant here. An
   * inlined callee is specialised on them (HLS folds its constant arithmetic once inlined). */
  constArgs: (number | null)[];
}

export type OpKind = '*' | '/' | '%' | '<<' | '>>';

export interface OpEvent extends Where {
  op: OpKind;
  a: Operand;
  b: Operand;
}

export interface AccessEvent extends Where {
  varId: string;
  /** 2 for a read-modify-write (`a[i] += x`, `a[i]++`). */
  count: number;
}

export interface FunctionFacts {
  fn: FunctionDef;
  inline: InlineStatus;
  regions: Region[];
  calls: CallEvent[];
  ops: OpEvent[];
  accesses: AccessEvent[];
  /** Loops that must unroll (inside a pipeline, or `unroll` without a factor) but have no
   * constant trip count. */
  unknownBounds: { loop: LoopDef; region: Region | null }[];
}

interface Ctx {
  copies: number;
  region: Region | null;
  regionCopies: number;
}

const OPS: Record<string, OpKind> = { '*': '*', '/': '/', '%': '%', '<<': '<<', '>>': '>>' };

export function inlineStatus(fn: FunctionDef): InlineStatus {
  const p = fn.pragmas.find((x) => x.directive === 'inline');
  if (!p) return 'none';
  return p.flags.includes('off') || p.options.off === 'true' ? 'off' : 'inline';
}

/** `inPipeline`: the function as it is once inlined into a pipelined loop, every loop of it
 * unrolled (its events then sit in a stand-in region that is not reported on its own).
 * `constArgs`: the function as inlined at a call site whose arguments are these constants
 * (null: not constant), so products of constants cost nothing, as after HLS's folding. */
export function walkFunction(program: Program, fn: FunctionDef, lines: LineIndex, inPipeline = false, constArgs: (number | null)[] = []): FunctionFacts {
  const facts: FunctionFacts = { fn, inline: inlineStatus(fn), regions: [], calls: [], ops: [], accesses: [], unknownBounds: [] };
  const bound = new Map<string, number>();
  constArgs.forEach((v, i) => {
    const id = fn.params[i]?.id;
    if (v !== null && id) bound.set(id, v);
  });
  const decls: DeclLookup = bound.size > 0 ? new DeclOverlay(program.decls, bound) : program.decls;
  const where = (n: AstNode, ctx: Ctx): Where => {
    const b = fileLoc(n.range?.begin);
    const file = b?.file ?? fn.file;
    return { file, line: b?.offset !== undefined ? lines.line(file, b.offset) : fn.line, ...ctx };
  };
  const pipe = fn.pragmas.find(isPipelinePragma);
  let top: Ctx = { copies: 1, region: null, regionCopies: 1 };
  if (inPipeline) {
    top = { ...top, region: { name: `${fn.name} (inlined)`, fn, kind: 'function', file: fn.file, line: fn.line, ii: null, unrolled: [] } };
  } else if (pipe) {
    const region: Region = { name: `${fn.name} (function)`, fn, kind: 'function', file: fn.file, line: fn.line, ii: intOption(pipe, 'ii'), unrolled: [] };
    facts.regions.push(region);
    top = { ...top, region };
  }

  const visit = (n: AstNode, ctx: Ctx, rmw = false): void => {
    const c = kids(n);
    const loop = fn.loops.get(n);
    if (loop) return visitLoop(n, loop, ctx);
    if (n.kind === 'ArraySubscriptExpr') return visitSubscript(n, ctx, rmw);
    if (n.kind === 'BinaryOperator' || n.kind === 'CompoundAssignOperator') {
      const op = OPS[(n.opcode ?? '').replace(/=$/, '')];
      if (op && c.length === 2) recordOp(op, c[0], c[1], n, ctx);
      c.forEach((x, i) => visit(x, ctx, n.kind === 'CompoundAssignOperator' && i === 0));
      return;
    }
    if (n.kind === 'UnaryOperator' && (n.opcode === '++' || n.opcode === '--')) return c.forEach((x) => visit(x, ctx, true));
    if (n.kind === 'CallExpr' || n.kind === 'CXXMemberCallExpr' || n.kind === 'CXXOperatorCallExpr') visitCall(n, ctx);
    if (n.kind === 'CXXConstructExpr' || n.kind === 'CXXTemporaryObjectExpr') visitConstruct(n, ctx);
    for (const x of c) visit(x, ctx);
  };

  const visitLoop = (n: AstNode, loop: LoopDef, ctx: Ctx): void => {
    const raw = n.inner ?? [];
    const body = n.kind === 'DoStmt' ? raw[0] : raw[raw.length - 1];
    for (const h of raw) if (h !== body && h.kind) visit(h, ctx);
    const pipe = loop.pragmas.find(isPipelinePragma);
    if (pipe && ctx.region === null) {
      const region: Region = { name: loop.name, fn, kind: 'loop', file: loop.file, line: loop.line, ii: intOption(pipe, 'ii'), unrolled: [] };
      facts.regions.push(region);
      return visit(body, { copies: ctx.copies, region, regionCopies: 1 });
    }
    let factor = unrollFactor(loop, ctx.region !== null, program);
    if (factor === null) {
      facts.unknownBounds.push({ loop, region: ctx.region });
      factor = 1;
    }
    if (ctx.region && factor > 1) ctx.region.unrolled.push({ name: loop.name, file: loop.file, line: loop.line, copies: factor });
    visit(body, { copies: ctx.copies * factor, region: ctx.region, regionCopies: ctx.regionCopies * factor });
  };

  const visitSubscript = (n: AstNode, ctx: Ctx, rmw: boolean): void => {
    const indices: AstNode[] = [];
    let base: AstNode = n;
    while (base.kind === 'ArraySubscriptExpr') {
      const [b, i] = kids(base);
      indices.push(i);
      base = stripCasts(b);
    }
    const isElement = !/\[|\*\s*$|\(\*\)/.test(n.type?.qualType ?? '');
    const ref = base.kind === 'DeclRefExpr' ? base.referencedDecl : undefined;
    if (isElement && ref && (ref.kind === 'VarDecl' || ref.kind === 'ParmVarDecl')) {
      facts.accesses.push({ ...where(n, ctx), varId: ref.id, count: rmw ? 2 : 1 });
    } else if (base.kind !== 'DeclRefExpr') {
      visit(base, ctx);
    }
    for (const i of indices) if (i) visit(i, ctx);
  };

  const recordOp = (op: OpKind, lhs: AstNode, rhs: AstNode, n: AstNode, ctx: Ctx): void => {
    const a = operandOf(lhs, decls);
    const b = operandOf(rhs, decls);
    if (op === '*' ? isFreeProduct(a.value, b.value) : b.constant) return;
    // A shift by a run-time amount is a barrel shifter as wide as its result.
    const shifted = op === '<<' || op === '>>' ? typeWidth(n.type) : null;
    const first = shifted ? { bits: shifted.bits, signed: shifted.signed, constant: false } : toOperand(a);
    facts.ops.push({ ...where(n, ctx), op, a: first, b: toOperand(b) });
  };

  const visitCall = (n: AstNode, ctx: Ctx): void => {
    const c = kids(n);
    const head = stripCasts(c[0] ?? {});
    if (n.kind === 'CXXOperatorCallExpr' && c.length === 3) {
      const op = OPS[(head.referencedDecl?.name ?? head.name ?? '').replace(/^operator\s*/, '').replace(/=$/, '')];
      if (op) recordOp(op, c[1], c[2], n, ctx);
    }
    const calleeId = head.kind === 'MemberExpr' ? head.referencedMemberDecl : head.referencedDecl?.id;
    const callee = resolveFunction(program, calleeId);
    if (!callee) return;
    facts.calls.push({ ...where(n, ctx), callee, bindings: bindArguments(callee, c.slice(1)), constArgs: constArguments(callee, c.slice(1), decls) });
  };

  const visitConstruct = (n: AstNode, ctx: Ctx): void => {
    const cls = n.type?.desugaredQualType ?? n.type?.qualType;
    const callee = cls && n.ctorType ? program.constructors.get(constructorKey(cls, n.ctorType.qualType)) : undefined;
    if (!callee) return;
    facts.calls.push({ ...where(n, ctx), callee, bindings: bindArguments(callee, kids(n)), constArgs: constArguments(callee, kids(n), decls) });
  };

  for (const init of kids(fn.node)) if (init.kind === 'CXXCtorInitializer') visit(init, top);
  visit(fn.body, top);
  return facts;
}

function toOperand(o: Operand): Operand {
  return { bits: o.bits, signed: o.signed, constant: o.constant };
}

/** A product needing no multiplier: both operands constant, or one of 0, +-1 or +-2^k (wires). */
function isFreeProduct(a: number | null, b: number | null): boolean {
  if (a !== null && b !== null) return true;
  const k = a ?? b;
  if (k === null) return false;
  const m = Math.abs(k);
  return m === 0 || (m & (m - 1)) === 0;
}

/** Per parameter of `callee`, its argument's constant value (or null). */
function constArguments(callee: FunctionDef, args: AstNode[], decls: DeclLookup): (number | null)[] {
  return callee.params.map((_, i) => (args[i] ? constValue(args[i], decls) : null));
}

/** Per parameter of `callee`, the variable its argument passes (or null). */
function bindArguments(callee: FunctionDef, args: AstNode[]): (string | null)[] {
  return callee.params.map((_, i) => (args[i] ? passedVariable(args[i]) : null));
}

/** The variable an argument passes (an array, a row of one, or its address). */
export function passedVariable(arg: AstNode): string | null {
  let cur = stripCasts(arg);
  for (;;) {
    if (cur.kind === 'ArraySubscriptExpr') cur = stripCasts(kids(cur)[0]);
    else if (cur.kind === 'UnaryOperator' && cur.opcode === '&') cur = stripCasts(kids(cur)[0]);
    else break;
  }
  const ref = cur.kind === 'DeclRefExpr' ? cur.referencedDecl : undefined;
  return ref && (ref.kind === 'VarDecl' || ref.kind === 'ParmVarDecl') ? ref.id : null;
}

/** Copies a loop makes: its trip count when it must unroll fully (inside a pipeline, or
 * `unroll` without a factor), the factor of `unroll factor=F`, else 1; null when it must
 * unroll and its bound is not a constant. */
function unrollFactor(loop: LoopDef, inPipeline: boolean, program: Program): number | null {
  const p = loop.pragmas.find((x) => x.directive === 'unroll');
  if (p && (p.flags.includes('off') || p.options.off === 'true')) return 1;
  const trip = tripCount(loop.node, program);
  const factor = p ? intOption(p, 'factor') : null;
  if (factor !== null) return trip !== null ? Math.min(factor, trip) : factor;
  if (p || inPipeline) return trip;
  return 1;
}

/** The trip count of `for (v = A; v < B; v += S)` (and <=, >, >=, !=) with A, B, S constant. */
export function tripCount(n: AstNode, program: Program): number | null {
  if (n.kind !== 'ForStmt') return null;
  const [init, , cond, inc] = n.inner ?? [];
  if (!cond?.kind || !inc?.kind || !init?.kind) return null;
  const cc = kids(cond);
  if (cond.kind !== 'BinaryOperator' || cc.length !== 2) return null;
  const lhsVar = varOf(cc[0]);
  const onLeft = lhsVar !== null;
  const v = lhsVar ?? varOf(cc[1]);
  const bound = constValue(onLeft ? cc[1] : cc[0], program.decls);
  const start = initialValue(init, v, program);
  const step = stepOf(inc, v, program);
  if (v === null || bound === null || start === null || step === null || step === 0) return null;
  const flip: Record<string, string> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '!=': '!=' };
  const op = onLeft ? cond.opcode : flip[cond.opcode ?? ''];
  const span = bound - start;
  let trip: number | null = null;
  if (op === '<' && step > 0) trip = Math.ceil(span / step);
  else if (op === '<=' && step > 0) trip = Math.floor(span / step) + 1;
  else if (op === '>' && step < 0) trip = Math.ceil(span / step);
  else if (op === '>=' && step < 0) trip = Math.floor(span / step) + 1;
  else if (op === '!=' && span % step === 0 && span / step >= 0) trip = span / step;
  return trip === null ? null : Math.max(0, trip);
}

function varOf(n: AstNode): string | null {
  const s = stripCasts(n);
  return s.kind === 'DeclRefExpr' && s.referencedDecl?.kind === 'VarDecl' ? s.referencedDecl.id : null;
}

function initialValue(init: AstNode, v: string | null, program: Program): number | null {
  if (init.kind === 'DeclStmt') {
    const d = kids(init).find((k) => k.id === v);
    const e = d ? kids(d) : [];
    return e.length > 0 ? constValue(e[e.length - 1], program.decls) : null;
  }
  const c = kids(init);
  if (init.kind === 'BinaryOperator' && init.opcode === '=' && varOf(c[0]) === v) return constValue(c[1], program.decls);
  return null;
}

function stepOf(inc: AstNode, v: string | null, program: Program): number | null {
  const c = kids(inc);
  if (varOf(c[0] ?? {}) !== v) return null;
  if (inc.kind === 'UnaryOperator') return inc.opcode === '++' ? 1 : inc.opcode === '--' ? -1 : null;
  if (inc.kind === 'CompoundAssignOperator') {
    const s = constValue(c[1], program.decls);
    return s === null ? null : inc.opcode === '+=' ? s : inc.opcode === '-=' ? -s : null;
  }
  return null;
}
