/**
 * The structural check, a verification stage after emission: it reads a generated project's
 * kernels (or any C++ file) and returns what Vitis HLS would build from them, without Vitis.
 * It reads files only; it never imports the schedule or the estimator it is meant to check.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../util/errors';
import type { Progress } from '../util/progress';
import { analyse } from './analyse';
import { dataflowRegions } from './dataflow';
import { LineIndex, parseCpp, preprocessCpp } from './clang';
import { readPragmas } from './pragmas';
import type { HlsPragma } from './pragmas';
import { buildProgram } from './program';
import type { StructureReport } from './types';
import { walkFunction } from './walk';
import type { FunctionFacts } from './walk';

export interface CheckOptions {
  includeDirs?: string[];
  defines?: string[];
  /** Files under this folder are the project's (default: the main file's folder). */
  projectDir?: string;
  /** Folders under projectDir that are not the project's (the ap_int shim stands in for
   * vendor headers, which are not analysed). */
  excludeDirs?: string[];
  progress?: Progress;
}

/** The project's kernels: `<dir>/src/m3vit_top.cpp` (and the kernel headers it includes) with the g++-only shim. */
export function checkStructureProject(dir: string, progress?: Progress): StructureReport {
  const src = path.join(dir, 'src');
  const main = path.join(src, 'm3vit_top.cpp');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UserError(dir, ['not a folder: give a project folder written by m3vit-gen (hls-out/<name>)']);
  }
  if (!fs.existsSync(main)) {
    throw new UserError(main, ['missing: the project folder must hold src/m3vit_top.cpp (generate it with m3vit-gen --config FILE)']);
  }
  return checkStructureFile(main, { includeDirs: [src], defines: ['M3VIT_USE_SHIM'], projectDir: src, excludeDirs: [path.join(src, 'shim')], progress });
}

export function checkStructureFile(file: string, opts: CheckOptions = {}): StructureReport {
  const main = path.resolve(file);
  if (!fs.existsSync(main)) throw new UserError(file, ['missing: no such C++ file']);
  const projectDir = path.resolve(opts.projectDir ?? path.dirname(main));
  const excluded = (opts.excludeDirs ?? []).map((d) => path.resolve(d));
  const inside = (f: string, d: string): boolean => f === d || f.startsWith(d + path.sep);
  const isProjectFile = (f: string): boolean => f !== '' && inside(f, projectDir) && !excluded.some((d) => inside(f, d));

  const clangOpts = { includeDirs: opts.includeDirs, defines: opts.defines };
  opts.progress?.step(`clang++: AST of ${path.basename(main)}`);
  const root = parseCpp(main, clangOpts);
  const pragmas: HlsPragma[] = readPragmas(preprocessCpp(main, clangOpts), path.dirname(main)).filter((p) => isProjectFile(p.file));
  opts.progress?.step('structural analysis');
  const lines = new LineIndex((f) => fs.readFileSync(f, 'utf8'));
  const program = buildProgram(root, main, isProjectFile, pragmas, lines);
  const facts = new Map<string, FunctionFacts>();
  const inPipeline = new Map<string, FunctionFacts>();
  for (const fn of program.functions.values()) {
    facts.set(fn.id, walkFunction(program, fn, lines));
    inPipeline.set(fn.id, walkFunction(program, fn, lines, true));
  }
  // An inlined function at a call site with constant arguments, as HLS folds it there.
  const specialise = (id: string, pipelined: boolean, constArgs: (number | null)[]): FunctionFacts | undefined => {
    const fn = program.functions.get(id);
    return fn ? walkFunction(program, fn, lines, pipelined, constArgs) : undefined;
  };
  const analysed = analyse(program, facts, inPipeline, specialise);
  const dataflow = dataflowRegions(program, lines);
  analysed.dataflow = dataflow.regions;
  analysed.violations = [...analysed.violations, ...dataflow.violations].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.message.localeCompare(b.message));
  const report = relativeFiles(analysed, projectDir);
  opts.progress?.done();
  return report;
}

/** File names relative to the project folder, so the report does not depend on where the
 * project lives. */
function relativeFiles(report: StructureReport, dir: string): StructureReport {
  const rel = (f: string): string => path.relative(dir, f).split(path.sep).join('/');
  return JSON.parse(JSON.stringify(report), (key, value) => (key === 'file' && typeof value === 'string' ? rel(value) : value)) as StructureReport;
}
