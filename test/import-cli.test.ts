/**
 * The weight commands end to end (`node bin/m3vit-gen.js` on the compiled dist/):
 * export-weights (random and imported weights), quant-report, and bad weights files
 * (exit 2, one message naming the tensor, nothing written).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildIR } from '../generator/ir/build';
import { loadModel } from '../generator/model/load';
import { importWeights } from '../generator/weights/import';
import { decodeTensor, encodeSafetensors, parseSafetensors } from '../generator/weights/safetensors';
import { type CliRun, ensureBuilt, runCli, zcu104Board } from './helpers/cli';



beforeAll(ensureBuilt);

const cli = (args: string[]): CliRun => runCli(args, { cwd: tmp });

const MODEL = `import { defineModel } from 'm3vit-gen';

export default defineModel({
  name: 'weights-cli',
  image: { height: 16, width: 16 },
  patch: 4,
  embedDim: 8,
  depth: 2,
  heads: 2,
  mlpRatio: 2,
  moe: { experts: 4, topK: 2, hidden: 8 },
  tasks: [
    { name: 'semseg', channels: 3, head: { kind: 'uphead', channels: 4 } },
    { name: 'depth', channels: 1, head: { kind: 'linear' } },
  ],
});
`;

let tmp: string;
let cfg: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-wcli-'));
  fs.writeFileSync(path.join(tmp, 'model.ts'), MODEL);
  cfg = path.join(tmp, 'cfg.json');
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      name: 'weights_cli',
      model: 'model.ts',
      board: zcu104Board(),
      clockMHz: 300,
      numerics: { weights: { bits: 16 }, activations: { bits: 16 }, calibration: { images: 1 } },
      parallelism: { pe: 4, simd: 4 },
      seed: 5,
      randomInit: 'exercise',
    }),
  );
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const ir = (): ReturnType<typeof buildIR> => buildIR(loadModel(path.join(tmp, 'model.ts')).spec);

/** The file with its JSON header edited (the edit must keep the header's length). */
function withHeader(bytes: Uint8Array, edit: (header: string) => string): Uint8Array {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
  const edited = Buffer.from(edit(header), 'utf8');
  expect(edited.length).toBe(n);
  expect(edited.equals(Buffer.from(header, 'utf8'))).toBe(false);
  return Buffer.concat([bytes.subarray(0, 8), edited, bytes.subarray(8 + n)]);
}

/** The file without the tensors whose names match. */
function without(bytes: Uint8Array, drop: RegExp): Uint8Array {
  const st = parseSafetensors(bytes, 'x');
  const kept = st.entries.filter((e) => !drop.test(e.name));
  expect(kept.length).toBeLessThan(st.entries.length);
  return encodeSafetensors(kept.map((e) => ({ name: e.name, shape: e.shape, data: decodeTensor(st, e) })), st.metadata);
}

describe('m3vit-gen export-weights', () => {
  it('writes the seeded random weights with checkpoint names; importing them gives the same weights back', () => {
    const r = cli(['export-weights', '--config', cfg, '--out', 'random.safetensors']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = path.join(tmp, 'random.safetensors');
    const st = parseSafetensors(fs.readFileSync(file), 'random.safetensors');
    // The file's count: the model's tensors and 4 identity BatchNorm tensors per UpHead conv3x3 stage (2 at patch 4).
    expect(st.entries.length).toBe(ir().tensors.length + 2 * 4);
    expect(r.stdout).toMatch(new RegExp(`^wrote random\\.safetensors: ${st.entries.length} tensors of weights-cli \\(seeded random \\(seed 5, init exercise\\)\\)`));
    expect(st.metadata).toMatchObject({ 'm3vit.tasks': 'semseg,depth', 'm3vit.bn_folded': 'true', bn_eps: '0.00001' });
    const names = st.entries.map((e) => e.name);
    expect(names).toContain('backbone.blocks.1.mlp.gate.1.w_gate');
    expect(names).toContain('decoders.semseg.syncbn_fc_0.running_var');
    // Same seed, same bytes.
    expect(cli(['export-weights', '--config', cfg, '--out', 'again.safetensors']).code).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'again.safetensors')).equals(fs.readFileSync(file))).toBe(true);

    // Through the importer (identity BatchNorm folds back) and out again: the tensors are unchanged.
    const r2 = cli(['export-weights', '--config', cfg, '--weights', 'random.safetensors', '--out', 'copy.safetensors']);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toContain('(random.safetensors)');
    const a = importWeights(file, ir(), { displayName: 'a' }).weights;
    const b = importWeights(path.join(tmp, 'copy.safetensors'), ir(), { displayName: 'b' }).weights;
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k)!.data).toEqual(v.data);
  });

  it('bad weights: exit 2, one message naming the tensor, nothing written', () => {
    const good = path.join(tmp, 'good.safetensors');
    expect(cli(['export-weights', '--config', cfg, '--out', 'good.safetensors']).code).toBe(0);
    const bytes = fs.readFileSync(good);
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated.safetensors', bytes.subarray(0, bytes.length - 64), /^truncated\.safetensors: invalid safetensors file \(\d+ problems?\)\n  decoders\.depth\.\S+: data_offsets .* run past the end of the data .*: the file is truncated/],
      ['garbage.safetensors', Buffer.from('PK\x03\x04 this is a zip file, not safetensors'), /^garbage\.safetensors: truncated or not a safetensors file/],
      ['shape.safetensors', encodeSafetensors([{ name: 'backbone.cls_token', shape: [1, 1, 9], data: new Array(9).fill(0) }]), /backbone\.cls_token: expected shape \[1, 1, 8\], found \[1, 1, 9\]/],
      ['dtype.safetensors', withHeader(bytes, (h) => h.replace('"backbone.patch_embed.proj.weight":{"dtype":"F32"', '"backbone.patch_embed.proj.weight":{"dtype":"Q32"')), /^dtype\.safetensors: invalid safetensors file \(1 problem\)\n  backbone\.patch_embed\.proj\.weight: unknown dtype "Q32" \(known: F64, F32/],
      ['task.safetensors', without(bytes, /^decoders\.depth\./), /^task\.safetensors: does not match model "weights-cli" \(1 problem\); nothing was written\n  missing task "depth": no decoders\.depth\.\* tensors \(the file has tasks: semseg; a backbone-only checkpoint\? --heads random .*\)\n$/],
    ];
    for (const [name, data, message] of cases) {
      fs.writeFileSync(path.join(tmp, name), data);
      const r = cli(['export-weights', '--config', cfg, '--weights', name, '--out', 'out.safetensors']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(fs.readdirSync(tmp).filter((f) => f.startsWith('out.'))).toEqual([]);
    }
    // The shape case lists every other tensor as missing in the same message.
    const r = cli(['export-weights', '--config', cfg, '--weights', 'shape.safetensors', '--out', 'out.safetensors']);
    expect(r.stderr).toContain('missing task "semseg": no decoders.semseg.* tensors (the file has tasks: none; a backbone-only checkpoint?');
    expect(r.stderr).toContain('backbone.pos_embed: missing (expected shape [1, 17, 8])');
  });

  it('refuses an output name that is not .safetensors', () => {
    const r = cli(['export-weights', '--config', cfg, '--out', 'w.pth']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('w.pth: --out: the file name must end in .safetensors\n');
  });
});

describe('the main job with --weights', () => {
  /** Every file below `dir`, relative path -> bytes. */
  const tree = (dir: string): Map<string, Buffer> => {
    const out = new Map<string, Buffer>();
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out.set(path.relative(dir, p), fs.readFileSync(p));
      }
    };
    walk(dir);
    return out;
  };

  it('builds the golden vectors from the imported weights: an export of the random weights gives the same vectors', () => {
    expect(cli(['export-weights', '--config', cfg, '--out', 'random.safetensors']).code).toBe(0);
    const a = cli(['--config', cfg, '--out', 'from-random']);
    expect(a.code).toBe(0);
    const b = cli(['--config', cfg, '--out', 'from-file', '--weights', 'random.safetensors']);
    expect(b.code).toBe(0);
    // An exported file's BatchNorm is folded already (identity statistics): no folding note.
    expect(b.stderr).not.toContain('folded BatchNorm');
    const ta = tree(path.join(tmp, 'from-random'));
    const tb = tree(path.join(tmp, 'from-file'));
    expect([...tb.keys()].sort()).toEqual([...ta.keys()].sort());
    const golden = [...ta.keys()].filter((k) => k.startsWith('golden/') && k.endsWith('.bin'));
    expect(golden.length).toBeGreaterThan(10);
    for (const k of [...golden, 'model/quant-plan.json']) expect(tb.get(k)!.equals(ta.get(k)!)).toBe(true);
    // The manifest says where the weights came from.
    expect(JSON.parse(tb.get('golden/manifest.json')!.toString()).weights).toEqual({ kind: 'file', file: 'random.safetensors' });
    expect(JSON.parse(ta.get('golden/manifest.json')!.toString()).weights).toEqual({ kind: 'random', seed: 5, init: 'exercise' });
  });

  it('a backbone-only file: refused with the --heads hint; with --heads random generated, the choice in the output and the manifest', () => {
    expect(cli(['export-weights', '--config', cfg, '--out', 'random.safetensors']).code).toBe(0);
    fs.writeFileSync(path.join(tmp, 'backbone.safetensors'), without(fs.readFileSync(path.join(tmp, 'random.safetensors')), /^decoders\.|^backbone\.cls_token$/));
    const refused = cli(['--config', cfg, '--out', 'out', '--weights', 'backbone.safetensors']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('missing task "semseg": no decoders.semseg.* tensors (the file has tasks: none; a backbone-only checkpoint? --heads random');
    const r = cli(['--config', cfg, '--out', 'out', '--weights', 'backbone.safetensors', '--heads', 'random', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('backbone.safetensors: note: no decoders.* tensors for tasks semseg, depth: their heads are seeded random (seed 5, init exercise; --heads random)');
    expect(r.stderr).toContain('backbone.safetensors: note: backbone.cls_token: not in the file, taken as zeros');
    const manifest = JSON.parse(fs.readFileSync(path.join(tmp, 'out', 'golden', 'manifest.json'), 'utf8'));
    expect(manifest.weights).toEqual({ kind: 'file', file: 'backbone.safetensors', missingHeads: { kind: 'random', seed: 5, init: 'exercise' } });
    // --heads without a weights file has nothing to apply to.
    const noFile = cli(['--config', cfg, '--out', 'out2', '--heads', 'random']);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toBe('--heads: applies only to a weights file (--weights or the config\'s "weights"); without one every weight is seeded random already\n');
  });

  it('refuses a weights file that does not fit the model: exit 2, no output folder', () => {
    fs.writeFileSync(path.join(tmp, 'bad.safetensors'), encodeSafetensors([{ name: 'module.backbone.cls_token', shape: [1, 1, 8], data: new Array(8).fill(0) }]));
    const r = cli(['--config', cfg, '--out', 'out', '--weights', 'bad.safetensors', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^bad\.safetensors: does not match model "weights-cli" \(\d+ problems\); nothing was written$/);
    expect(r.stderr).toContain('  backbone.patch_embed.proj.weight: missing (expected shape [8, 3, 4, 4])');
    expect(fs.readdirSync(tmp).filter((f) => f.includes('out'))).toEqual([]);
  });
});

describe('m3vit-gen quant-report', () => {
  it('prints every weight tensor with its range, format, max error and saturations', () => {
    // Weights with known ranges: every tensor filled with 0.1, except the linear head weight,
    // whose largest magnitude is 0.75 (so int16 with frac 15: 0.75 * 2^15 = 24576 fits, 2^16 does not).
    const model = ir();
    const tensors = model.tensors.map((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const data = new Array(n).fill(0.1);
      if (t.name === 'decoders.depth.linear.weight') data[0] = -0.75;
      return { name: t.name, shape: t.shape, data };
    });
    // BatchNorm statistics: identity (var + eps = 0.75 + 0.25 = 1).
    for (const s of [0, 1]) {
      const bn = `decoders.semseg.syncbn_fc_${s}`;
      tensors.push({ name: `${bn}.weight`, shape: [4], data: [1, 1, 1, 1] }, { name: `${bn}.bias`, shape: [4], data: [0, 0, 0, 0] });
      tensors.push({ name: `${bn}.running_mean`, shape: [4], data: [0, 0, 0, 0] }, { name: `${bn}.running_var`, shape: [4], data: [0.75, 0.75, 0.75, 0.75] });
    }
    fs.writeFileSync(path.join(tmp, 'known.safetensors'), encodeSafetensors(tensors, { bn_eps: '0.25' }));
    const r = cli(['quant-report', '--config', cfg, '--weights', 'known.safetensors']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('# Weight quantization: weights-cli');
    expect(r.stdout).toContain('Weights: known.safetensors. Word widths (config): weights 16 bits, biases 32 bits, activations 16 bits');
    expect(lines).toContain('| tensor | shape | min | max | format | step | max error | saturated |');
    const rows = lines.filter((l) => /^\| (backbone|decoders)\./.test(l));
    expect(rows).toHaveLength(model.tensors.length);
    // 0.1f = 0.100000001490116...; at frac 15 it rounds to 3277 / 2^15 = 0.100006103515625.
    const err = Math.abs(3277 / 2 ** 15 - Math.fround(0.1));
    expect(lines).toContain(`| decoders.depth.linear.weight | 1x8 | -0.7500 | 0.1000 | int16 frac 15 | 2^-15 | ${err.toExponential(2)} | 0 |`);
    expect(r.stdout).toContain(`${model.tensors.length} tensors`);
    expect(r.stdout).toContain(', 0 saturated.');
  });
});
