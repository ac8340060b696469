/**
 * DATAFLOW regions and their canonical form (UG1399 "Dataflow", "Canonical Forms"): a
 * function with `#pragma HLS dataflow` whose body holds only channel declarations (hls::stream
 * or arrays) and calls of process functions (not inlined), each call unconditional, every
 * channel written by one process and read by one later process (single producer, single
 * consumer, no feedback), and no file-scope memory written by one process and touched by
 * another (a channel the region does not declare). Only then do the processes run concurrently, and only then may the
 * estimate overlap them.
 */
import { kids, stripCasts } from './ast';
import { fileLoc, type AstNode, type LineIndex } from './clang';
import type { FunctionDef, Program } from './program';
import { resolveFunction } from './program';
import type { DataflowRegion, Violation } from './types';
import { inlineStatus, passedVariable } from './walk';

/** Statement wrappers that leave the statement a plain call. */
const WRAPPERS = new Set(['ExprWithCleanups', 'CXXBindTemporaryExpr']);
const CALLS = new Set(['CallExpr', 'CXXMemberCallExpr']);

interface ProcessCall {
  callee: FunctionDef;
  /** Variable id passed per parameter (or null). */
  args: (string | null)[];
}

/** How `fn` uses parameter `param`: read()/write() member calls on it, else array element
 * reads and writes (an assignment's left side writes). */
function channelUse(fn: FunctionDef, paramId: string): { reads: boolean; writes: boolean } {
  const use = { reads: false, writes: false };
  const refersToParam = (n: AstNode): boolean => {
    let cur = stripCasts(n);
    while (cur.kind === 'ArraySubscriptExpr') cur = stripCasts(kids(cur)[0]);
    return cur.kind === 'DeclRefExpr' && cur.referencedDecl?.id === paramId;
  };
  const visit = (n: AstNode): void => {
    if (n.kind === 'CXXMemberCallExpr') {
      const member = kids(n)[0];
      if (member?.kind === 'MemberExpr' && kids(member)[0] && refersToParam(kids(member)[0])) {
        if (/^(read|read_nb|empty|operator>>)$/.test(member.name ?? '')) use.reads = true;
        if (/^(write|write_nb|full|operator<<)$/.test(member.name ?? '')) use.writes = true;
      }
    }
    const assigned = assignment(n);
    if (assigned) {
      const [lhs, rhs] = assigned;
      if (refersToParam(lhs)) use.writes = true;
      if (rhs) visit(rhs);
      for (const c of kids(lhs)) visit(c);
      return;
    }
    if (n.kind === 'ArraySubscriptExpr' && refersToParam(n)) use.reads = true;
    for (const c of kids(n)) visit(c);
  };
  visit(fn.body);
  return use;
}

/** The target and value of an assignment expression (built-in, or a class's operator= and
 * compound assignments), else undefined. */
function assignment(n: AstNode): [AstNode, AstNode | undefined] | undefined {
  if ((n.kind === 'BinaryOperator' || n.kind === 'CompoundAssignOperator') && /=$/.test(n.opcode ?? '') && !/^(==|!=|<=|>=)$/.test(n.opcode ?? '')) {
    const [lhs, rhs] = kids(n);
    return lhs ? [lhs, rhs] : undefined;
  }
  if (n.kind === 'CXXOperatorCallExpr') {
    const [callee, lhs, rhs] = kids(n);
    const name = stripCasts(callee ?? {}).referencedDecl?.name ?? '';
    if (lhs && /^operator([-+*/%&|^]|<<|>>)?=$/.test(name)) return [lhs, rhs];
  }
  return undefined;
}

/** Reads and writes of file-scope variables by `fn` and every function it calls (arguments
 * bound to their parameters), keyed by the global's id. */
function globalUse(program: Program, fn: FunctionDef, bound: Map<string, string>, depth = 0, out = new Map<string, { reads: boolean; writes: boolean }>()): Map<string, { reads: boolean; writes: boolean }> {
  if (depth > 32) return out;
  const globalOf = (id: string | undefined): string | undefined => {
    if (!id) return undefined;
    if (bound.has(id)) return bound.get(id);
    return program.variables.get(id)?.fn === null ? id : undefined;
  };
  const base = (n: AstNode): string | undefined => {
    let cur = stripCasts(n);
    while (cur.kind === 'ArraySubscriptExpr' || cur.kind === 'MemberExpr') cur = stripCasts(kids(cur)[0] ?? {});
    return cur.kind === 'DeclRefExpr' ? globalOf(cur.referencedDecl?.id) : undefined;
  };
  const mark = (id: string | undefined, what: 'reads' | 'writes'): void => {
    if (!id) return;
    const u = out.get(id) ?? { reads: false, writes: false };
    u[what] = true;
    out.set(id, u);
  };
  const visit = (n: AstNode): void => {
    // An assignment: a built-in one, or operator= / op= of a class type (ap_int elements).
    const assigned = assignment(n);
    if (assigned) {
      const [lhs, rhs] = assigned;
      if (stripCasts(lhs).kind === 'ArraySubscriptExpr') mark(base(lhs), 'writes');
      if (rhs) visit(rhs);
      for (const c of kids(stripCasts(lhs))) visit(c);
      return;
    }
    if (n.kind === 'ArraySubscriptExpr') mark(base(n), 'reads');
    if (CALLS.has(n.kind ?? '')) {
      const head = stripCasts(kids(n)[0] ?? {});
      const callee = resolveFunction(program, head.kind === 'MemberExpr' ? head.referencedMemberDecl : head.referencedDecl?.id);
      if (callee) {
        const binds = new Map<string, string>();
        kids(n).slice(1).forEach((a, k) => {
          const g = globalOf(passedVariable(a) ?? undefined);
          const param = callee.params[k]?.id;
          if (g && param) binds.set(param, g);
        });
        globalUse(program, callee, binds, depth + 1, out);
      }
    }
    for (const c of kids(n)) visit(c);
  };
  visit(fn.body);
  return out;
}

export function dataflowRegions(program: Program, lines: LineIndex): { regions: DataflowRegion[]; violations: Violation[] } {
  const regions: DataflowRegion[] = [];
  const violations: Violation[] = [];
  for (const fn of program.functions.values()) {
    if (!fn.pragmas.some((p) => p.directive === 'dataflow')) continue;
    const at = (n: AstNode): number => {
      const b = fileLoc(n.range?.begin);
      return b?.offset !== undefined ? lines.line(b.file ?? fn.file, b.offset) : fn.line;
    };
    const bad = (n: AstNode, message: string): void => {
      violations.push({ kind: 'dataflow-form', file: fn.file, line: at(n), message: `${fn.name}: ${message}` });
    };
    const channels = new Map<string, { name: string; kind: 'stream' | 'array' }>();
    const calls: ProcessCall[] = [];
    for (const st of kids(fn.body)) {
      if (st.kind === 'DeclStmt') {
        for (const v of kids(st)) {
          const type = v.type?.desugaredQualType ?? v.type?.qualType ?? '';
          if (v.kind === 'VarDecl' && v.id) {
            if (/\bstream</.test(type)) channels.set(v.id, { name: v.name ?? '?', kind: 'stream' });
            else if (/\[\d+\]/.test(type)) channels.set(v.id, { name: v.name ?? '?', kind: 'array' });
            else bad(st, `declares ${v.name}, not a channel (an hls::stream or an array)`);
          }
        }
        continue;
      }
      let e = st;
      while (WRAPPERS.has(e.kind ?? '') && kids(e).length === 1) e = kids(e)[0];
      if (!CALLS.has(e.kind ?? '')) {
        bad(st, `a ${st.kind} in the region: only channel declarations and unconditional process calls`);
        continue;
      }
      const head = stripCasts(kids(e)[0] ?? {});
      const callee = resolveFunction(program, head.kind === 'MemberExpr' ? head.referencedMemberDecl : head.referencedDecl?.id);
      if (!callee) {
        bad(st, `calls ${head.referencedDecl?.name ?? head.name ?? 'a function'} that is not one of the project's functions`);
        continue;
      }
      if (inlineStatus(callee) === 'inline') bad(st, `process ${callee.name} is inlined: a process must stay a function`);
      calls.push({ callee, args: kids(e).slice(1).map((a) => passedVariable(a)) });
    }
    const out: DataflowRegion = { function: fn.name, file: fn.file, line: fn.line, processes: calls.map((c) => c.callee.name), channels: [] };
    for (const [id, ch] of channels) {
      const producers: number[] = [];
      const consumers: number[] = [];
      calls.forEach((c, i) => {
        c.args.forEach((a, k) => {
          if (a !== id || !c.callee.params[k]?.id) return;
          const use = channelUse(c.callee, c.callee.params[k].id!);
          if (use.writes) producers.push(i);
          if (use.reads) consumers.push(i);
        });
      });
      out.channels.push({ name: ch.name, kind: ch.kind, producers: producers.map((i) => calls[i].callee.name), consumers: consumers.map((i) => calls[i].callee.name) });
      if (producers.length !== 1 || consumers.length !== 1) {
        bad(fn.node, `channel ${ch.name}: ${producers.length} producer(s) and ${consumers.length} consumer(s); one of each`);
      } else if (producers[0] >= consumers[0]) {
        bad(fn.node, `channel ${ch.name} runs backwards (read by ${calls[consumers[0]].callee.name} before ${calls[producers[0]].callee.name} writes it): feedback`);
      }
    }
    // A file-scope array one process writes and another touches is a channel the region does
    // not declare: the processes could not run concurrently (a memory written by one and read
    // by the other in the same region is feedback unless it flows forward through the
    // region's own channels).
    const uses = calls.map((c) => globalUse(program, c.callee, new Map()));
    const shared = new Set(uses.flatMap((u) => [...u.keys()]));
    for (const id of shared) {
      const writers = calls.filter((_, i) => uses[i].get(id)?.writes).map((c) => c.callee.name);
      const users = calls.filter((_, i) => uses[i].has(id)).map((c) => c.callee.name);
      if (writers.length > 0 && users.length > 1) {
        const name = program.variables.get(id)?.node.name ?? id;
        bad(fn.node, `${name} is written by ${writers.join(', ')} and used by ${users.filter((u) => !writers.includes(u) || writers.length > 1).join(', ')}: two processes share a memory that is not a channel of the region`);
      }
    }
    regions.push(out);
  }
  regions.sort((a, b) => a.function.localeCompare(b.function));
  return { regions, violations };
}
