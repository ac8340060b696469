/**
 * The kernels as the analysis sees them: every function defined in the project's own files
 * (template instantiations each a function of their own, template patterns skipped), its
 * loops, its variables, and the `#pragma HLS` lines attached to the innermost function or
 * loop whose source range holds them.
 */
import type { AstNode } from './clang';
import { fileLoc, LineIndex } from './clang';
import type { DeclIndex } from './ast';
import { constValue, kids } from './ast';
import type { HlsPragma } from './pragmas';

export interface LoopDef {
  node: AstNode;
  name: string;
  file: string;
  line: number;
  pragmas: HlsPragma[];
}

export interface FunctionDef {
  id: string;
  node: AstNode;
  name: string;
  baseName: string;
  file: string;
  line: number;
  body: AstNode;
  params: AstNode[];
  /** Variables declared in the function (parameters included), by name (the first of a name)
   * and all of them. */
  vars: Map<string, AstNode>;
  declared: AstNode[];
  /** Pragmas in the function's own scope (not inside one of its loops). */
  pragmas: HlsPragma[];
  loops: Map<AstNode, LoopDef>;
}

export interface Program {
  functions: Map<string, FunctionDef>;
  /** Declaration ids (prototypes) to the id of their definition. */
  definitionOf: Map<string, string>;
  /** Constructors by `constructorKey` (a construct expression names its constructor by type). */
  constructors: Map<string, FunctionDef>;
  globals: Map<string, AstNode>;
  decls: DeclIndex;
  /** Every variable and parameter of the project's files by id, with the function declaring it. */
  variables: Map<string, { node: AstNode; fn: FunctionDef | null }>;
  /** The main file (absolute). */
  mainFile: string;
}

const FUNCTION_KINDS = new Set(['FunctionDecl', 'CXXMethodDecl', 'CXXConstructorDecl', 'CXXDestructorDecl', 'CXXConversionDecl']);
const LOOP_KINDS = new Set(['ForStmt', 'WhileStmt', 'DoStmt']);

interface Scope {
  file: string;
  begin: number;
  end: number;
  target: { pragmas: HlsPragma[] };
}

export function buildProgram(
  root: AstNode,
  mainFile: string,
  isProjectFile: (file: string) => boolean,
  pragmas: HlsPragma[],
  lines: LineIndex,
): Program {
  const program: Program = { functions: new Map(), definitionOf: new Map(), constructors: new Map(), globals: new Map(), decls: new Map(), variables: new Map(), mainFile };
  // `record`: the class a member function belongs to; `local`: inside a function body.
  const collect = (n: AstNode, record: string | null, local: boolean, inPattern: boolean): void => {
    const file = fileLoc(n.loc)?.file ?? fileLoc(n.range?.begin)?.file ?? '';
    if (n.kind === 'VarDecl' && n.id) {
      program.decls.set(n.id, n);
      if (!local && record === null && isProjectFile(file) && n.name && !program.globals.has(n.name)) {
        program.globals.set(n.name, n);
        program.variables.set(n.id, { node: n, fn: null });
      }
    }
    if (n.kind === 'EnumDecl') indexEnumerators(n, program.decls);
    const isFunction = FUNCTION_KINDS.has(n.kind ?? '');
    // Implicit members (constructors the compiler declares) are not code anyone wrote.
    if (isFunction && !inPattern && !n.isImplicit && isProjectFile(file)) {
      const fn = functionDef(n, record, file, lines);
      if (fn) program.functions.set(fn.id, fn);
      if (fn && n.kind === 'CXXConstructorDecl' && record !== null) program.constructors.set(constructorKey(record, n.type?.qualType ?? ''), fn);
      if (fn) for (const v of fn.declared) if (v.id) program.variables.set(v.id, { node: v, fn });
      if (fn && n.previousDecl) program.definitionOf.set(n.previousDecl, fn.id);
    }
    const isRecord = n.kind === 'CXXRecordDecl' || n.kind === 'ClassTemplateSpecializationDecl';
    for (const c of kids(n)) collect(c, isRecord ? recordName(n) : record, local || isFunction, inPattern || isTemplatePattern(n, c));
  };
  collect(root, null, false, false);
  attachPragmas(program, pragmas, lines);
  return program;
}

/** Each enumerator's value: its initialiser, else one more than the one before. */
function indexEnumerators(n: AstNode, decls: DeclIndex): void {
  let next = 0;
  for (const e of kids(n)) {
    if (e.kind !== 'EnumConstantDecl' || !e.id) continue;
    const init = kids(e);
    const v = init.length > 0 ? constValue(init[init.length - 1], decls) : next;
    if (v === null) continue;
    decls.set(e.id, v);
    next = v + 1;
  }
}

/** The dependent pattern of a template: the FunctionDecl / CXXRecordDecl directly under a
 * FunctionTemplateDecl / ClassTemplateDecl (its instantiations carry TemplateArguments). */
function isTemplatePattern(parent: AstNode, child: AstNode): boolean {
  if (parent.kind === 'FunctionTemplateDecl') return !kids(child).some((k) => k.kind === 'TemplateArgument');
  if (parent.kind === 'ClassTemplateDecl') return child.kind === 'CXXRecordDecl';
  return false;
}

function templateArgs(n: AstNode): string {
  const args = kids(n)
    .filter((k) => k.kind === 'TemplateArgument')
    .map((k) => (k.value !== undefined ? String(k.value) : k.type?.qualType ?? '?'));
  return args.length > 0 ? `<${args.join(', ')}>` : '';
}

function recordName(n: AstNode): string {
  return `${n.name ?? '(anonymous)'}${templateArgs(n)}`;
}

function functionDef(n: AstNode, record: string | null, file: string, lines: LineIndex): FunctionDef | null {
  const body = kids(n).find((k) => k.kind === 'CompoundStmt');
  if (!body || !n.id) return null;
  const baseName = n.name ?? '(anonymous)';
  const name = `${record !== null && n.kind !== 'FunctionDecl' ? `${record}::` : ''}${baseName}${templateArgs(n)}`;
  const params = kids(n).filter((k) => k.kind === 'ParmVarDecl');
  const vars = new Map<string, AstNode>();
  const declared: AstNode[] = [];
  const loops = new Map<AstNode, LoopDef>();
  const visit = (s: AstNode, label: string | null): void => {
    if (s.kind === 'VarDecl' || s.kind === 'ParmVarDecl') {
      declared.push(s);
      if (s.name && !vars.has(s.name)) vars.set(s.name, s);
    }
    if (LOOP_KINDS.has(s.kind ?? '')) {
      const begin = fileLoc(s.range?.begin);
      const line = begin?.offset !== undefined ? lines.line(begin.file ?? file, begin.offset) : 0;
      loops.set(s, { node: s, name: label ?? `loop@${line}`, file: begin?.file ?? file, line, pragmas: [] });
    }
    for (const c of kids(s)) visit(c, s.kind === 'LabelStmt' ? (s.name ?? null) : null);
  };
  for (const p of params) visit(p, null);
  visit(body, null);
  const at = fileLoc(n.loc);
  const line = at?.offset !== undefined ? lines.line(file, at.offset) : 0;
  return { id: n.id, node: n, name, baseName, file, line, body, params, vars, declared, pragmas: [], loops };
}

function scopeOf(n: AstNode, target: { pragmas: HlsPragma[] }): Scope | null {
  const b = fileLoc(n.range?.begin);
  const e = fileLoc(n.range?.end);
  if (b?.offset === undefined || e?.offset === undefined || !b.file) return null;
  return { file: b.file, begin: b.offset, end: e.offset, target };
}

/** Each pragma goes to the innermost scope holding it; instantiations of one template share
 * a source range, so each of them gets the pragma. */
function attachPragmas(program: Program, pragmas: HlsPragma[], lines: LineIndex): void {
  const scopes: Scope[] = [];
  for (const fn of program.functions.values()) {
    const s = scopeOf(fn.body, fn);
    if (s) scopes.push(s);
    for (const loop of fn.loops.values()) {
      const ls = scopeOf(loop.node, loop);
      if (ls) scopes.push(ls);
    }
  }
  for (const p of pragmas) {
    if (!scopes.some((s) => s.file === p.file)) continue;
    const at = lines.offset(p.file, p.line);
    const holding = scopes.filter((s) => s.file === p.file && s.begin <= at && at <= s.end);
    if (holding.length === 0) continue;
    const size = Math.min(...holding.map((s) => s.end - s.begin));
    for (const s of holding) if (s.end - s.begin === size) s.target.pragmas.push(p);
  }
}

/** `Class|signature` with namespace qualifiers dropped, the same for a constructor's
 * declaration and for an expression constructing its class. */
export function constructorKey(className: string, signature: string): string {
  const bare = (t: string): string => t.replace(/\b(const|struct|class)\s+/g, '').replace(/\b[A-Za-z_]\w*::/g, '').trim();
  return `${bare(className)}|${bare(signature)}`;
}

/** The function definition a call refers to (through a prototype if need be). */
export function resolveFunction(program: Program, id: string | undefined): FunctionDef | undefined {
  if (!id) return undefined;
  return program.functions.get(id) ?? program.functions.get(program.definitionOf.get(id) ?? '');
}
