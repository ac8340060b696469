/**
 * The README's timing claims, measured and written into README.md between the markers
 * `<!-- timings -->` and `<!-- /timings -->` (test/readme.test.ts checks that no timing claim
 * stands outside them and that every command has a row). Each command runs as a user runs
 * it (`node bin/m3vit-gen.js ...` on the default config, outputs in a temporary folder),
 * under /usr/bin/time for the CPU seconds: on a shared machine the wall clock also counts
 * other processes, the CPU time does not. A measurement, not a test: nothing is asserted.
 *
 * Run from the package folder (after `make generate` or `npm ci`; --fresh-clone also clones
 * this folder and times its first command, `make generate`, including npm ci):
 *   npx tsc --outDir dist/bench --target ES2022 --module commonjs --esModuleInterop --skipLibCheck --resolveJsonModule bench/readme-timings.ts
 *   node dist/bench/bench/readme-timings.js [--fresh-clone] [--dry-run]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { formatNpyFloat32 } from '../generator/io/npy';
import { randomImage } from '../generator/weights/random';

const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BEGIN = '<!-- timings: written by bench/readme-timings.ts, do not edit by hand -->';
export const END = '<!-- /timings -->';

interface Step {
  shown: string;
  what: string;
  argv: string[];
  cwd?: string;
}

function steps(tmp: string, freshClone: boolean): Step[] {
  const gen = ['node', path.join(ROOT, 'bin', 'm3vit-gen.js')];
  const cfg = ['--config', 'zcu104.json'];
  const image = path.join(tmp, 'image.npy');
  const clone: Step[] = freshClone
    ? [{ shown: 'make generate (fresh clone)', what: 'the first command: npm ci, build, the main job', argv: ['bash', '-c', `git clone -q ${ROOT} ${tmp}/clone && make -C ${tmp}/clone generate`] }]
    : [];
  return [
    ...clone,
    { shown: 'm3vit-gen --config zcu104.json', what: 'the main job on m3vit-tiny', argv: [...gen, ...cfg, '--out', path.join(tmp, 'main'), '--quiet'] },
    { shown: 'make -C hls-out/<name> csim', what: 'compile (g++) and run the C simulation of that project', argv: ['make', '-s', '-C', path.join(tmp, 'main'), 'csim'] },
    { shown: 'm3vit-gen check-structure', what: 'the structural check of that project\'s kernels (clang++ AST)', argv: [...gen, 'check-structure', path.join(tmp, 'main')] },
    { shown: 'm3vit-gen inspect', what: 'the model IR table', argv: [...gen, 'inspect', ...cfg] },
    { shown: 'm3vit-gen estimate', what: 'the estimate summary', argv: [...gen, 'estimate', ...cfg] },
    { shown: 'm3vit-gen predict', what: 'one task, int mode, one image', argv: [...gen, 'predict', ...cfg, '--task', 'semseg', '--input', image, '--out', path.join(tmp, 'y.npy'), '--quiet'] },
    { shown: 'm3vit-gen predict --report', what: 'the same and the float run, per-layer errors', argv: [...gen, 'predict', ...cfg, '--task', 'semseg', '--input', image, '--out', path.join(tmp, 'y.npy'), '--report', '--quiet'] },
    { shown: 'm3vit-gen golden', what: 'quantization plan and golden vectors', argv: [...gen, 'golden', ...cfg, '--out', path.join(tmp, 'golden'), '--quiet'] },
    { shown: 'm3vit-gen export-weights', what: 'the seeded weights as .safetensors', argv: [...gen, 'export-weights', ...cfg, '--out', path.join(tmp, 'w.safetensors')] },
    { shown: 'm3vit-gen quant-report', what: 'per-tensor quantization table (runs the calibration)', argv: [...gen, 'quant-report', ...cfg, '--quiet'] },
  ];
}

function run(step: Step): { wall: number; cpu: number } {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S', ...step.argv], { cwd: step.cwd ?? ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  const m = /TIME (\S+) (\S+) (\S+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${step.shown} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]) };
}

function main(): void {
  const freshClone = process.argv.includes('--fresh-clone');
  const dry = process.argv.includes('--dry-run');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-timings-'));
  try {
    fs.writeFileSync(path.join(tmp, 'image.npy'), formatNpyFloat32([3, 128, 256], randomImage({ inChannels: 3, imageH: 128, imageW: 256 }, 1, 99).data));
    const load = os.loadavg()[0];
    const rows: string[] = [];
    for (const s of steps(tmp, freshClone)) {
      process.stderr.write(`${s.shown} ...`);
      const t = run(s);
      process.stderr.write(` ${t.wall.toFixed(1)} s\n`);
      rows.push(`| \`${s.shown}\` | ${s.what} | ${t.wall.toFixed(1)} s | ${t.cpu.toFixed(1)} s |`);
    }
    const block = [
      BEGIN,
      `Measured by bench/readme-timings.ts${freshClone ? ' --fresh-clone' : ''} on this project's ${os.cpus().length}-core machine (Node ${process.version}, load average ${load.toFixed(1)} at the start: the machine is shared, so compare the CPU column):`,
      '',
      '| command | what | wall clock | CPU (user + system) |',
      '|---|---|---|---|',
      ...rows,
      END,
    ].join('\n');
    if (dry) {
      process.stdout.write(`${block}\n`);
      return;
    }
    const readme = path.join(ROOT, 'README.md');
    const text = fs.readFileSync(readme, 'utf8');
    const a = text.indexOf(BEGIN);
    const b = text.indexOf(END);
    if (a < 0 || b < a) throw new Error(`README.md has no ${BEGIN} ... ${END} block`);
    // Rows the run did not measure (the fresh clone without --fresh-clone) are kept from the previous block.
    const kept = text.slice(a, b).split('\n').filter((l) => l.startsWith('| `make generate (fresh clone)`') && !freshClone);
    const merged = kept.length > 0 ? block.replace('|---|---|---|---|\n', `|---|---|---|---|\n${kept.join('\n')}\n`) : block;
    fs.writeFileSync(readme, text.slice(0, a) + merged + text.slice(b + END.length));
    process.stdout.write('README.md: timings written\n');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) main();
