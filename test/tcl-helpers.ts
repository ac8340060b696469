/**
 * Shared by the flow tests: a generated flow in a temporary project folder (with stand-in
 * kernel sources where the kernel emitter's files are needed), and the Tcl stand-ins of
 * Vitis HLS and Vivado run on its scripts, their call logs parsed.
 */
import { spawnSync, type SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadProject, type LoadedProject } from '../generator/project';
import { flowFiles } from '../generator/flow/stage';
import { buildFlowModel, type FlowModel } from '../generator/flow/model';
import type { BuildConfig } from '../generator/config/types';

export const ROOT = path.resolve(__dirname, '..');
export const STANDINS = path.join(ROOT, 'test', 'tcl-standins');
export const STANDIN_BIN = path.join(STANDINS, 'bin');

export type Call = string[];

export function zcu104Project(edit?: (c: BuildConfig) => void): LoadedProject {
  const p = loadProject(path.join(ROOT, 'zcu104.json'));
  if (edit) edit(p.config);
  return p;
}

/** Writes the flow's files, plus placeholders for the inputs other stages write. */
export function writeFlowProject(project: LoadedProject, dir?: string): { dir: string; flow: FlowModel } {
  const out = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-flow-'));
  for (const f of flowFiles(project)) {
    const dest = path.join(out, f.path);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, f.contents);
    if (f.executable) fs.chmodSync(dest, 0o755);
  }
  const flow = buildFlowModel(project);
  const placeholders = [
    ...flow.sources.hls,
    ...flow.sources.headers,
    ...flow.sources.testbench,
    flow.sources.goldenManifest,
    flow.sources.weightImage,
    flow.sources.weightManifest,
    flow.sources.quantPlan,
  ];
  for (const rel of placeholders) {
    const dest = path.join(out, rel);
    if (fs.existsSync(dest)) continue;
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, `placeholder for ${rel}\n`);
  }
  return { dir: out, flow };
}

export interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: Call[];
  /** Calls without the stand-in's bookkeeping records. */
  commands: Call[];
  errors: string[];
}

function parseLog(file: string): Call[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Call);
}

function toolRun(r: SpawnSyncReturns<string>, log: string): ToolRun {
  const calls = parseLog(log);
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    calls,
    commands: calls.filter((c) => !c[0].startsWith('__')),
    errors: calls.filter((c) => c[0] === '__error__' || c[0] === '__script_error__').map((c) => c[1]),
  };
}

/** Runs one generated script under a stand-in, as make/flow.mk would (cwd, M3VIT_PROJECT). */
export function runStandin(tool: 'vitis_hls' | 'vivado', projectDir: string, script: string, env: Record<string, string> = {}): ToolRun {
  const cwd = path.join(projectDir, 'build', tool === 'vitis_hls' ? 'hls' : 'vivado');
  fs.mkdirSync(cwd, { recursive: true });
  const log = path.join(projectDir, 'build', `standin-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`);
  const r = spawnSync('tclsh', [path.join(STANDINS, `${tool}.tcl`), path.join(projectDir, script)], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, M3VIT_PROJECT: projectDir, STANDIN_LOG: log, ...env },
  });
  const run = toolRun(r, log);
  fs.rmSync(log, { force: true });
  return run;
}

/** PATH without any real or stand-in Vitis/Vivado, plus `extraDirs` first. */
export function pathWithout(extraDirs: string[] = []): string {
  const tools = ['vitis_hls', 'vitis-run', 'vivado'];
  const dirs = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => d !== '' && !tools.some((t) => fs.existsSync(path.join(d, t))));
  return [...extraDirs, ...dirs].join(path.delimiter);
}

/** A folder holding links to the chosen stand-in launchers. */
export function standinBin(tools: Array<'vitis_hls' | 'vitis-run' | 'vivado'>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-bin-'));
  for (const t of tools) fs.symlinkSync(path.join(STANDIN_BIN, t), path.join(dir, t));
  return dir;
}

/** Runs make in the project folder; the stand-ins log into STANDIN_LOG. */
export function runMake(projectDir: string, goals: string[], pathValue: string, env: Record<string, string> = {}): ToolRun {
  const log = path.join(os.tmpdir(), `m3vit-make-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`);
  const r = spawnSync('make', ['--no-print-directory', ...goals], {
    cwd: projectDir,
    encoding: 'utf8',
    env: { ...process.env, PATH: pathValue, STANDIN_LOG: log, MAKEFLAGS: '', ...env },
  });
  const run = toolRun(r, log);
  fs.rmSync(log, { force: true });
  return run;
}

export function indexOfCall(calls: Call[], pred: (c: Call) => boolean, what: string): number {
  const i = calls.findIndex(pred);
  if (i < 0) throw new Error(`no call ${what} in:\n${calls.map((c) => c.join(' ')).join('\n')}`);
  return i;
}

/** Value of option `opt` in a recorded call. */
export function optionOf(call: Call, opt: string): string | undefined {
  const i = call.indexOf(opt);
  return i >= 0 ? call[i + 1] : undefined;
}
