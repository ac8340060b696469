/**
 * The host side end to end on a small generated project: the real golden vectors and
 * quantization plan (generator/golden), the real m3vit_meta.json (dump slots from the
 * kernel schedule), the driver and validate.py, on a fake PYNQ whose "accelerator" replays
 * the golden vectors (a perfect kernel), then one with a single wrong element in one layer.
 * This checks that the formats the generator writes and the driver reads agree; the
 * kernels themselves are checked by `make csim`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { flowFiles } from '../generator/flow/stage';
import type { HostMeta } from '../generator/flow/host';
import { runGoldenStage } from '../generator/golden/stage';
import { sha256, type GoldenManifest } from '../generator/golden/vectors';
import { LAYOUT } from '../generator/emit/layout';
import { loadProject } from '../generator/project';
import { smallSpec, writeProject } from './helpers/project';
import { ROOT } from './tcl-helpers';
import { figure } from './helpers/figures';

const FAKES = path.join(ROOT, 'test', 'driver-fakes');
const numpyIn = (py: string): boolean => spawnSync(py, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const PY = process.env.PYTHON ?? (!numpyIn('python3') && fs.existsSync('/usr/bin/python3') && numpyIn('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const hasNumpy = numpyIn(PY);
if (!hasNumpy && process.env.M3VIT_REQUIRE_NUMPY === '1') throw new Error(`${PY} has no numpy, and M3VIT_REQUIRE_NUMPY=1`);
const withNumpy = hasNumpy ? test : test.skip;

let tmp: string;
let deploy: string;
let meta: HostMeta;
let manifest: GoldenManifest;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-host-e2e-'));
  // 32x64 image in 16x16 patches, 2 blocks (block 1 MoE: 4 experts, top-2, hidden 8), an
  // UpHead task and a linear-head task; SIMD must divide the expert hidden width (8).
  const spec = smallSpec({
    name: 'host-e2e',
    image: { height: 32, width: 64 },
    patch: 16,
    moe: { experts: 4, topK: 2, hidden: 8 },
    tasks: [
      { name: 'semseg', channels: 5 },
      { name: 'depth', channels: 1, head: { kind: 'linear' } },
    ],
  });
  const project = loadProject(writeProject(tmp, spec, { name: 'host_e2e', pe: 8, simd: 8 }));
  // What `make package` puts in deploy/, from the generator's own files.
  deploy = path.join(tmp, 'deploy');
  const files = [...runGoldenStage(project).files, ...flowFiles(project)];
  for (const f of files) {
    let dest: string | undefined;
    if (f.path.startsWith(`${LAYOUT.goldenDir}/`)) dest = f.path;
    else if (f.path.startsWith(`${LAYOUT.hostDir}/`)) dest = path.basename(f.path);
    else if (f.path === LAYOUT.quantPlanJson) dest = path.basename(f.path);
    if (!dest) continue;
    fs.mkdirSync(path.dirname(path.join(deploy, dest)), { recursive: true });
    fs.writeFileSync(path.join(deploy, dest), f.contents);
  }
  meta = JSON.parse(fs.readFileSync(path.join(deploy, 'm3vit_meta.json'), 'utf8'));
  manifest = JSON.parse(fs.readFileSync(path.join(deploy, 'golden/manifest.json'), 'utf8'));
  fs.writeFileSync(path.join(deploy, meta.files.bit), 'bit');
  // The fake accelerator replays the golden vectors and ignores the weights; the driver
  // still checks the image against its manifest.
  const weights = Buffer.alloc(64);
  fs.writeFileSync(path.join(deploy, meta.files.weights), weights);
  fs.writeFileSync(path.join(deploy, meta.files.weightManifest), JSON.stringify({ bytes: weights.length, sha256: sha256(weights) }));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Register map as Vitis HLS names it in the .hwh: p_1/p_2 halves for 64-bit pointers. */
function fakeConf(corrupt?: [string, string, number]): string {
  const registers: Record<string, [number, number]> = { CTRL: [0, 32], GIER: [4, 32], IP_IER: [8, 32], IP_ISR: [12, 32] };
  let at = 0x10;
  for (const b of meta.bundles) {
    registers[`${b.arg}_1`] = [at, 32];
    registers[`${b.arg}_2`] = [at + 4, 32];
    at += 12;
  }
  for (const s of meta.scalars) {
    registers[s.arg] = [at, 32];
    at += 8;
  }
  return JSON.stringify({
    registers,
    vlnv: meta.ip.vlnv,
    cell: meta.ip.cell,
    replay: { golden: path.join(deploy, 'golden'), meta: path.join(deploy, 'm3vit_meta.json'), ...(corrupt ? { corrupt } : {}) },
  });
}

function validate(fake: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PY, ['validate.py', ...args], {
    cwd: deploy,
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: FAKES, PYTHONDONTWRITEBYTECODE: '1', FAKE_PYNQ: fake },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('every dump slot the driver reads has a golden tensor of the same shape and width', () => {
  for (const t of meta.tasks) {
    const g = manifest.tasks.find((x) => x.name === t.name)!;
    expect(g.taskId).toBe(t.index);
    expect(g.output).toBe(t.outputSite);
    const out = g.tensors.find((x) => x.name === g.output)!;
    expect(out.shape).toEqual(t.outputShape);
    for (const d of meta.dumps.filter((x) => x.task === undefined || x.task === t.name)) {
      const x = g.tensors.find((y) => y.name === d.name);
      expect({ name: d.name, shape: x?.shape, dtype: x?.dtype }).toEqual({ name: d.name, shape: d.shape, dtype: d.lanes === 32 ? 'int32' : 'int16' });
    }
  }
  expect(manifest.input.shape).toEqual(meta.input.shape);
});

withNumpy('a perfect accelerator passes validate.py: A, B, A with every checkpointed layer', () => {
  const r = validate(fakeConf());
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const runs = r.stdout.split('\n').filter((l) => l.startsWith('run '));
  const layers = (task: string): number => meta.dumps.filter((d) => d.task === undefined || d.task === task).length;
  const out = (task: string): number => meta.tasks.find((t) => t.name === task)!.outputElements;
  expect(runs).toEqual(
    ['semseg', 'depth', 'semseg'].map((t, i) => `run ${i}: task ${t}: ${out(t)} output words, 0 mismatches; ${layers(t)} checkpointed layers, 0 mismatching elements: PASS`),
  );
  figure(`host e2e: ${runs.length} runs, ${layers('semseg')} + ${layers('depth')} checkpointed layers compared on the fake board`);
});

withNumpy('one wrong element in one layer: the run fails and names that layer and index, with the golden value', () => {
  const g = manifest.tasks.find((x) => x.name === 'depth')!;
  const layer = 'blocks.1.res1';
  const spec = g.tensors.find((x) => x.name === layer)!;
  const golden = fs.readFileSync(path.join(deploy, 'golden', spec.file));
  const index = 21;
  const expected = golden.readInt16LE(2 * index);
  const r = validate(fakeConf(['depth', layer, index]), ['--task', 'depth']);
  expect(r.status).toBe(1);
  expect(r.stdout).toContain(`first differing layer: ${layer}, index ${index}: expected ${expected}, got ${expected + 1} (1 elements differ)`);
  expect(r.stdout).toMatch(/validate: FAIL \(1 runs on the board/);
});
