/**
 * m3vit-gen against PyTorch. A small M³ViT is built in PyTorch from the paper's semantics
 * (test/pytorch/m3vit_small.py: MoE in odd blocks, multi-gate w_gate [D, E], full softmax
 * then top-k without renormalisation, fastmoe expert layout with GELU, UpHead with BatchNorm
 * in eval mode and non-trivial running statistics, a linear head), saved as a state dict
 * (plain, wrapped in {"model": {"module." ...}} with a training-only module, and as a
 * two-rank {rank}.pth folder), exported with tools/export_m3vit.py, imported, and run with
 * `m3vit-gen predict`. The float reference must match PyTorch to float32 precision; the int
 * mode's error is reported.
 *
 * Needs a python with torch and numpy (Debian: apt install python3-torch python3-numpy).
 * Without one the tests are skipped with a loud message, except in CI (CI=true or
 * M3VIT_REQUIRE_TORCH=1, set by .ci/run), where that is a failure.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readNpy } from '../generator/io/npy';
import { buildIR } from '../generator/ir/build';
import { loadModel } from '../generator/model/load';
import { importWeights } from '../generator/weights/import';
import { parseSafetensors } from '../generator/weights/safetensors';
import { type CliRun, ensureBuilt, ROOT, runCli, zcu104Board } from './helpers/cli';
import { figure } from './helpers/figures';

const EXPORTER = path.join(ROOT, 'tools', 'export_m3vit.py');
const TORCH_MODEL = path.join(ROOT, 'test', 'pytorch', 'm3vit_small.py');

/** A python that can import torch and numpy: $M3VIT_PYTHON, Debian's /usr/bin/python3, then PATH. */
function findTorchPython(): string | undefined {
  const candidates = [process.env.M3VIT_PYTHON, '/usr/bin/python3', 'python3', 'python'].filter((c): c is string => !!c);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return undefined;
}

const PYTHON = findTorchPython();
const REQUIRED = process.env.CI === 'true' || process.env.M3VIT_REQUIRE_TORCH === '1';
if (!PYTHON && !REQUIRED) {
  // eslint-disable-next-line no-console
  console.warn(
    [
      '',
      '*****************************************************************************',
      '* test/pytorch.test.ts SKIPPED: no python with torch and numpy was found     *',
      '* (tried $M3VIT_PYTHON, /usr/bin/python3, python3, python).                 *',
      '* Install them (Debian: apt install python3-torch python3-numpy) to run the *',
      '* comparison of m3vit-gen against PyTorch.                                  *',
      '*****************************************************************************',
      '',
    ].join('\n'),
  );
}
const describeTorch = PYTHON || REQUIRED ? describe : describe.skip;

function python(args: string[], cwd: string): string {
  if (!PYTHON) throw new Error('no python with torch and numpy found (tried $M3VIT_PYTHON, /usr/bin/python3, python3, python); CI requires it: apt install python3-torch python3-numpy');
  const r = spawnSync(PYTHON, args, { cwd, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2' } });
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const cli = (args: string[], cwd: string): CliRun => runCli(args, { cwd });

/** The test model: image 32x32, patch 8, D 32, depth 2 (block 1 is MoE), 2 heads, 4 experts, top-2, two tasks. */
const SPEC = {
  image: [32, 32],
  patch: 8,
  dim: 32,
  depth: 2,
  heads: 2,
  mlp_ratio: 2,
  experts: 4,
  top_k: 2,
  expert_hidden: 24,
  bn_eps: 1e-5,
  tasks: [
    { name: 'semseg', channels: 5, head: 'uphead', head_channels: 16 },
    { name: 'depth', channels: 1, head: 'linear' },
  ],
};

const MODEL_TS = `import { defineModel } from 'm3vit-gen';

// The PyTorch model of test/pytorch/m3vit_small.py with SPEC of test/pytorch.test.ts.
export default defineModel({
  name: 'torch-small',
  image: { height: 32, width: 32 },
  patch: 8,
  embedDim: 32,
  depth: 2,
  heads: 2,
  mlpRatio: 2,
  moe: { experts: 4, topK: 2, hidden: 24, blocks: 'odd', gate: 'multi' },
  tasks: [
    { name: 'semseg', channels: 5, head: { kind: 'uphead', channels: 16 } },
    { name: 'depth', channels: 1, head: { kind: 'linear' } },
  ],
});
`;

const CONFIG = {
  name: 'torch_small',
  model: 'model.ts',
  board: zcu104Board(),
  clockMHz: 300,
  numerics: { weights: { bits: 16 }, activations: { bits: 16 }, calibration: { images: 2 } },
  parallelism: { pe: 8, simd: 16 },
  seed: 11,
  randomInit: 'exercise',
};

let dir: string;

interface RelError {
  /** ||got - ref|| / ||ref||. */
  relL2: number;
  /** max |got - ref| / max |ref|. */
  maxRel: number;
  maxAbs: number;
}

function relError(got: ArrayLike<number>, ref: ArrayLike<number>): RelError {
  expect(got.length).toBe(ref.length);
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  let refMax = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = got[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
    refMax = Math.max(refMax, Math.abs(ref[i]));
  }
  return { relL2: Math.sqrt(num / den), maxRel: maxAbs / refMax, maxAbs };
}

const fmtErr = (e: RelError): string => `rel L2 ${e.relL2.toExponential(2)}, max ${e.maxRel.toExponential(2)} of range`;

describeTorch('PyTorch checkpoints through tools/export_m3vit.py and the importer', () => {
  beforeAll(() => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-torch-'));
    fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(SPEC));
    fs.writeFileSync(path.join(dir, 'model.ts'), MODEL_TS);
    fs.writeFileSync(path.join(dir, 'cfg.json'), JSON.stringify(CONFIG));
    python([TORCH_MODEL, 'build', 'spec.json', '--seed', '3', '--out', 'model.pth', '--wrapped-out', 'wrapped.pth', '--tam', '--shards', 'shards', '--ranks', '2'], dir);
    for (const [from, to] of [['model.pth', 'plain.safetensors'], ['wrapped.pth', 'wrapped.safetensors'], ['shards', 'sharded.safetensors']]) {
      const out = python([EXPORTER, from, '--out', to], dir);
      expect(out).toMatch(new RegExp(`^wrote ${to.replace('.', '\\.')}: \\d+ tensors`));
    }
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const ir = (): ReturnType<typeof buildIR> => buildIR(loadModel(path.join(dir, 'model.ts')).spec);

  it('the exporter writes exactly the state dict (checked in PyTorch), with the task order', () => {
    // PyTorch's own view: every tensor of the state dict, bit for bit, under its name without "module.".
    const check = `
import sys, torch
sys.path.insert(0, ${JSON.stringify(path.dirname(TORCH_MODEL))})
from m3vit_small import read_safetensors
ref = torch.load("model.pth")
for f in ["plain.safetensors", "wrapped.safetensors", "sharded.safetensors"]:
    got = read_safetensors(f)
    assert list(got) == list(ref), (f, set(got) ^ set(ref))
    for k, v in ref.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape and torch.equal(got[k], v), (f, k)
print("ok", len(ref))
`;
    expect(python(['-c', check], dir).trim()).toMatch(/^ok \d+$/);
    const st = parseSafetensors(fs.readFileSync(path.join(dir, 'sharded.safetensors')), 'sharded.safetensors');
    expect(st.metadata).toMatchObject({ format: 'pt', 'm3vit.tasks': 'semseg,depth', 'm3vit.source': 'shards (2 ranks)' });
    expect(st.entries.find((e) => e.name === 'backbone.blocks.1.mlp.experts.htoh4.weight')).toMatchObject({ dtype: 'F32', shape: [4, 24, 32] });
    expect(st.entries.find((e) => e.name === 'decoders.semseg.syncbn_fc_0.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [] });
  });

  it('all three checkpoint forms import to the same weights, with notes on what was ignored and folded', () => {
    const model = ir();
    const notes: Record<string, string[]> = {};
    const sets = ['plain', 'wrapped', 'sharded'].map((n) => {
      const r = importWeights(path.join(dir, `${n}.safetensors`), model, { displayName: n });
      notes[n] = r.notes;
      return r.weights;
    });
    for (const s of sets.slice(1)) {
      expect([...s.keys()]).toEqual([...sets[0].keys()]);
      for (const [k, v] of sets[0]) expect(s.get(k)!.data).toEqual(v.data);
    }
    expect(notes.wrapped.join('\n')).toMatch(/ignored 5 training-only tensors: 3 BatchNorm num_batches_tracked, 2 task-affinity modules \(tam_model\*\)/);
    expect(notes.plain.join('\n')).toContain('folded BatchNorm (eval mode, eps 0.00001) into 3 head convolutions');
  });

  it('half-precision checkpoints (F16, BF16) import to the values PyTorch widens them to', () => {
    const make = `
import torch
sd = torch.load("model.pth")
for dt, name in ((torch.float16, "f16"), (torch.bfloat16, "bf16")):
    torch.save({k: v.to(dt) if v.is_floating_point() else v for k, v in sd.items()}, name + ".pth")
    torch.save({k: v.to(dt).float() if v.is_floating_point() else v for k, v in sd.items()}, name + "-widened.pth")
`;
    python(['-c', make], dir);
    const model = ir();
    for (const name of ['f16', 'bf16']) {
      python([EXPORTER, `${name}.pth`, '--out', `${name}.safetensors`], dir);
      python([EXPORTER, `${name}-widened.pth`, '--out', `${name}-widened.safetensors`], dir);
      const st = parseSafetensors(fs.readFileSync(path.join(dir, `${name}.safetensors`)), name);
      expect(st.entries.find((e) => e.name === 'backbone.pos_embed')!.dtype).toBe(name.toUpperCase());
      const half = importWeights(path.join(dir, `${name}.safetensors`), model, { displayName: name }).weights;
      const widened = importWeights(path.join(dir, `${name}-widened.safetensors`), model, { displayName: name }).weights;
      for (const [k, v] of widened) expect(half.get(k)!.data).toEqual(v.data);
    }
  });

  it('predict --mode float equals PyTorch at float32 precision for every task; --mode int error reported', () => {
    const images = 2;
    python(['-c', `
import numpy as np
x = np.random.RandomState(5).randn(${images}, 3, 32, 32).astype(np.float32)
np.save("images.npy", x)
for i in range(${images}):
    np.save("image%d.npy" % i, x[i])
`], dir);
    python([TORCH_MODEL, 'run', 'spec.json', '--weights', 'model.pth', '--images', 'images.npy', '--out-dir', 'torch32'], dir);
    python([TORCH_MODEL, 'run', 'spec.json', '--weights', 'model.pth', '--images', 'images.npy', '--out-dir', 'torch64', '--double'], dir);
    const lines: string[] = ['m3vit-gen predict against PyTorch (small model, 2 images, weights from the two-rank checkpoint):'];
    for (const t of SPEC.tasks) {
      const ref32 = readNpy(path.join(dir, 'torch32', `${t.name}.npy`)).data;
      const ref64 = readNpy(path.join(dir, 'torch64', `${t.name}.npy`)).data;
      const per = ref64.length / images;
      for (let i = 0; i < images; i++) {
        const out: Record<string, Float64Array> = {};
        for (const mode of ['float', 'int']) {
          const file = `${t.name}-${i}-${mode}.npy`;
          const r = cli(['predict', '--config', 'cfg.json', '--task', t.name, '--input', `image${i}.npy`, '--out', file, '--weights', 'sharded.safetensors', '--mode', mode, '--quiet'], dir);
          expect(r.stderr.replace(/^sharded\.safetensors: note: .*\n/gm, '')).toBe('');
          expect(r.code).toBe(0);
          out[mode] = readNpy(path.join(dir, file)).data;
        }
        const r64 = ref64.subarray(i * per, (i + 1) * per);
        const r32 = ref32.subarray(i * per, (i + 1) * per);
        expect(out.float.length).toBe(per);
        const e64 = relError(out.float, r64);
        const e32 = relError(out.float, r32);
        const t32 = relError(r32, r64);
        const eInt = relError(out.int, r64);
        lines.push(
          `  ${t.name} image ${i}: float vs PyTorch float64 ${fmtErr(e64)}; vs PyTorch float32 ${fmtErr(e32)} (PyTorch float32 vs float64: ${fmtErr(t32)}); int vs PyTorch float64 ${fmtErr(eInt)}`,
        );
        // predict writes float32: its rounding alone is up to 2^-24 relative; PyTorch's float32 run is itself ~1e-7 off float64.
        expect(e64.relL2).toBeLessThan(1e-6);
        expect(e64.maxRel).toBeLessThan(1e-6);
        expect(e32.relL2).toBeLessThan(5e-6);
        // The int mode: 16-bit words; a sanity bound, the figure is what the report shows.
        expect(eInt.relL2).toBeLessThan(5e-2);
      }
    }
    // eslint-disable-next-line no-console
    figure(lines.join('\n'));
  });

  it('export-weights writes m3vit-gen\'s random weights so that PyTorch computes what predict --mode float computes', () => {
    const r = cli(['export-weights', '--config', 'cfg.json', '--out', 'generated.safetensors'], dir);
    expect(r.code).toBe(0);
    // The PyTorch model loads it with strict=False (the helper fails on anything but num_batches_tracked missing).
    python([TORCH_MODEL, 'run', 'spec.json', '--weights', 'generated.safetensors', '--images', 'images.npy', '--out-dir', 'torch-generated', '--double'], dir);
    const lines: string[] = ['PyTorch float64 with m3vit-gen\'s seeded random weights (export-weights) against predict --mode float:'];
    for (const t of SPEC.tasks) {
      const p = cli(['predict', '--config', 'cfg.json', '--task', t.name, '--input', 'image0.npy', '--out', `gen-${t.name}.npy`, '--mode', 'float'], dir);
      expect(p.code).toBe(0);
      const ours = readNpy(path.join(dir, `gen-${t.name}.npy`)).data;
      const ref = readNpy(path.join(dir, 'torch-generated', `${t.name}.npy`)).data;
      const e = relError(ours, ref.subarray(0, ours.length));
      lines.push(`  ${t.name}: ${fmtErr(e)}`);
      expect(e.relL2).toBeLessThan(1e-6);
    }
    // eslint-disable-next-line no-console
    figure(lines.join('\n'));
  });

  it('export_m3vit.py refuses bad input with exit 2 and writes nothing', () => {
    const run = (args: string[]): { code: number | null; stderr: string } => {
      const r = spawnSync(PYTHON!, [EXPORTER, ...args], { cwd: dir, encoding: 'utf8' });
      return { code: r.status, stderr: r.stderr };
    };
    fs.mkdirSync(path.join(dir, 'gap'));
    fs.copyFileSync(path.join(dir, 'shards', '0.pth'), path.join(dir, 'gap', '0.pth'));
    fs.copyFileSync(path.join(dir, 'shards', '1.pth'), path.join(dir, 'gap', '2.pth'));
    expect(run(['gap', '--out', 'x.safetensors'])).toEqual({ code: 2, stderr: 'export_m3vit.py: gap: rank files must be 0.pth .. 1.pth without gaps; found 0.pth, 2.pth\n' });
    python(['-c', 'import torch; torch.save([1, 2, 3], "list.pth")'], dir);
    expect(run(['list.pth', '--out', 'x.safetensors'])).toEqual({ code: 2, stderr: 'export_m3vit.py: list.pth: holds a list, not a state dict (a dict of tensors)\n' });
    expect(run(['absent.pth', '--out', 'x.safetensors'])).toEqual({ code: 2, stderr: 'export_m3vit.py: absent.pth: no such file or folder\n' });
    expect(fs.existsSync(path.join(dir, 'x.safetensors'))).toBe(false);
  });
});
