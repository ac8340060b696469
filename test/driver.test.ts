/**
 * The PYNQ host driver (templates/host, written to <project>/host): it compiles; its
 * fixed-point codec agrees bit for bit with generator/numerics/fixed.ts (the one numeric
 * truth) and with hand-derived cases; register offsets come from the register map by name;
 * and, with a fake `pynq` (test/driver-fakes) whose accelerator adds a task-dependent
 * constant, run() and validate.py go through buffers, registers and the codec end to end.
 * No board and no PYNQ here: what the real overlay does is not checked.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dequantize, quantize } from '../generator/numerics/fixed';
import { activationSites } from '../generator/numerics/plan';
import { flowFiles } from '../generator/flow/stage';
import type { HostMeta } from '../generator/flow/host';
import { GOLDEN_NAMES, sha256, type GoldenManifest, type GoldenTask, type GoldenTensor } from '../generator/golden/vectors';
import { ROOT, zcu104Project } from './tcl-helpers';
import { figure } from './helpers/figures';

const HOST = path.join(ROOT, 'templates', 'host');
const FAKES = path.join(ROOT, 'test', 'driver-fakes');
const numpyIn = (py: string): boolean => spawnSync(py, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
/** python3 from PATH, or Debian's (which CI gives numpy) when only that one has numpy. */
const PY = process.env.PYTHON ?? (!numpyIn('python3') && fs.existsSync('/usr/bin/python3') && numpyIn('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

function python(code: string, input: unknown, env: Record<string, string> = {}, cwd = HOST): { status: number | null; out: any; stdout: string; stderr: string } {
  const r = spawnSync(PY, ['-c', code], {
    cwd,
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, PYTHONPATH: [HOST, FAKES].join(path.delimiter), PYTHONDONTWRITEBYTECODE: '1', ...env },
  });
  let out: any;
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    out = undefined;
  }
  return { status: r.status, out, stdout: r.stdout, stderr: r.stderr };
}

const hasNumpy = numpyIn(PY);
if (!hasNumpy) {
  // CI installs numpy and sets M3VIT_REQUIRE_NUMPY=1 (.ci/run): there a missing numpy fails.
  if (process.env.M3VIT_REQUIRE_NUMPY === '1') throw new Error(`${PY} has no numpy, and M3VIT_REQUIRE_NUMPY=1`);
  console.warn(`${PY} has no numpy: the numpy codec path and the fake-PYNQ runs are skipped`);
}
const withNumpy = hasNumpy ? test : test.skip;

test('every host file compiles (python3 -m py_compile)', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-pyc-'));
  try {
    const files = flowFiles(zcu104Project()).filter((f) => f.path.endsWith('.py'));
    expect(files.map((f) => path.basename(f.path)).sort()).toEqual(['m3vit_codec.py', 'm3vit_driver.py', 'm3vit_registers.py', 'validate.py']);
    for (const f of files) {
      const file = path.join(out, path.basename(f.path));
      fs.writeFileSync(file, f.contents);
      const r = spawnSync(PY, ['-m', 'py_compile', file], { encoding: 'utf8', env: { ...process.env, PYTHONPYCACHEPREFIX: out } });
      expect({ file: f.path, status: r.status, stderr: r.stderr }).toEqual({ file: f.path, status: 0, stderr: '' });
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

describe('fixed-point codec', () => {
  // Hand-derived: floor(x * 2^frac + 0.5), then saturate to the word.
  const HAND: Array<[number, number, number, number]> = [
    [0.5, 0, 16, 1], // ties round up
    [-0.5, 0, 16, 0], // ... toward +infinity
    [-1.5, 0, 16, -1],
    [2.5, 0, 16, 3],
    [0.1, 4, 8, 2], // 1.6 + 0.5 = 2.1
    [10, -2, 16, 3], // 2.5 + 0.5 = 3
    [1.0, 15, 16, 32767], // 32768 saturates
    [-1.0, 15, 16, -32768], // fits exactly
    [-1.0000001, 15, 16, -32768], // saturates low
    [127.49, 0, 8, 127],
    [-3.75, 2, 8, -15],
    [Infinity, 3, 16, 32767],
    [-Infinity, 3, 16, -32768],
  ];

  test('hand-derived cases: the TypeScript reference and the Python codec both give them', () => {
    for (const [x, frac, bits, q] of HAND) expect(quantize(x, frac, bits)).toBe(q);
    const r = python(
      'import json,sys,m3vit_codec as c\ncases=json.load(sys.stdin)\nprint(json.dumps([c.quantize(float(x) if not isinstance(x,str) else float(x),f,b) for x,f,b in cases]))',
      HAND.map(([x, f, b]) => [Number.isFinite(x) ? x : String(x).replace('Infinity', 'inf'), f, b]),
    );
    expect(r.stderr).toBe('');
    expect(r.out).toEqual(HAND.map((h) => h[3]));
  });

  /** Vectors from the TypeScript reference: random values, exact ties, and the edges. */
  function vectors(): Array<{ frac: number; bits: number; xs: number[]; q: number[]; deq: number[] }> {
    let s = 12345;
    const rand = (): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32;
    };
    const sets = [];
    for (const [frac, bits] of [[0, 16], [8, 16], [12, 16], [14, 16], [15, 16], [30, 16], [-16, 16], [-3, 8], [5, 8], [10, 12], [20, 32]]) {
      const xs: number[] = [];
      const scale = 2 ** (bits - 1 - frac);
      for (let i = 0; i < 400; i++) xs.push((rand() * 2 - 1) * scale * 1.3); // about 1/4 saturate
      for (let k = -40; k <= 40; k++) xs.push((k + 0.5) * 2 ** -frac); // exact ties
      for (const e of [maxAbs(bits), -maxAbs(bits) - 1]) {
        xs.push(e * 2 ** -frac, (e + 0.5) * 2 ** -frac, (e - 0.5) * 2 ** -frac, (e + 1) * 2 ** -frac);
      }
      xs.push(0, -0, 1e-300, -1e-300, 5e-324);
      const q = xs.map((x) => quantize(x, frac, bits));
      sets.push({ frac, bits, xs, q, deq: q.map((v) => dequantize(v, frac)) });
    }
    return sets;
  }
  const maxAbs = (bits: number): number => 2 ** (bits - 1) - 1;

  test('scalar and list paths agree bit for bit with generator/numerics/fixed.ts', () => {
    const sets = vectors();
    const r = python(
      [
        'import json,sys,m3vit_codec as c',
        'out=[]',
        'for s in json.load(sys.stdin):',
        '  q=[c.quantize(x,s["frac"],s["bits"]) for x in s["xs"]]',
        '  ql,sat=c.quantize_array(s["xs"],s["frac"],s["bits"])',
        '  out.append({"q":q,"ql":ql,"sat":sat,"deq":[c.dequantize(v,s["frac"]) for v in q],"deql":c.dequantize_array(ql,s["frac"])})',
        'print(json.dumps(out))',
      ].join('\n'),
      sets.map(({ frac, bits, xs }) => ({ frac, bits, xs })),
    );
    expect(r.stderr).toBe('');
    let total = 0;
    sets.forEach((s, i) => {
      expect(r.out[i].q).toEqual(s.q);
      expect(r.out[i].ql).toEqual(s.q);
      expect(r.out[i].deq).toEqual(s.deq);
      expect(r.out[i].deql).toEqual(s.deq);
      const lo = -maxAbs(s.bits) - 1;
      const expectedSat = s.xs.filter((x) => {
        const raw = Math.floor(x * 2 ** s.frac + 0.5);
        return raw > maxAbs(s.bits) || raw < lo;
      }).length;
      expect(r.out[i].sat).toBe(expectedSat);
      total += s.xs.length;
    });
    figure(`codec: ${total} values in ${sets.length} formats, Python scalar/list paths equal to fixed.ts`);
  });

  withNumpy('the numpy path agrees bit for bit with generator/numerics/fixed.ts', () => {
    const sets = vectors();
    const r = python(
      [
        'import json,sys,numpy as np,m3vit_codec as c',
        'out=[]',
        'for s in json.load(sys.stdin):',
        '  q,sat=c.quantize_array(np.array(s["xs"],dtype=np.float64).reshape(-1,1),s["frac"],s["bits"])',
        '  out.append({"q":q.tolist(),"sat":sat,"deq":c.dequantize_array(q,s["frac"]).tolist()})',
        'print(json.dumps(out))',
      ].join('\n'),
      sets.map(({ frac, bits, xs }) => ({ frac, bits, xs })),
    );
    expect(r.stderr).toBe('');
    sets.forEach((s, i) => {
      expect(r.out[i].q).toEqual(s.q);
      expect(r.out[i].deq).toEqual(s.deq);
    });
  });

  test('NaN is refused, not turned into a number', () => {
    const r = python('import m3vit_codec as c\nc.quantize(float("nan"),4,16)', null);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot quantize NaN/);
  });

  test('words: int16 lanes little-endian, lane i in bits 16i..16i+15, zero-padded to 128 bits', () => {
    const r = python(
      'import json,sys,m3vit_codec as c\nb=c.pack_words([1,-1,256,-32768,32767])\nprint(json.dumps([list(b),c.unpack_words(b,5),c.word_count(8),c.word_count(9)]))',
      null,
    );
    expect(r.stderr).toBe('');
    const [bytes, back, w8, w9] = r.out;
    expect(bytes).toEqual([0x01, 0x00, 0xff, 0xff, 0x00, 0x01, 0x00, 0x80, 0xff, 0x7f, 0, 0, 0, 0, 0, 0]);
    expect(back).toEqual([1, -1, 256, -32768, 32767]);
    expect([w8, w9]).toEqual([1, 2]);
  });
});

describe('register offsets from the register map', () => {
  const code = [
    'import json,sys,m3vit_registers as r',
    'a=json.load(sys.stdin)',
    'try:',
    '  lay=r.resolve({k:tuple(v) for k,v in a["map"].items()}, a["pointers"], a["scalars"])',
    '  print(json.dumps({"layout":lay,"writes":r.writes(lay,"image",0x123456789)}))',
    'except r.RegisterError as e:',
    '  print(json.dumps({"error":str(e)}))',
  ].join('\n');
  const ptrs = ['weights', 'scratch', 'image', 'result'];

  test('Vitis HLS naming: 64-bit pointers as p_1/p_2; offsets as the map gives them, whatever they are', () => {
    const map: Record<string, [number, number]> = { CTRL: [0x0, 32], GIER: [0x4, 32], task: [0x58, 32], options: [0x60, 32] };
    ptrs.forEach((p, i) => {
      map[`${p}_1`] = [0x10 + 0x10 * i, 32];
      map[`${p}_2`] = [0x14 + 0x10 * i, 32];
    });
    const r = python(code, { map, pointers: ptrs, scalars: ['task', 'options'] });
    expect(r.out.layout.image).toEqual([[0x30, 0], [0x34, 32]]);
    expect(r.out.layout.task).toEqual([[0x58, 0]]);
    expect(r.out.writes).toEqual([[0x30, 0x23456789], [0x34, 0x1]]);
  });

  test('one 64-bit register, or 32-bit addressing', () => {
    const map64: Record<string, [number, number]> = { CTRL: [0, 32], task: [0x40, 32], options: [0x48, 32] };
    ptrs.forEach((p, i) => (map64[p] = [0x10 + 8 * i, 64]));
    expect(python(code, { map: map64, pointers: ptrs, scalars: ['task', 'options'] }).out.writes).toEqual([[0x20, 0x23456789], [0x24, 0x1]]);
    const map32: Record<string, [number, number]> = { ctrl: [0, 32], TASK: [0x40, 32], options: [0x48, 32] };
    ptrs.forEach((p, i) => (map32[p] = [0x10 + 8 * i, 32]));
    const r = python(code, { map: map32, pointers: ptrs, scalars: ['task', 'options'] });
    expect(r.out.error).toMatch(/image = 0x123456789 does not fit its 32-bit register/);
  });

  test('a register map without the accelerator’s registers is an error naming what is there', () => {
    const r = python(code, { map: { CTRL: [0, 32], foo: [0x10, 32] }, pointers: ptrs, scalars: [] });
    expect(r.out.error).toMatch(/no register for pointer argument 'weights'.*registers: CTRL, foo/);
    expect(python(code, { map: { foo: [0, 32] }, pointers: [], scalars: [] }).out.error).toMatch(/no CTRL register/);
  });
});

describe('m3vit_meta.json of the default config', () => {
  test('shapes, task indices in the built order, output sites that the quantization plan has', () => {
    const p = zcu104Project();
    const file = flowFiles(p).find((f) => f.path === 'host/m3vit_meta.json')!;
    const meta = JSON.parse(String(file.contents)) as HostMeta;
    const d = p.ir.dims;
    expect(meta.input).toEqual({ site: 'input', shape: [d.inChannels, d.imageH, d.imageW], elements: d.inChannels * d.imageH * d.imageW, words: Math.ceil((d.inChannels * d.imageH * d.imageW) / 8) });
    expect(meta.tasks.map((t) => [t.name, t.index])).toEqual(p.tasks.map((t, i) => [t.name, i]));
    const sites = new Set(activationSites(p.ir).map((s) => s.name));
    expect(sites.has(meta.input.site)).toBe(true);
    for (const t of meta.tasks) {
      expect(sites.has(t.outputSite)).toBe(true);
      expect(t.outputWords * 8).toBeGreaterThanOrEqual(t.outputElements);
    }
    expect(meta.bundles.map((b) => b.role)).toEqual(['weights', 'scratch', 'input', 'output']);
    // Dump slots lie inside the scratch buffer the driver allocates and do not overlap
    // (head slots of different tasks share a place: one task runs at a time).
    const words = (x: (typeof meta.dumps)[number]): number => Math.ceil((x.shape.reduce((a, b) => a * b, 1) * x.lanes) / 128);
    for (const x of meta.dumps) expect(x.offsetWords + words(x)).toBeLessThanOrEqual(meta.scratchWords);
    for (const t of meta.tasks) {
      const mine = meta.dumps.filter((x) => x.task === undefined || x.task === t.name).sort((a, b) => a.offsetWords - b.offsetWords);
      for (let i = 1; i < mine.length; i++) expect(mine[i].offsetWords).toBeGreaterThanOrEqual(mine[i - 1].offsetWords + words(mine[i - 1]));
    }
    // The csim's order: a task switch and back (A, B, A) before the other tasks.
    expect(meta.runOrder.slice(0, 3)).toEqual(p.tasks.length > 1 ? [0, 1, 0] : [0, 0]);
    expect(meta.files.bit).toBe(`${p.config.name}.bit`);
    expect(meta.files.hwh).toBe(`${p.config.name}.hwh`);
  });
});

describe('driver and validate.py on a fake PYNQ', () => {
  // A small design described by hand (independent of any model): two tasks with
  // different output sizes and fraction bits, three dump slots (16-bit rows, 32-bit lanes,
  // a channels-last map of the second task); non-default register offsets.
  const dumps = [
    { name: 'tokens', shape: [3, 4], layout: 'rows', lanes: 16, offsetWords: 0 },
    { name: 'blocks.0.gate.experts', shape: [3, 2], layout: 'rows', lanes: 32, offsetWords: 2 },
    { name: 'head.cls.conv_0', task: 'cls', shape: [2, 3, 4], layout: 'hwc', lanes: 16, offsetWords: 4 },
  ];
  const meta = {
    name: 'fake',
    ip: { vlnv: 'xilinx.com:hls:m3vit_top:1.0', cell: 'm3vit_0' },
    bundles: [
      { arg: 'weights', bundle: 'gmem_w', role: 'weights' },
      { arg: 'scratch', bundle: 'gmem_s', role: 'scratch' },
      { arg: 'image', bundle: 'gmem_i', role: 'input' },
      { arg: 'result', bundle: 'gmem_o', role: 'output' },
    ],
    scalars: [{ arg: 'task', cType: 'int' }, { arg: 'options', cType: 'unsigned' }],
    options: { debugDump: 1 },
    wordBits: 128,
    lanes: 8,
    input: { site: 'input', shape: [2, 3, 5], elements: 30, words: 4 },
    tasks: [
      { name: 'seg', index: 0, head: 'uphead', outputSite: 'head.seg.out', outputShape: [3, 3, 5], outputElements: 45, outputWords: 6 },
      { name: 'cls', index: 1, head: 'linear', outputSite: 'head.cls.out', outputShape: [4, 2], outputElements: 8, outputWords: 1 },
    ],
    scratchWords: 8,
    dumps,
    runOrder: [0, 1, 0],
    files: { bit: 'fake.bit', hwh: 'fake.hwh', weights: 'weights.bin', weightManifest: 'weights.json', quantPlan: 'quant-plan.json', goldenManifest: 'golden/manifest.json' },
  };
  // model/quant-plan.json's layout: one entry per activation site.
  const fracs: Record<string, number> = { input: 11, 'head.seg.out': 9, 'head.cls.out': 13 };
  const plan = { format: 'm3vit-quant-plan', version: 1, bits: { weight: 16, bias: 32, activation: 16, accumulator: 48 }, activations: Object.entries(fracs).map(([site, frac]) => ({ site, kind: 'x', frac })) };
  const registers: Record<string, [number, number]> = { CTRL: [0x0, 32], GIER: [0x4, 32], IP_IER: [0x8, 32], IP_ISR: [0xc, 32], task: [0x70, 32], options: [0x78, 32] };
  meta.bundles.forEach((b, i) => {
    registers[`${b.arg}_1`] = [0x18 + 0xc * i, 32];
    registers[`${b.arg}_2`] = [0x1c + 0xc * i, 32];
  });
  const fake = { registers, vlnv: 'xilinx.com:hls:m3vit_top:1.0', cell: 'm3vit_0', in_elements: 30, out_elements: [45, 8], task_names: ['seg', 'cls'], dumps };

  const weightImage = Buffer.from([1, 2, 3, 4, ...new Array(28).fill(0)]);
  let deploy: string;
  beforeAll(() => {
    deploy = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-deploy-'));
    for (const f of fs.readdirSync(HOST)) fs.copyFileSync(path.join(HOST, f), path.join(deploy, f));
    fs.writeFileSync(path.join(deploy, 'm3vit_meta.json'), JSON.stringify(meta));
    fs.writeFileSync(path.join(deploy, 'quant-plan.json'), JSON.stringify(plan));
    fs.writeFileSync(path.join(deploy, 'fake.bit'), 'bit');
    fs.writeFileSync(path.join(deploy, 'weights.bin'), weightImage);
    // data/weights.json as generator/emit/weight-image.ts writes it (only the fields the driver checks).
    fs.writeFileSync(path.join(deploy, 'weights.json'), JSON.stringify({ format: 'm3vit-gen weight image 1', bytes: weightImage.length, sha256: sha256(weightImage) }));
  });
  afterAll(() => fs.rmSync(deploy, { recursive: true, force: true }));

  const image = Array.from({ length: 30 }, (_, i) => ((i * 37) % 23) / 7 - 1.5 - (i === 3 ? 40 : 0)); // one value saturates (low) at 11 fraction bits
  const qImage = image.map((x) => quantize(x, fracs.input, 16));
  /** What the fake accelerator computes, in TypeScript: out[j] = q[j % 30] + 7 * task + 1. */
  const rawOut = (task: number, n: number): number[] => Array.from({ length: n }, (_, j) => qImage[j % 30] + 7 * task + 1);
  const dumpValues = (task: number, shape: number[]): number[] => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => ((3 * i + task) % 1000) - 500);

  withNumpy('run(image, task) for any task in any order: formats from the plan, registers by name, weights loaded once', () => {
    const log = path.join(deploy, 'pynq.log');
    const r = python(
      [
        'import json,sys,numpy as np',
        'from m3vit_driver import M3ViT',
        'img=np.array(json.load(sys.stdin),dtype=np.float32).reshape(2,3,5)',
        'acc=M3ViT()',
        'a=acc.run(img,"cls"); b=acc.run(img,"seg"); c=acc.run(img,1)',
        'print(json.dumps({"cls":a.ravel().tolist(),"seg":b.ravel().tolist(),"cls2":c.ravel().tolist(),"shapes":[list(a.shape),list(b.shape)],"sat":acc.last_input_saturated}))',
      ].join('\n'),
      image,
      { FAKE_PYNQ: JSON.stringify(fake), FAKE_PYNQ_LOG: log },
      deploy,
    );
    expect(r.stderr).toBe('');
    expect(r.out.shapes).toEqual([[4, 2], [3, 3, 5]]);
    expect(r.out.cls).toEqual(rawOut(1, 8).map((q) => dequantize(q, fracs['head.cls.out'])));
    expect(r.out.seg).toEqual(rawOut(0, 45).map((q) => dequantize(q, fracs['head.seg.out'])));
    expect(r.out.cls2).toEqual(r.out.cls);
    expect(r.out.sat).toBe(1);
    const calls = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(calls.filter((c) => c[0] === 'overlay')).toEqual([['overlay', 'fake.bit']]);
    expect(calls.filter((c) => c[0] === 'allocate').length).toBe(4); // once, for all runs
    // The fake kernel saw the weight image's bytes (1+2+3+4) on every run, the tasks in order, no dumps.
    expect(calls.filter((c) => c[0] === 'run')).toEqual([['run', 1, 10, 0], ['run', 0, 10, 0], ['run', 1, 10, 0]]);
    // Pointer halves at the map's offsets: the result buffer lives above 4 GiB.
    const writes = calls.filter((c) => c[0] === 'write');
    const resultHigh = writes.filter((c) => c[1] === registers.result_2[0]);
    expect(resultHigh.length).toBe(3);
    expect(resultHigh[0][2]).toBeGreaterThan(0);
  });

  /** Golden vectors as generator/golden/vectors.ts writes them: one raw little-endian file
   * per tensor (names from GOLDEN_NAMES), a manifest typed as its GoldenManifest. */
  function writeGolden(edit?: (task: string, tensor: string, values: number[]) => void): void {
    const golden = path.join(deploy, 'golden');
    fs.rmSync(golden, { recursive: true, force: true });
    const tensorFile = (name: string, file: string, dtype: 'int16' | 'int32', shape: number[], values: number[]): GoldenTensor => {
      const size = dtype === 'int16' ? 2 : 4;
      const b = Buffer.alloc(size * values.length);
      values.forEach((v, i) => (size === 2 ? b.writeInt16LE(v, 2 * i) : b.writeInt32LE(v, 4 * i)));
      fs.mkdirSync(path.dirname(path.join(golden, file)), { recursive: true });
      fs.writeFileSync(path.join(golden, file), b);
      return { name, file, dtype, shape, frac: 0, bytes: b.length, sha256: sha256(b) };
    };
    const input = tensorFile('input', GOLDEN_NAMES.input, 'int16', [2, 3, 5], [...qImage]);
    const tasks: GoldenTask[] = meta.tasks.map((t) => {
      const tensors: GoldenTensor[] = [];
      for (const d of dumps.filter((x) => x.task === undefined || x.task === t.name)) {
        const v = dumpValues(t.index, d.shape);
        edit?.(t.name, d.name, v);
        tensors.push(tensorFile(d.name, GOLDEN_NAMES.checkpoint(t.name, d.name), d.lanes === 32 ? 'int32' : 'int16', d.shape, v));
      }
      const out = rawOut(t.index, t.outputElements);
      edit?.(t.name, t.outputSite, out);
      tensors.push(tensorFile(t.outputSite, GOLDEN_NAMES.output(t.name), 'int16', t.outputShape, out));
      return { name: t.name, taskId: t.index, modelIndex: t.index, output: t.outputSite, tensors, moe: [], saturation: {}, saturatedTotal: 0, accumulatorOverflow: 0 };
    });
    const manifest: GoldenManifest = {
      format: 'm3vit-golden',
      version: 1,
      model: 'fake',
      byteOrder: 'little-endian',
      generation: 'fake',
      image: { kind: 'seeded', seed: 1, index: 0, shape: [2, 3, 5] },
      input,
      weights: { kind: 'random', seed: 1, init: 'm3vit' },
      quantPlan: 'model/quant-plan.json',
      tasks,
    };
    fs.writeFileSync(path.join(golden, 'manifest.json'), JSON.stringify(manifest));
  }
  const validate = (args: string[] = []): ReturnType<typeof python> =>
    python(`import sys,validate\nsys.exit(validate.main(${JSON.stringify(args)}))`, null, { FAKE_PYNQ: JSON.stringify(fake) }, deploy);

  withNumpy('validate.py: the csim run order, outputs and every dumped layer bit-exact: PASS, exit 0', () => {
    writeGolden();
    const r = validate();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('run '));
    expect(lines).toEqual([
      'run 0: task seg: 45 output words, 0 mismatches; 2 checkpointed layers, 0 mismatching elements: PASS',
      'run 1: task cls: 8 output words, 0 mismatches; 3 checkpointed layers, 0 mismatching elements: PASS',
      'run 2: task seg: 45 output words, 0 mismatches; 2 checkpointed layers, 0 mismatching elements: PASS',
    ]);
    expect(r.stdout).toMatch(/validate: PASS \(3 runs on the board, no reload between tasks\)/);
  });

  withNumpy('validate.py: a differing output word and a differing layer are named as the csim names them, exit 1', () => {
    writeGolden((task, tensor, v) => {
      if (task === 'cls' && tensor === 'head.cls.out') v[5] += 3;
      if (task === 'cls' && tensor === 'head.cls.conv_0') v[7] -= 1; // golden (c, y, x) = (0, 1, 3)
    });
    const r = validate(['--task', 'cls']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('run 0: task cls: 8 output words, 1 mismatches; 3 checkpointed layers, 1 mismatching elements: FAIL');
    expect(r.stdout).toContain(`  output: first mismatch at index 5: expected ${rawOut(1, 8)[5] + 3}, got ${rawOut(1, 8)[5]}`);
    const d7 = dumpValues(1, [2, 3, 4])[7];
    expect(r.stdout).toContain(`  first differing layer: head.cls.conv_0, index 7: expected ${d7 - 1}, got ${d7} (1 elements differ)`);
    expect(r.stdout).toMatch(/validate: FAIL/);
  });

  withNumpy('a weight image other than the generated one (size or contents) stops before the overlay is loaded, exit 2', () => {
    writeGolden();
    const log = path.join(deploy, 'weights.log');
    const run = (): ReturnType<typeof python> => python('import sys,validate\nsys.exit(validate.main([]))', null, { FAKE_PYNQ: JSON.stringify(fake), FAKE_PYNQ_LOG: log }, deploy);
    const file = path.join(deploy, 'weights.bin');
    try {
      fs.writeFileSync(file, Buffer.concat([weightImage, Buffer.alloc(16)]));
      const longer = run();
      expect(longer.status).toBe(2);
      expect(longer.stderr).toMatch(/weights\.bin: 48 bytes, but this accelerator's weight image \(.*weights\.json\) has 32 bytes/);
      expect(longer.stderr).not.toMatch(/Traceback/);
      const flipped = Buffer.from(weightImage);
      flipped[31] ^= 0x80;
      fs.writeFileSync(file, flipped);
      const other = run();
      expect(other.status).toBe(2);
      expect(other.stderr).toContain(`weights.bin: sha256 ${sha256(flipped)} differs from`);
      expect(other.stderr).toContain(`'s ${sha256(weightImage)}: not the weight image generated with this accelerator`);
      expect(fs.existsSync(log)).toBe(false); // no overlay loaded, no register written
    } finally {
      fs.writeFileSync(file, weightImage);
    }
  });

  withNumpy('validate.py: a damaged or missing golden file stops before the board is touched, exit 2', () => {
    writeGolden();
    const f = path.join(deploy, 'golden', GOLDEN_NAMES.output('seg'));
    const b = fs.readFileSync(f);
    b[0] ^= 1;
    fs.writeFileSync(f, b);
    const log = path.join(deploy, 'untouched.log');
    const damaged = python('import sys,validate\nsys.exit(validate.main([]))', null, { FAKE_PYNQ: JSON.stringify(fake), FAKE_PYNQ_LOG: log }, deploy);
    expect(damaged.status).toBe(2);
    expect(damaged.stderr).toMatch(/seg\/head\.seg\.out\.bin is damaged: its sha256 differs from the manifest's/);
    expect(fs.existsSync(log)).toBe(false); // no overlay loaded, no register written
    fs.rmSync(f);
    const missing = validate();
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/seg\/head\.seg\.out\.bin is missing \(tensor head\.seg\.out\)/);
  });
});
