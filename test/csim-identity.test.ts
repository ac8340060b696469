/**
 * The testbench checks the generation's identity first and every file golden/manifest.json
 * lists (issue 13): golden vectors written from another config into an existing project
 * used to fail csim with "768 mismatches ... first differing layer: tokens"; a corrupt
 * manifest or a deleted golden file without a dump slot used to pass. One small project,
 * compiled once (g++), then its files are swapped and restored.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { generate } from '../generator/generate';
import { goldenCommand } from '../generator/golden/stage';
import type { GoldenManifest } from '../generator/golden/vectors';
import { loadProject } from '../generator/project';
import { tempDir } from './helpers/cpp';
import { smallSpec, writeProject } from './helpers/project';

let dir: string;
let out: string;
let configA: string;
let configB: string;

function make(): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('make', ['-s', '-C', out, 'csim'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const manifestFile = (): string => path.join(out, 'golden', 'manifest.json');
const manifest = (): GoldenManifest => JSON.parse(fs.readFileSync(manifestFile(), 'utf8')) as GoldenManifest;

beforeAll(() => {
  dir = tempDir('csim-identity');
  configA = writeProject(dir, smallSpec(), { name: 'ident', pe: 2, simd: 4, seed: 7 });
  // The same model and board with another seed: other weights, so another generation.
  configB = path.join(dir, 'other.json');
  const b = JSON.parse(fs.readFileSync(configA, 'utf8'));
  b.seed = 8;
  b.output = 'out/other';
  fs.writeFileSync(configB, JSON.stringify(b, null, 2));
  const project = loadProject(configA);
  generate(project, { force: false });
  out = project.config.outDir;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs csim with one file replaced by `contents`, then puts the original back. */
function csimWith(rel: string, contents: Buffer | undefined): ReturnType<typeof make> {
  const file = path.join(out, rel);
  const saved = fs.readFileSync(file);
  if (contents === undefined) fs.rmSync(file);
  else fs.writeFileSync(file, contents);
  try {
    return make();
  } finally {
    fs.writeFileSync(file, saved);
  }
}

describe('csim checks identity and the golden manifest', () => {
  it('passes as generated, and says which listed tensors have no dump slot', () => {
    const r = make();
    if (r.status !== 0) throw new Error(`make csim failed:\n${r.stdout}\n${r.stderr}`);
    const m = manifest();
    const listed = 1 + m.tasks.reduce((a, t) => a + t.tensors.length, 0);
    const line = /^golden: (\d+) files listed in manifest\.json, size and sha256 match; (\d+) compared with the kernels, (\d+) without a dump slot \(sha256 only\)(: (.*))?$/m.exec(r.stdout);
    expect(line).not.toBeNull();
    expect(Number(line![1])).toBe(listed);
    expect(Number(line![2]) + Number(line![3])).toBe(listed);
    // README "What csim compares": patch_embed, qkv, proj and the dense MLP have no dump slot.
    expect(line![5].split(', ')).toEqual(expect.arrayContaining(['seg/patch_embed.bin', 'seg/blocks.0.qkv.bin', 'seg/blocks.0.fc1.bin', 'cls/blocks.1.proj.bin']));
    expect(m.generation).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'data/weights.json'), 'utf8')).generation).toBe(m.generation);
  });

  it('golden vectors from another config: fails first, naming golden/manifest.json as stale (no word compared)', () => {
    const before = manifest().generation;
    goldenCommand(loadProject(configB, { outDir: out }), { force: false });
    const other = manifest().generation;
    expect(other).not.toBe(before);
    const r = make();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`testbench: FAIL: golden/manifest.json is stale: it is generation ${other}, this project (tb/testbench.cpp, src/, data/weights.bin) is generation ${before}.`);
    expect(r.stdout).not.toMatch(/mismatches/);
    // The same config again restores the project.
    goldenCommand(loadProject(configA, { outDir: out }), { force: false });
    expect(manifest().generation).toBe(before);
    expect(make().status).toBe(0);
  });

  it('a weight image of another generation (one byte changed): fails first, naming data/weights.bin', () => {
    const w = fs.readFileSync(path.join(out, 'data/weights.bin'));
    w[100] ^= 1;
    const r = csimWith('data/weights.bin', w);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^testbench: FAIL: data\/weights\.bin is stale: its sha256 is [0-9a-f]{64}, the weight image this project was generated with has [0-9a-f]{64}/m);
    expect(r.stdout).not.toMatch(/mismatches/);
  });

  it('a manifest without a generation, or cut short: fails naming it', () => {
    const text = fs.readFileSync(manifestFile(), 'utf8');
    let r = csimWith('golden/manifest.json', Buffer.from(text.replace(/"generation": "[0-9a-f]+",\n\s*/, '')));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/golden\/manifest\.json is stale: it names no generation/);
    r = csimWith('golden/manifest.json', Buffer.from(text.slice(0, Math.floor(text.length / 2))));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/does not list .*\.bin, which the kernels are compared with/);
  });

  it('a corrupt sha256 in the manifest fails, for a tensor without a dump slot too', () => {
    const m = manifest();
    const entry = m.tasks[0].tensors.find((t) => t.file === 'seg/blocks.0.qkv.bin')!;
    const flipped = entry.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const r = csimWith('golden/manifest.json', Buffer.from(fs.readFileSync(manifestFile(), 'utf8').replace(entry.sha256, flipped)));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`golden/seg/blocks.0.qkv.bin does not match manifest.json: ${entry.bytes} bytes, sha256 ${entry.sha256}; the manifest says ${entry.bytes} bytes, sha256 ${flipped}`);
    expect(r.stdout).toMatch(/csim: FAIL/);
  });

  it('a deleted golden file without a dump slot fails', () => {
    const r = csimWith('golden/seg/blocks.0.qkv.bin', undefined);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot open .*golden\/seg\/blocks\.0\.qkv\.bin/);
  });
});
