/**
 * make/flow.mk and tcl/run-tool.sh, driven by make as users run them: the missing-tool
 * messages (PATH without Vitis/Vivado), the launcher choice (vitis-run on 2023.2+, else
 * vitis_hls -f), stamps that make `make bitstream` resume, and `make package`. The tools
 * are the Tcl stand-ins (test/tcl-standins/bin), so this checks the flow's plumbing, not
 * Vitis or Vivado.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { hwInterface } from '../generator/schedule/interface';
import * as os from 'os';
import { CSIM_HEADERS, CSIM_SOURCES } from '../generator/emit/makefile';
import { LAYOUT } from '../generator/emit/layout';
import { flowSources } from '../generator/flow/sources';
import { generate } from '../generator/generate';
import { loadProject } from '../generator/project';
import { pathWithout, runMake, standinBin, writeFlowProject, zcu104Project, type ToolRun } from './tcl-helpers';

const p = zcu104Project();
const BUNDLES = hwInterface(p.config).bundles.map((b) => b.bundle).join(' ');
const cleanup: string[] = [];
afterAll(() => {
  for (const d of cleanup) fs.rmSync(d, { recursive: true, force: true });
});

/** A project folder with the flow and a Makefile that includes the fragment as the
 * kernel emitter's Makefile does. */
function newProject(): string {
  const { dir } = writeFlowProject(p);
  cleanup.push(dir);
  const makefile = path.join(dir, 'Makefile');
  if (!fs.existsSync(makefile) || !/include make\/flow\.mk/.test(fs.readFileSync(makefile, 'utf8'))) {
    fs.writeFileSync(makefile, 'csim:\n\t@echo csim\nclean:\n\t@echo cleaning\n-include make/flow.mk\n');
  }
  return dir;
}

function bin(tools: Array<'vitis_hls' | 'vitis-run' | 'vivado'>): string {
  const d = standinBin(tools);
  cleanup.push(d);
  return pathWithout([d]);
}

/** The flow steps that ran, from the launcher lines ("m3vit: <step> with <tool> ..."). */
function steps(r: ToolRun): string[] {
  return [...r.stdout.matchAll(/^m3vit: (\S+) with /gm)].map((m) => m[1]);
}

const ENV = { STANDIN_HLS_BUNDLES: BUNDLES };

describe('missing tools', () => {
  test('make csynth without Vitis HLS on PATH: fails naming the tool and the target', () => {
    const dir = newProject();
    const r = runMake(dir, ['csynth'], pathWithout());
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/make csynth: step 'csynth' needs Vitis HLS, but neither vitis-run \(Vitis 2023\.2 and later\) nor vitis_hls is on PATH/);
    expect(r.stderr).toMatch(/settings64\.sh/);
    expect(fs.existsSync(path.join(dir, 'build/stamps/csynth'))).toBe(false);
  });

  test('make bitstream with Vitis HLS but without Vivado: the HLS steps run, then it fails naming vivado', () => {
    const dir = newProject();
    const r = runMake(dir, ['bitstream'], bin(['vitis_hls']), ENV);
    expect(r.status).not.toBe(0);
    expect(steps(r)).toEqual(['csynth', 'ip']);
    expect(r.stderr).toMatch(/make bitstream: step 'block-design' needs Vivado, but vivado is not on PATH/);
  });
});

describe('launcher and resume', () => {
  test('vitis-run is preferred when present (2023.2+), vitis_hls -f otherwise; the release is printed', () => {
    const a = newProject();
    const withRun = runMake(a, ['csynth'], bin(['vitis-run', 'vitis_hls']), ENV);
    expect(withRun.status).toBe(0);
    expect(withRun.stdout).toMatch(/m3vit: csynth with vitis-run 2024\.1 at .*vitis-run/);
    const b = newProject();
    const old = runMake(b, ['csynth'], bin(['vitis_hls']), ENV);
    expect(old.status).toBe(0);
    expect(old.stdout).toMatch(/m3vit: csynth with vitis_hls 2023\.1 at .*vitis_hls/);
    expect(fs.existsSync(path.join(b, 'build/logs/csynth.log'))).toBe(true);
  });

  test('make bitstream runs each step once, then resumes: only what changed (by content) reruns', () => {
    const dir = newProject();
    const PATH = bin(['vitis_hls', 'vivado']);
    const first = runMake(dir, ['bitstream'], PATH, ENV);
    expect(first.status).toBe(0);
    expect(steps(first)).toEqual(['csynth', 'ip', 'block-design', 'bitstream']);
    expect(first.errors).toEqual([]);

    const again = runMake(dir, ['bitstream'], PATH, ENV);
    expect(again.status).toBe(0);
    expect(steps(again)).toEqual([]);
    expect(again.calls).toEqual([]);

    // Rewriting a source with the same contents (as regenerating does) redoes nothing.
    const src = path.join(dir, 'src/m3vit_top.cpp');
    const text = fs.readFileSync(src, 'utf8');
    fs.writeFileSync(src, text);
    fs.utimesSync(src, new Date(), new Date(Date.now() + 5000));
    expect(steps(runMake(dir, ['bitstream'], PATH, ENV))).toEqual([]);

    // A changed testbench needs no new synthesis.
    fs.appendFileSync(path.join(dir, 'tb/testbench.cpp'), '// changed\n');
    expect(steps(runMake(dir, ['bitstream'], PATH, ENV))).toEqual([]);

    // A changed kernel source redoes everything downstream.
    fs.writeFileSync(src, `${text}// changed\n`);
    expect(steps(runMake(dir, ['bitstream'], PATH, ENV))).toEqual(['csynth', 'ip', 'block-design', 'bitstream']);
  });

  test('after a failed implementation, make bitstream resumes at the failed step', () => {
    const dir = newProject();
    const PATH = bin(['vitis_hls', 'vivado']);
    const failed = runMake(dir, ['bitstream'], PATH, { ...ENV, STANDIN_FAIL_RUN: 'impl_1' });
    expect(failed.status).not.toBe(0);
    expect(steps(failed)).toEqual(['csynth', 'ip', 'block-design', 'bitstream']);
    const resumed = runMake(dir, ['bitstream'], PATH, ENV);
    expect(resumed.status).toBe(0);
    expect(steps(resumed)).toEqual(['bitstream']);
    // Synthesis had completed: only implementation is launched again.
    expect(resumed.commands.filter((c) => c[0] === 'launch_runs').map((c) => c[1])).toEqual(['impl_1']);
  });

  test('cosim and hls-csim, then xsa', () => {
    const dir = newProject();
    const PATH = bin(['vitis_hls', 'vivado']);
    const r = runMake(dir, ['hls-csim', 'cosim'], PATH, ENV);
    expect(r.status).toBe(0);
    expect(steps(r)).toEqual(['hls-csim', 'csynth', 'cosim']);
    const x = runMake(dir, ['xsa'], PATH, ENV);
    expect(x.status).toBe(0);
    expect(steps(x)).toEqual(['ip', 'block-design', 'bitstream', 'xsa']);
    expect(fs.existsSync(path.join(dir, `build/out/${p.config.name}.xsa`))).toBe(true);
  });
});

describe('package and clean', () => {
  test('make package: the .bit and .hwh with one stem, weight image and its manifest, quantization plan, driver and golden vectors', () => {
    const dir = newProject();
    const PATH = bin(['vitis_hls', 'vivado']);
    const r = runMake(dir, ['package'], PATH, ENV);
    expect(r.status).toBe(0);
    const files = fs.readdirSync(path.join(dir, 'deploy')).sort();
    expect(files).toEqual(
      [
        `${p.config.name}.bit`,
        `${p.config.name}.hwh`,
        'golden',
        'm3vit_codec.py',
        'm3vit_driver.py',
        'm3vit_meta.json',
        'm3vit_registers.py',
        'quant-plan.json',
        'validate.py',
        'weights.bin',
        'weights.json',
      ].sort(),
    );
    expect(fs.existsSync(path.join(dir, 'deploy/golden/manifest.json'))).toBe(true);
    // The names the driver looks for are the names package wrote.
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'deploy/m3vit_meta.json'), 'utf8'));
    for (const f of Object.values(meta.files) as string[]) expect(fs.existsSync(path.join(dir, 'deploy', f))).toBe(true);
  });

  test('make package without the weight image names the missing file', () => {
    const dir = newProject();
    fs.rmSync(path.join(dir, 'data/weights.bin'));
    const r = runMake(dir, ['package'], bin(['vitis_hls', 'vivado']), ENV);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/make package: data\/weights\.bin is missing/);
  });

  test('make clean also removes build/ and deploy/ (the including Makefile keeps its clean recipe)', () => {
    const dir = newProject();
    fs.mkdirSync(path.join(dir, 'build/stamps'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'deploy'), { recursive: true });
    const r = runMake(dir, ['clean'], pathWithout());
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/overriding recipe/);
    expect(fs.existsSync(path.join(dir, 'build'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'deploy'))).toBe(false);
    expect(r.stdout).toMatch(/cleaning/);
  });
});

describe('a whole generated project (the kernel emitter\'s Makefile includes make/flow.mk)', () => {
  const MODEL = `import { defineModel } from 'm3vit-gen';
export default defineModel({
  name: 'flow-small', image: { height: 32, width: 64 }, patch: 16, embedDim: 16, depth: 2, heads: 2, mlpRatio: 2,
  moe: { experts: 4, topK: 2, hidden: 8 },
  tasks: [{ name: 'semseg', channels: 5 }, { name: 'depth', channels: 1, head: { kind: 'linear' } }],
});
`;
  let out: string;
  let bundles: string;
  beforeAll(() => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-flow-project-'));
    cleanup.push(tmp);
    fs.writeFileSync(path.join(tmp, 'model.ts'), MODEL);
    const cfg = {
      name: 'flow_small',
      model: 'model.ts',
      board: {
        name: 'zcu104', part: 'xczu7ev-ffvc1156-2-e', boardPart: 'xilinx.com:zcu104:part0:1.1',
        resources: { LUT: 230400, FF: 460800, DSP: 1728, BRAM_18K: 624, URAM: 96 }, ddr: { bandwidthGBps: 17 }, hpPorts: ['HP0', 'HP1'],
      },
      clockMHz: 250,
      numerics: { weights: { bits: 16 }, activations: { bits: 16 } },
      parallelism: { pe: 8, simd: 8 },
    };
    fs.writeFileSync(path.join(tmp, 'cfg.json'), JSON.stringify(cfg));
    out = path.join(tmp, 'out');
    const project = loadProject(path.join(tmp, 'cfg.json'), { outDir: out });
    generate(project, { force: false });
    bundles = hwInterface(project.config).bundles.map((b) => b.bundle).join(' ');
  });

  test('the flow reads the files the kernel emitter writes (one list: generator/flow/sources.ts)', () => {
    const src = flowSources();
    expect([...src.hls, ...src.testbench].sort()).toEqual([...CSIM_SOURCES].sort());
    // Every header but the g++-only shim is an input of synthesis.
    expect([...src.headers].sort()).toEqual(CSIM_HEADERS.filter((h) => !h.startsWith(`${LAYOUT.shimDir}/`)).sort());
    for (const f of [...src.hls, ...src.testbench, ...src.headers, src.weightImage, src.quantPlan, src.goldenManifest]) {
      expect(fs.existsSync(path.join(out, f))).toBe(true);
    }
  });

  test('make csynth without tools names the tool; with the stand-ins the whole flow runs through the project Makefile', () => {
    const missing = runMake(out, ['csynth'], pathWithout());
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/make csynth: step 'csynth' needs Vitis HLS/);
    const env = { STANDIN_HLS_BUNDLES: bundles };
    const PATH = bin(['vitis-run', 'vivado']);
    const r = runMake(out, ['hls-csim', 'package'], PATH, env);
    expect(r.errors).toEqual([]);
    expect(r.status).toBe(0);
    expect(steps(r)).toEqual(['hls-csim', 'csynth', 'ip', 'block-design', 'bitstream']);
    expect(r.commands.find((c) => c[0] === 'create_clock')).toEqual(['create_clock', '-period', '250MHz', '-name', 'default']);
    expect(fs.readdirSync(path.join(out, 'deploy')).sort()).toEqual(
      ['flow_small.bit', 'flow_small.hwh', 'golden', 'm3vit_codec.py', 'm3vit_driver.py', 'm3vit_meta.json', 'm3vit_registers.py', 'quant-plan.json', 'validate.py', 'weights.bin', 'weights.json'].sort(),
    );
    // The driver's weight image is the kernel emitter's, whole 128-bit words, and the
    // manifest beside it (which the driver checks the image against) describes it.
    const image = fs.readFileSync(path.join(out, 'deploy/weights.bin'));
    expect(image.length % 16).toBe(0);
    const wm = JSON.parse(fs.readFileSync(path.join(out, 'deploy/weights.json'), 'utf8'));
    expect([wm.bytes, wm.sha256]).toEqual([image.length, createHash('sha256').update(image).digest('hex')]);
  });

  test('make clean: the csim build and the flow\'s build/ and deploy/, without recipe clashes', () => {
    fs.mkdirSync(path.join(out, 'csim-build'), { recursive: true });
    fs.mkdirSync(path.join(out, 'build/stamps'), { recursive: true });
    const r = runMake(out, ['clean'], pathWithout());
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    for (const d of ['csim-build', 'build', 'deploy']) expect(fs.existsSync(path.join(out, d))).toBe(false);
  });
});
