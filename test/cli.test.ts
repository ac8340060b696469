/**
 * The CLI end to end, as a child process (`node bin/m3vit-gen.js ...`), on the compiled
 * dist/. dist/ is (re)built once here when it is missing or older than a source file.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { type CliRun, ensureBuilt, ROOT, runCli, zcu104Board } from './helpers/cli';

const MARKER = '.m3vit-gen';


beforeAll(ensureBuilt);

type Run = CliRun;
const cli = (args: string[], cwd = ROOT): Run => runCli(args, { cwd });

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-cli-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const TINY_MODEL = `import { defineModel } from 'm3vit-gen';

export default defineModel({
  name: 'cli-small',
  image: { height: 32, width: 64 },
  patch: 16,
  embedDim: 16,
  depth: 2,
  heads: 2,
  mlpRatio: 2,
  moe: { experts: 4, topK: 2, hidden: 8 },
  tasks: [
    { name: 'semseg', channels: 5 },
    { name: 'depth', channels: 1, head: { kind: 'linear' } },
  ],
});
`;

function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'cli_small',
    model: 'model.ts',
    board: zcu104Board(),
    clockMHz: 300,
    numerics: { weights: { bits: 16 }, activations: { bits: 16 } },
    parallelism: { pe: 8, simd: 8 }, // SIMD divides the expert hidden width (8), as the kernel schedule requires
    ...extra,
  };
}

/** Writes a config (and the model unless given) into the temporary folder; returns the config path. */
function project(opts: { config?: Record<string, unknown> | string; model?: string } = {}): string {
  fs.writeFileSync(path.join(tmp, 'model.ts'), opts.model ?? TINY_MODEL);
  const c = opts.config ?? config();
  const file = path.join(tmp, 'cfg.json');
  fs.writeFileSync(file, typeof c === 'string' ? c : JSON.stringify(c, null, 2));
  return file;
}

/** All files below `dir`, relative, sorted, with their bytes. */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

function expectUserError(r: Run, firstLine: string | RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const first = r.stderr.split('\n')[0];
  if (typeof firstLine === 'string') expect(first).toBe(firstLine);
  else expect(first).toMatch(firstLine);
  // One clear message, no stack trace.
  expect(r.stderr).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
  expect(r.stderr).not.toMatch(/Error:|UserError/);
}

describe('m3vit-gen inspect', () => {
  it('--json prints the model, per-task totals and layers', () => {
    const r = cli(['inspect', '--config', 'zcu104.json', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.model).toMatchObject({ name: 'm3vit-tiny', imageH: 128, imageW: 256, patch: 16, tokens: 129, embedDim: 192, depth: 12, heads: 3 });
    expect(Object.keys(j.tasks)).toEqual(['semseg', 'depth']);
    // Hand-derived (test/ir.test.ts closed form): 782,719,488 backbone-with-gate + head;
    // semseg's conv1x1 has 6 more output channels than depth's: + 6 x 256 x 64 x 128.
    expect(j.tasks.semseg.macs).toBe(7_195_810_304);
    expect(j.tasks.depth.macs).toBe(7_183_227_392);
    // Backbone 17,946,816 + the task's 6 gates [192, 16] + head.
    const gates = 6 * 192 * 16;
    const head = (c: number): number => 2 * 192 + (256 * 192 * 9 + 256) + 3 * (256 * 256 * 9 + 256) + (c * 256 + c);
    expect(j.tasks.semseg.params).toBe(17_946_816 + gates + head(7));
    expect(j.tasks.depth.params).toBe(17_946_816 + gates + head(1));
    // 2 + 12 blocks (7 common layers; dense MLP 3, MoE 2 gates + experts + combine) + 2 heads of 15 layers.
    expect(j.layers).toHaveLength(2 + 6 * (7 + 3) + 6 * (7 + 4) + 2 * 15);
    expect(j.layers[0]).toMatchObject({ name: 'patch_embed', kind: 'patch_embed', scope: 'backbone', outputShape: [128, 192], macs: 128 * 192 * 768 });
  });

  it('prints a table by default', () => {
    const r = cli(['inspect', '--config', 'zcu104.json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('m3vit-tiny: 3x128x256 image, patch 16 -> 8x16 = 128 patches + class token = 129 tokens');
    expect(lines).toContainEqual(expect.stringMatching(/^layer\s+kind\s+output\s+params\s+MMACs\s+dense MMACs$/));
    // patch_embed: 147,648 parameters, 128 * 192 * 768 = 18,874,368 MACs.
    expect(lines).toContainEqual(expect.stringMatching(/^patch_embed\s+patch_embed\s+128x192\s+147,648\s+18\.87$/));
    expect(lines).toContainEqual(expect.stringMatching(/^semseg\s+uphead\s+7x128x256\s+.*\s7\.196\s+\S+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^depth\s+uphead\s+1x128x256\s+.*\s7\.183\s+\S+$/));
  });

  it('inspects only the tasks the config selects', () => {
    const r = cli(['inspect', '--config', project({ config: config({ tasks: ['depth'] }) }), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j.tasks)).toEqual(['depth']);
    expect(j.tasks.depth.head).toBe('linear');
    expect(j.layers.some((l: { scope: string }) => l.scope === 'task:semseg')).toBe(false);
  });
});

describe('bad input: exit code 2, one message, no stack trace, nothing written', () => {
  const out = (): string => path.join(tmp, 'out');
  /** Runs inspect and the main job; both must fail the same way and write nothing. */
  const both = (cfgPath: string, firstLine: string | RegExp): Run => {
    const a = cli(['inspect', '--config', cfgPath]);
    expectUserError(a, firstLine);
    const b = cli(['--config', cfgPath, '--out', out()]);
    expectUserError(b, firstLine);
    expect(fs.existsSync(out())).toBe(false);
    expect(fs.readdirSync(tmp).filter((f) => f.includes('out'))).toEqual([]); // no temporary folder left either
    return b;
  };

  it('missing config file', () => {
    const missing = path.join(tmp, 'absent.json');
    both(missing, `${missing}: config file not found`);
  });

  it('config that is not JSON', () => {
    const cfg = project({ config: '{\n  "name": "x",\n  oops\n}\n' });
    both(cfg, `${cfg}:3:3: invalid JSON: expected a double-quoted property name, found 'o'`);
  });

  it('schema violations, all listed', () => {
    const cfg = project({ config: config({ clockMHz: 5000, moe: { scheduler: 'fastest' } }) });
    const r = both(cfg, `${cfg}: invalid config (2 problems)`);
    expect(r.stderr).toContain('  /clockMHz: must be <= 800 (got 5000)\n');
    expect(r.stderr).toContain('  /moe/scheduler: must be one of "expert-major", "token-major" (got "fastest")\n');
  });

  it('model file that does not exist', () => {
    const cfg = project({ config: config({ model: 'nowhere.ts' }) });
    both(cfg, `${cfg}: /model: model description not found: ${path.join(tmp, 'nowhere.ts')}`);
  });

  it('model path that is a folder', () => {
    const cfg = project({ config: config({ model: 'dir.ts' }) });
    fs.mkdirSync(path.join(tmp, 'dir.ts'));
    const r = cli(['inspect', '--config', cfg]);
    expectUserError(r, `${cfg}: /model: ${path.join(tmp, 'dir.ts')} is not a file; expected a TypeScript model description`);
  });

  it('type error in the model', () => {
    const cfg = project({ model: TINY_MODEL.replace('depth: 2,', "depth: '2',") });
    const r = both(cfg, `${path.join(tmp, 'model.ts')}: type errors in the model description (1)`);
    // "  depth: '2'," is line 8; the property starts in column 3.
    expect(r.stderr).toContain(`  ${path.join(tmp, 'model.ts')}:8:3: Type 'string' is not assignable to type 'number'.`);
  });

  it('semantic error in the model', () => {
    const cfg = project({ model: TINY_MODEL.replace('heads: 2,', 'heads: 3,') });
    const r = both(cfg, `${path.join(tmp, 'model.ts')}: invalid model description (1 problem)`);
    // "  heads: 3," is line 9; the value starts in column 10.
    expect(r.stderr).toContain(`  ${path.join(tmp, 'model.ts')}:9:10: heads: embedDim 16 is not divisible by 3 heads; divisors of 16: 1, 2, 4, 8, 16`);
  });

  it('unsupported construct in the model', () => {
    const cfg = project({ model: TINY_MODEL.replace('depth: 2,', 'depth: Math.round(2.2),') });
    both(cfg, new RegExp(`^${path.join(tmp, 'model.ts').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8:10: unsupported construct: function calls`));
  });

  it('unknown task in the config', () => {
    const cfg = project({ config: config({ tasks: ['depth', 'normals'] }) });
    const r = both(cfg, `${cfg}: invalid config`);
    expect(r.stderr).toContain('  /tasks/1: unknown task "normals"; the model has: semseg, depth');
  });

  it('missing --config', () => {
    const r = cli(['inspect']);
    expectUserError(r, 'm3vit-gen: Missing required argument: config');
  });
});

describe('the main job', () => {
  it('writes the output folder with model/ir.json and the marker', () => {
    const cfg = project();
    const out = path.join(tmp, 'out');
    const r = cli(['--config', cfg, '--out', out, '--quiet']);
    expect(r.stderr).toBe(''); // --quiet: no progress lines
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`wrote ${out}/`);
    expect(fs.existsSync(path.join(out, MARKER))).toBe(true);
    const ir = JSON.parse(fs.readFileSync(path.join(out, 'model', 'ir.json'), 'utf8'));
    expect(Object.keys(ir.tasks)).toEqual(['semseg', 'depth']);
    // 2x4 grid, N = 9, D = 16: the linear-head pathway by hand.
    const backbone = 8 * 16 * 768 + 2 * (9 * 3 * 16 * 16 + 2 * 9 * 9 * 16 + 9 * 16 * 16) + 2 * 9 * 32 * 16 + 2 * 2 * 9 * 16 * 8;
    expect(ir.tasks.depth.macs).toBe(backbone + 9 * 16 * 4 + 8 * 1 * 16);
    expect(fs.readdirSync(tmp).sort()).toEqual(['cfg.json', 'model.ts', 'out']); // no temporary folder left
  });

  it('off a terminal prints one line per step on stderr with its and the total elapsed seconds', () => {
    const r = cli(['--config', project(), '--out', path.join(tmp, 'out')]);
    expect(r.code).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(/^m3vit-gen: .+: \d+\.\d s \(\d+\.\d s in all\)$/);
    const steps = lines.map((l) => /^m3vit-gen: (.+): \d/.exec(l)![1]);
    expect(steps).toEqual(expect.arrayContaining(['model IR', 'HLS kernels', 'estimate', 'golden vectors', 'writing output']));
    expect(steps[steps.length - 1]).toBe('writing output');
    expect(r.stdout).not.toMatch(/m3vit-gen: /); // progress never mixes into the results
  });

  it('writes to the configured output (relative to the config) without --out, and --out relative to the working folder', () => {
    const cfg = project({ config: config({ output: 'gen/here' }) });
    expect(cli(['--config', cfg]).code).toBe(0);
    expect(fs.existsSync(path.join(tmp, 'gen', 'here', 'model', 'ir.json'))).toBe(true);
    const cwd = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    expect(cli(['--config', cfg, '--out', 'rel'], cwd).code).toBe(0);
    expect(fs.existsSync(path.join(cwd, 'rel', MARKER))).toBe(true);
  });

  it('regenerates byte-identical files, in place and elsewhere', () => {
    const cfg = project();
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    expect(cli(['--config', cfg, '--out', a]).code).toBe(0);
    const first = tree(a);
    expect(cli(['--config', cfg, '--out', a]).code).toBe(0);
    expect(cli(['--config', cfg, '--out', b]).code).toBe(0);
    // Later stages add files; every file, whatever stage wrote it, must be identical.
    expect([...first.keys()]).toEqual(expect.arrayContaining([MARKER, path.join('model', 'ir.json')]));
    expect(tree(a)).toEqual(first);
    expect(tree(b)).toEqual(first);
  });

  it('refuses a non-empty folder it did not write, unless --force', () => {
    const cfg = project();
    const out = path.join(tmp, 'mine');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'keep me');
    const r = cli(['--config', cfg, '--out', out]);
    expectUserError(
      r,
      `${out}: exists and was not written by m3vit-gen; refusing to replace it (use --force to replace it anyway, or choose another --out)`,
    );
    expect(fs.readdirSync(out)).toEqual(['notes.txt']);
    expect(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('keep me');

    const forced = cli(['--config', cfg, '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(fs.existsSync(path.join(out, MARKER))).toBe(true);
    expect(fs.existsSync(path.join(out, 'model', 'ir.json'))).toBe(true);
  });

  it('writes into an existing empty folder', () => {
    const cfg = project();
    const out = path.join(tmp, 'empty');
    fs.mkdirSync(out);
    expect(cli(['--config', cfg, '--out', out]).code).toBe(0);
    expect(fs.existsSync(path.join(out, MARKER))).toBe(true);
  });

  it('leaves the previous output untouched when regenerating from a bad input', () => {
    const cfg = project();
    const out = path.join(tmp, 'out');
    expect(cli(['--config', cfg, '--out', out]).code).toBe(0);
    const before = tree(out);
    fs.writeFileSync(path.join(tmp, 'model.ts'), TINY_MODEL.replace('heads: 2,', 'heads: 3,'));
    expect(cli(['--config', cfg, '--out', out]).code).toBe(2);
    expect(tree(out)).toEqual(before);
  });
});
