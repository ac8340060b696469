/**
 * The kernel-family testbenches' plumbing (test/kernel-families.test.ts): a small generated
 * project and the TypeScript objects it was generated from, a driver compiled against one
 * family header of it (g++ on the shim, clang++ on AMD's vendored headers), its stdin written
 * from numbers, its "<key> <values>" output read back, and the list of words that differ.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { generate } from '../../generator/generate';
import type { ModelIR } from '../../generator/ir/types';
import type { ModelSpec } from '../../generator/model/spec';
import type { QuantPlan } from '../../generator/numerics/plan';
import { loadProject, type LoadedProject } from '../../generator/project';
import { prepareModel } from '../../generator/reference/prepare';
import { buildSchedule, type Schedule } from '../../generator/schedule/schedule';
import { weightLayout, type WeightLayout } from '../../generator/schedule/weight-layout';
import type { QuantWeights } from '../../generator/weights/types';
import { STRICT_FLAGS } from '../helpers/cpp';
import { writeProject } from '../helpers/project';

/** A generated project and what it was generated from. */
export interface FamilyProject {
  name: string;
  out: string;
  weightsBin: string;
  project: LoadedProject;
  ir: ModelIR;
  plan: QuantPlan;
  quant: QuantWeights;
  sched: Schedule;
  layout: WeightLayout;
}

export function familyProject(dir: string, name: string, spec: ModelSpec, pe: number, simd: number, scheduler?: 'expert-major' | 'token-major'): FamilyProject {
  const project = loadProject(writeProject(dir, spec, { name, pe, simd, scheduler }));
  generate(project, { force: false });
  // prepareModel caches on the project object: the plan and weights generate() used.
  const { plan, quant } = prepareModel(project);
  const sched = buildSchedule(project.ir, project.tasks, project.config);
  const out = project.config.outDir;
  return { name, out, weightsBin: path.join(out, 'data', 'weights.bin'), project, ir: project.ir, plan, quant, sched, layout: weightLayout(project.ir, sched, plan) };
}

const DRIVERS = __dirname;
// HLS pragmas mean nothing to a C++ compiler (the project Makefile says the same). A driver
// includes one family header, which brings every on-chip buffer and helper of the families it
// builds on: those the driver does not touch are unused statics, which is no defect of the
// kernels (the project's own csim build, where everything is used, keeps both warnings on).
const DRIVER_FLAGS = [...STRICT_FLAGS, '-Wno-unknown-pragmas', '-Wno-unused-function', '-Wno-unused-variable'];

export interface Build {
  family: string;
  project: FamilyProject;
  cxx: string;
  /** AMD's C-simulation headers (clang++), else the project's shim. */
  vendor?: string;
  exe: string;
}

function buildArgs(b: Build): string[] {
  const inc = b.vendor ? [`-I${path.join(b.project.out, 'src')}`, '-isystem', b.vendor] : ['-DM3VIT_USE_SHIM', `-I${path.join(b.project.out, 'src')}`];
  return [...DRIVER_FLAGS, ...inc, `-I${DRIVERS}`, path.join(DRIVERS, `${b.family}_tb.cpp`), '-o', b.exe];
}

/** Compiles the builds two at a time (the machine has two cores); rejects with the compiler output. */
export async function compileAll(builds: Build[]): Promise<void> {
  const queue = [...builds];
  const worker = async (): Promise<void> => {
    for (let b = queue.shift(); b; b = queue.shift()) await compileOne(b);
  };
  await Promise.all([worker(), worker()]);
}

function compileOne(b: Build): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(b.cxx, buildArgs(b), { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    p.stdout.on('data', (d) => (log += d));
    p.stderr.on('data', (d) => (log += d));
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${b.cxx} ${b.family}_tb.cpp (${b.project.name}) failed:\n${log}`))));
  });
}

/** Runs a driver on the project's weight image with `input` on stdin; its output lines by key. */
export function runDriver(b: Build, input: string): Map<string, number[]> {
  const r = spawnSync(b.exe, [b.project.weightsBin], { input, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${b.family}_tb (${b.project.name}) exited ${r.status}:\n${r.stderr}`);
  const out = new Map<string, number[]>();
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    const [key, ...values] = line.split(' ');
    out.set(key, values.map(Number));
  }
  return out;
}

/** Numbers as a driver's stdin: whitespace-separated, integers only. */
export class Input {
  private parts: string[] = [];
  add(...xs: Array<number | string | ArrayLike<number>>): this {
    for (const x of xs) {
      if (typeof x === 'number' || typeof x === 'string') this.parts.push(String(x));
      else for (let i = 0; i < x.length; i++) this.parts.push(String(x[i]));
    }
    return this;
  }
  text(): string {
    return `${this.parts.join(' ')}\n`;
  }
}

/**
 * Every difference between what a driver printed and what the TypeScript operators give: a
 * missing or extra key, a length, and the first `perKey` differing words of each key (with
 * how many differ in all).
 */
export function differences(got: Map<string, number[]>, want: Map<string, ArrayLike<number>>, perKey = 4): string[] {
  const out: string[] = [];
  for (const key of got.keys()) if (!want.has(key)) out.push(`${key}: printed, not expected`);
  for (const [key, w] of want) {
    const g = got.get(key);
    if (!g) {
      out.push(`${key}: not printed`);
      continue;
    }
    if (g.length !== w.length) out.push(`${key}: ${g.length} values, expected ${w.length}`);
    const bad: number[] = [];
    for (let i = 0; i < Math.min(g.length, w.length); i++) if (g[i] !== w[i]) bad.push(i);
    for (const i of bad.slice(0, perKey)) out.push(`${key}[${i}]: ${g[i]}, expected ${w[i]}`);
    if (bad.length > perKey) out.push(`${key}: ${bad.length} values differ in all`);
  }
  return out;
}
