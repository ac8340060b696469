/**
 * The front end of the structural check: Debian's clang++ parses the kernels and dumps its
 * AST as JSON (`-Xclang -ast-dump=json -fsyntax-only`). We call the compiler rather than
 * libclang through python3-clang: the JSON dump carries every implicit cast, template
 * instantiation and resolved callee with its type, needs no second language runtime, and is
 * one child process. `__SYNTHESIS__` is defined so clang sees the code Vitis synthesises (no
 * csim instrumentation, no csim-only `always_inline`).
 *
 * clang writes a location's `file` and `line` only when they differ from the location it
 * printed before, so files are resolved by walking the dump in document order.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { UserError } from '../util/errors';

export interface Loc {
  offset?: number;
  file?: string;
  line?: number;
  spellingLoc?: Loc;
  expansionLoc?: Loc;
}

export interface QualType {
  qualType: string;
  desugaredQualType?: string;
}

/** The fields of clang's JSON nodes that the analysis reads. */
export interface AstNode {
  id?: string;
  kind?: string;
  name?: string;
  value?: string | boolean;
  opcode?: string;
  castKind?: string;
  isPostfix?: boolean;
  type?: QualType;
  loc?: Loc;
  range?: { begin: Loc; end: Loc };
  inner?: AstNode[];
  referencedDecl?: { id: string; kind: string; name?: string };
  referencedMemberDecl?: string;
  previousDecl?: string;
  init?: string;
  storageClass?: string;
  isImplicit?: boolean;
  /** CXXConstructExpr: the constructor's type (clang's JSON gives no id for it). */
  ctorType?: QualType;
}

export interface ClangOptions {
  includeDirs?: string[];
  defines?: string[];
}

const MAX_AST_BYTES = 1 << 30;

export function clangBinary(): string {
  return process.env.M3VIT_CLANGXX ?? 'clang++';
}

function clangArgs(file: string, opts: ClangOptions): string[] {
  return [
    '-std=c++14',
    '-D__SYNTHESIS__',
    ...(opts.defines ?? []).map((d) => `-D${d}`),
    ...(opts.includeDirs ?? []).map((d) => `-I${path.resolve(d)}`),
    path.resolve(file),
  ];
}

function runClang(file: string, args: string[]): string {
  const r = spawnSync(clangBinary(), args, { cwd: path.dirname(path.resolve(file)), encoding: 'utf8', maxBuffer: MAX_AST_BYTES });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new UserError(file, [`${clangBinary()} not found: the structural check needs clang (apt-get install clang, or set M3VIT_CLANGXX)`]);
  }
  if (r.error) throw r.error;
  if (r.status !== 0) {
    const errors = r.stderr.split('\n').filter((l) => /\berror\b/.test(l)).slice(0, 5);
    throw new UserError(file, errors.length > 0 ? errors : [`${clangBinary()} exited with ${r.status}`], 'clang++ cannot parse the kernels');
  }
  return r.stdout;
}

/** The preprocessed text (with line markers), where the active `#pragma HLS` lines are. */
export function preprocessCpp(file: string, opts: ClangOptions = {}): string {
  return runClang(file, ['-E', ...clangArgs(file, opts)]);
}

/** The AST of `file`, its locations resolved to absolute file names. */
export function parseCpp(file: string, opts: ClangOptions = {}): AstNode {
  const stdout = runClang(file, ['-fsyntax-only', '-Wno-unknown-pragmas', '-Xclang', '-ast-dump=json', ...clangArgs(file, opts)]);
  const root = JSON.parse(stdout) as AstNode;
  resolveFiles(root, path.dirname(path.resolve(file)));
  return root;
}

/** Gives every bare location object its file (absolute), in the order clang printed them. */
function resolveFiles(root: AstNode, cwd: string): void {
  let current = '';
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.offset === 'number') {
      if (typeof o.file === 'string') current = path.resolve(cwd, o.file);
      o.file = current;
    }
    for (const key of Object.keys(o)) {
      if (key !== 'includedFrom') visit(o[key]);
    }
  };
  visit(root);
}

/** The spelled-in-file location of `loc` (the expansion site for macro locations). */
export function fileLoc(loc: Loc | undefined): Loc | undefined {
  if (!loc) return undefined;
  return loc.expansionLoc ?? loc;
}

/** Lines of `file`'s byte offsets and back (clang omits unchanged lines, so we compute them). */
export class LineIndex {
  private readonly starts = new Map<string, number[]>();
  constructor(private readonly read: (file: string) => string) {}

  private lineStarts(file: string): number[] {
    let starts = this.starts.get(file);
    if (!starts) {
      const text = Buffer.from(this.read(file), 'utf8');
      starts = [0];
      for (let i = 0; i < text.length; i++) if (text[i] === 10) starts.push(i + 1);
      this.starts.set(file, starts);
    }
    return starts;
  }

  /** The byte offset where line `line` (1-based) of `file` starts. */
  offset(file: string, line: number): number {
    const starts = this.lineStarts(file);
    return starts[Math.min(Math.max(line - 1, 0), starts.length - 1)];
  }

  line(file: string, offset: number): number {
    const starts = this.lineStarts(file);
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}
