/**
 * Running the built CLI from tests: the package paths, a rebuild of dist/ when a source is
 * newer than its compiled file (`make test` builds first, so this only matters when one
 * test file is run alone), one child-process runner, and the standard ZCU104 board section
 * of a config.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'm3vit-gen.js');

/** True when some generator/**.ts has no compiled .js in dist/ at least as new as it. */
function distIsStale(): boolean {
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const src of walk(path.join(ROOT, 'generator'))) {
    if (!src.endsWith('.ts') || src.endsWith('.d.ts')) continue;
    const js = path.join(ROOT, 'dist', path.relative(ROOT, src)).replace(/\.ts$/, '.js');
    if (!fs.existsSync(js) || fs.statSync(js).mtimeMs < fs.statSync(src).mtimeMs) return true;
  }
  return false;
}

/** Compiles dist/ if it is older than the sources (bin/m3vit-gen.js runs dist/). */
export function ensureBuilt(): void {
  if (distIsStale()) {
    execFileSync(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `m3vit-gen <args>` in `cwd` (default: the package folder). */
export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', ...opts.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The ZCU104 board section of a config (two HP ports), for configs that tests write. */
export function zcu104Board(): Record<string, unknown> {
  return {
    name: 'zcu104',
    part: 'xczu7ev-ffvc1156-2-e',
    boardPart: 'xilinx.com:zcu104:part0:1.1',
    resources: { LUT: 230400, FF: 460800, DSP: 1728, BRAM_18K: 624, URAM: 96 },
    ddr: { bandwidthGBps: 17 },
    hpPorts: ['HP0', 'HP1'],
  };
}
