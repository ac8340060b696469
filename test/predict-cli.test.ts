/**
 * `m3vit-gen predict` and `m3vit-gen golden` end to end, as child processes on the compiled
 * dist/ (rebuilt here when older than a source), on the default config (m3vit-tiny) from
 * the repository as cloned. Bad inputs exit 2 with one message and write nothing.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { formatNpyFloat32, readNpy } from '../generator/io/npy';
import { type CliRun, ensureBuilt, ROOT, runCli } from './helpers/cli';
import { figure } from './helpers/figures';

const CONFIG = path.join(ROOT, 'zcu104.json');


type Run = CliRun;
const cli = (args: string[]): Run => runCli(args);
function expectUserError(r: Run, first: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n')[0]).toMatch(first);
  expect(r.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m); // no stack trace
}

let tmp: string;
let image: string;
beforeAll(() => {
  ensureBuilt();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-predict-'));
  // A normalised image for m3vit-tiny [3, 128, 256]: a smooth pattern, not the seeded generator.
  const data = new Float32Array(3 * 128 * 256);
  for (let c = 0; c < 3; c++) for (let y = 0; y < 128; y++) for (let x = 0; x < 256; x++) data[(c * 128 + y) * 256 + x] = Math.sin(0.05 * x + 0.3 * c) * Math.cos(0.07 * y) * 1.5;
  image = path.join(tmp, 'x.npy');
  fs.writeFileSync(image, formatNpyFloat32([3, 128, 256], data));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('predict: bad input exits 2 and writes no output', () => {
  const out = (): string => path.join(tmp, 'never.npy');
  afterEach(() => expect(fs.existsSync(out())).toBe(false));

  it('unknown task', () => {
    expectUserError(cli(['predict', '--config', CONFIG, '--task', 'normals', '--input', image, '--out', out()]), /^--task: unknown task "normals"; the model m3vit-tiny has: semseg, depth$/);
  });

  it('integer dtype', () => {
    const f = path.join(tmp, 'int.npy');
    const b = Buffer.from(formatNpyFloat32([3, 128, 256], new Float32Array(3 * 128 * 256)));
    b.write("'<i4'", b.indexOf("'<f4'"), 'latin1'); // same size, int32 data
    fs.writeFileSync(f, b);
    expectUserError(cli(['predict', '--config', CONFIG, '--task', 'semseg', '--input', f, '--out', out()]), /int\.npy: dtype int32: the input must be a normalised image of float32 or float64 values, shape \[3, 128, 256\]$/);
  });

  it('wrong shape', () => {
    const f = path.join(tmp, 'shape.npy');
    fs.writeFileSync(f, formatNpyFloat32([3, 256, 128], new Float32Array(3 * 128 * 256)));
    expectUserError(cli(['predict', '--config', CONFIG, '--task', 'semseg', '--input', f, '--out', out()]), /shape\.npy: shape \(3, 256, 128\) does not match the model m3vit-tiny: expected \[3, 128, 256\]/);
  });

  it('broken header, not a .npy file, missing file, non-finite values', () => {
    const broken = path.join(tmp, 'broken.npy');
    const b = Buffer.from(formatNpyFloat32([2], [1, 2]));
    b.write('XXXXXXX', 10, 'latin1');
    fs.writeFileSync(broken, b);
    expectUserError(cli(['predict', '--config', CONFIG, '--task', 'semseg', '--input', broken, '--out', out()]), /broken\.npy: not a readable \.npy array: header is not a dict/);
    expectUserError(cli(['predict', '--config', CONFIG, '--task', 'semseg', '--input', CONFIG, '--out', out()]), /zcu104\.json: not a readable \.npy array: missing the \\x93NUMPY magic/);
    expectUserError(cli(['predict', '--config', CONFIG, '--task', 'semseg', '--input', path.join(tmp, 'none.npy'), '--out', out()]), /none\.npy: file not found$/);
    const nan = path.join(tmp, 'nan.npy');
    const d = new Float32Array(3 * 128 * 256);
    d[5] = NaN;
    fs.writeFileSync(nan, formatNpyFloat32([3, 128, 256], d));
    expectUserError(cli(['predict', '--config', CONFIG, '--task', 'semseg', '--input', nan, '--out', out()]), /nan\.npy: element 5 is NaN; the input must be finite$/);
  });

  it('unknown mode', () => {
    const r = cli(['predict', '--config', CONFIG, '--task', 'semseg', '--input', image, '--out', out(), '--mode', 'fp16']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Invalid values:[\s\S]*mode[\s\S]*"int", "float"/);
  });
});

describe('on the default config (m3vit-tiny, seeded weights)', () => {
  it('predict --report writes the dequantized int output [C, H, W] and prints per-layer errors and saturation', () => {
    const out = path.join(tmp, 'y.npy');
    const r = cli(['predict', '--config', CONFIG, '--task', 'depth', '--input', image, '--out', out, '--report', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*y\.npy: task depth, int mode, float32 \[1, 128, 256\]$/m);
    expect(r.stdout).toMatch(/^blocks\.11\.res2 +\d/m);
    expect(r.stdout).toMatch(/^head\.depth\.conv_3 +\d/m);
    expect(r.stdout).toMatch(/^saturation: /m);
    expect(r.stdout).toMatch(/^accumulator: no sum exceeded the configured width$/m);
    const m = /^output: max abs error (\S+), relative L2 (\S+)$/m.exec(r.stdout)!;
    figure(`predict --report, m3vit-tiny depth on a smooth test image: ${m[0]}`);
    expect(Number(m[2])).toBeLessThan(1e-2);
    const y = readNpy(out);
    expect(y.dtype).toBe('float32');
    expect(y.shape).toEqual([1, 128, 256]);
    expect(y.data.every(Number.isFinite)).toBe(true);
    expect(y.data.some((v) => v !== 0)).toBe(true);
  });

  it('golden writes the manifest, the quant plan and one file per checkpoint, hashes matching', () => {
    const proj = path.join(tmp, 'proj');
    const r = cli(['golden', '--config', CONFIG, '--out', proj, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/golden\/: 2 task\(s\), [\d.]+ MiB, no saturation; model\/quant-plan\.json/);
    const m = JSON.parse(fs.readFileSync(path.join(proj, 'golden', 'manifest.json'), 'utf8'));
    expect(m.tasks.map((t: { name: string }) => t.name)).toEqual(['semseg', 'depth']);
    for (const t of [m.input, ...m.tasks.flatMap((x: { tensors: unknown[] }) => x.tensors)] as Array<{ file: string; sha256: string; bytes: number }>) {
      const bytes = fs.readFileSync(path.join(proj, 'golden', t.file));
      expect(bytes.length).toBe(t.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(t.sha256);
    }
    const semseg = m.tasks[0];
    expect(semseg.tensors.find((t: { name: string }) => t.name === 'head.semseg.out').shape).toEqual([7, 128, 256]);
    expect(semseg.moe.map((x: { block: number }) => x.block)).toEqual([1, 3, 5, 7, 9, 11]);
    expect(semseg.saturatedTotal).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(proj, 'model', 'quant-plan.json'), 'utf8')).activations.length).toBeGreaterThan(100);
  });
});
