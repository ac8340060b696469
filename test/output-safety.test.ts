/**
 * No run destroys a user's files (issue 13): the output folder's manifest proves what
 * m3vit-gen wrote; the run's inputs are never inside the folder replaced; one run at a
 * time (lock); what killed runs left is cleaned up or recovered; Ctrl-C in the write
 * phase leaves no half state; folders get the umask's mode. The guard is exercised
 * directly (fast) and through the CLI where exit codes and messages matter.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BUILD_PRODUCTS, KEEP_ON_REGENERATE } from '../generator/emit/layout';
import { userErrorOf } from './helpers/errors';
import { prepareOutputFolder, writeOutputFolder, type OutputFile, type OutputGuardOptions } from '../generator/util/output';
import { PARTIAL_MARKER } from '../generator/util/output-manifest';
import { ensureBuilt, ROOT, runCli } from './helpers/cli';
import { tempDir } from './helpers/cpp';
import { smallSpec, writeProject } from './helpers/project';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(prefix = 'safety'): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

/** The small model's project in a fresh folder, and the CLI built. */
function cliProject(name: string): { dir: string; cfg: string } {
  ensureBuilt();
  const dir = tmp(`safety-${name}`);
  return { dir, cfg: writeProject(dir, smallSpec(), { name, pe: 4, simd: 4 }) };
}

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

const FILES: OutputFile[] = [
  { path: 'Makefile', contents: 'all:\n' },
  { path: 'src/a.cpp', contents: 'int a;\n' },
  { path: 'data/w.bin', contents: new Uint8Array([1, 2, 3]) },
];

function guard(over: Partial<OutputGuardOptions> = {}): OutputGuardOptions {
  return { force: false, inputs: [], products: BUILD_PRODUCTS, keep: KEEP_ON_REGENERATE, shown: 'out', ...over };
}

/** One run of the guard: prepare, write `files`, release. */
function write(out: string, g = guard(), files = FILES): void {
  const prepared = prepareOutputFolder(out, g);
  try {
    writeOutputFolder(prepared, files, g);
  } finally {
    prepared.release();
  }
}


describe('the manifest proves what m3vit-gen wrote', () => {
  test('a run that fails before writing leaves no folder it created for the output', () => {
    const parent = tmp();
    const out = path.join(parent, 'new', 'deep', 'out');
    const prepared = prepareOutputFolder(out, guard());
    expect(fs.existsSync(path.join(parent, 'new', 'deep'))).toBe(true); // the lock lives there
    prepared.release(); // as after a UserError in a stage
    expect(fs.readdirSync(parent)).toEqual([]);
  });

  test('a folder of its own is replaced; build products do not count; build/ is kept', () => {
    const out = path.join(tmp(), 'out');
    write(out);
    fs.mkdirSync(path.join(out, 'build', 'hls'), { recursive: true });
    fs.writeFileSync(path.join(out, 'build', 'hls', 'run.log'), 'hours of synthesis');
    fs.writeFileSync(path.join(out, 'csim_result.json'), '{}');
    write(out, guard(), [...FILES, { path: 'new.txt', contents: 'n' }]);
    expect(fs.readFileSync(path.join(out, 'build', 'hls', 'run.log'), 'utf8')).toBe('hours of synthesis');
    expect(fs.existsSync(path.join(out, 'new.txt'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'csim_result.json'))).toBe(false);
  });

  test('a file it did not write, or one changed since, stops the run without --force; nothing is touched', () => {
    const out = path.join(tmp(), 'out');
    write(out);
    fs.writeFileSync(path.join(out, 'results.csv'), 'mine');
    fs.appendFileSync(path.join(out, 'src', 'a.cpp'), '// my edit\n');
    const msg = userErrorOf(() => write(out));
    expect(msg).toBe(
      'out: holds files m3vit-gen did not write (results.csv) and files changed since m3vit-gen wrote them (src/a.cpp); refusing to replace it (move them out, use --force to replace the folder anyway, or choose another --out)',
    );
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8')).toBe('mine');
    expect(fs.readFileSync(path.join(out, 'src', 'a.cpp'), 'utf8')).toContain('my edit');
    write(out, guard({ force: true }));
    expect(fs.existsSync(path.join(out, 'results.csv'))).toBe(false);
  });

  test('a bare marker (as `golden --force` used to plant, or an older version wrote) proves nothing', () => {
    const out = path.join(tmp(), 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, '.m3vit-gen'), 'This folder was written by m3vit-gen and is replaced when it regenerates.\n');
    fs.writeFileSync(path.join(out, 'results.csv'), 'mine');
    expect(userErrorOf(() => write(out))).toMatch(/marker without a file list .* files this generation does not write \(results\.csv\); refusing to replace it/);
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8')).toBe('mine');
    expect(fs.readdirSync(path.dirname(out))).toEqual(['out']); // nothing written beside it either
    // An older version's output holding only what this run writes (and build products) is replaced.
    fs.rmSync(path.join(out, 'results.csv'));
    fs.mkdirSync(path.join(out, 'src'));
    fs.writeFileSync(path.join(out, 'src', 'a.cpp'), 'int old_a;\n');
    fs.mkdirSync(path.join(out, 'build'));
    fs.writeFileSync(path.join(out, 'build', 'run.log'), 'hours');
    write(out);
    expect(fs.readFileSync(path.join(out, 'src', 'a.cpp'), 'utf8')).toBe('int a;\n');
    expect(fs.readFileSync(path.join(out, 'build', 'run.log'), 'utf8')).toBe('hours');
  });
});

describe('the run\'s own inputs are never in the folder replaced, --force or not', () => {
  test.each([
    ['the output folder is the config\'s folder', (d: string) => d, 'the config'],
    ['the output folder is above the config\'s folder', (d: string) => path.dirname(d), 'the config'],
  ])('%s', (_what, outOf, what) => {
    const d = path.join(tmp(), 'proj');
    fs.mkdirSync(d);
    const cfg = path.join(d, 'c.json');
    fs.writeFileSync(cfg, '{}');
    fs.writeFileSync(path.join(d, 'notes.txt'), 'mine');
    const msg = userErrorOf(() => write(outOf(d), guard({ force: true, inputs: [{ file: cfg, what }] })));
    expect(msg).toContain(`would delete ${what} ${cfg}`);
    expect(msg).toContain('--force does not change this');
    expect(fs.readFileSync(path.join(d, 'notes.txt'), 'utf8')).toBe('mine');
  });

  test('an output folder holding the weights file', () => {
    const out = path.join(tmp(), 'out');
    fs.mkdirSync(path.join(out, 'w'), { recursive: true });
    const weights = path.join(out, 'w', 'model.safetensors');
    fs.writeFileSync(weights, 'x');
    expect(userErrorOf(() => write(out, guard({ force: true, inputs: [{ file: weights, what: 'the weights file' }] })))).toContain(
      `would delete the weights file ${weights} (it is inside this folder)`,
    );
    expect(fs.existsSync(weights)).toBe(true);
  });
});

describe('one run at a time', () => {
  test('a lock held by a running process: busy, exit 2; a dead one\'s lock is removed', () => {
    const parent = tmp();
    const out = path.join(parent, 'out');
    fs.writeFileSync(path.join(parent, '.out.lock'), `${process.ppid}\n`);
    expect(userErrorOf(() => write(out))).toMatch(new RegExp(`^out: is being written by another m3vit-gen run \\(pid ${process.ppid}, lock \\.out\\.lock\\)`));
    expect(fs.existsSync(out)).toBe(false);
    fs.writeFileSync(path.join(parent, '.out.lock'), `${deadPid()}\n`);
    write(out);
    expect(fs.readdirSync(parent).sort()).toEqual(['out']);
  });
});

describe('what killed runs left behind', () => {
  test('temporary folders carrying the marker are removed; foreign look-alikes are left', () => {
    const parent = tmp();
    const out = path.join(parent, 'out');
    write(out);
    const dead = deadPid();
    const mk = (name: string, marker?: string): void => {
      fs.mkdirSync(path.join(parent, name));
      fs.writeFileSync(path.join(parent, name, 'big.bin'), 'x'.repeat(1000));
      if (marker) fs.writeFileSync(path.join(parent, name, marker), '');
    };
    mk(`.out.tmp-${dead}-0a1b2c3d`, PARTIAL_MARKER);
    mk('.out.tmp-AbC123', '.m3vit-gen'); // a killed run of an older version, after its last file
    mk(`.out.tmp-${dead}-deadbeef`); // no marker: not provably ours
    mk('.other.tmp-XyZ789', '.m3vit-gen'); // another output's: not this run's business
    write(out);
    expect(fs.readdirSync(parent).sort()).toEqual([`.other.tmp-XyZ789`, `.out.tmp-${dead}-deadbeef`, 'out']);
  });

  test('killed between the two renames: the previous output comes back with its build/', () => {
    const parent = tmp();
    const out = path.join(parent, 'out');
    write(out);
    fs.mkdirSync(path.join(out, 'build'));
    fs.writeFileSync(path.join(out, 'build', 'impl.dcp'), 'hours');
    fs.renameSync(out, path.join(parent, `.out.old-${deadPid()}-00ff00ff`));
    write(out);
    expect(fs.readFileSync(path.join(out, 'build', 'impl.dcp'), 'utf8')).toBe('hours');
    expect(fs.readdirSync(parent)).toEqual(['out']);
  });

  test('killed after the swap, before build/ moved over: the next run moves it back', () => {
    const parent = tmp();
    const out = path.join(parent, 'out');
    write(out);
    const old = path.join(parent, `.out.old-${deadPid()}-11ee11ee`);
    fs.cpSync(out, old, { recursive: true });
    fs.mkdirSync(path.join(old, 'deploy'));
    fs.writeFileSync(path.join(old, 'deploy', 'm3vit.bit'), 'bitstream');
    write(out);
    expect(fs.readFileSync(path.join(out, 'deploy', 'm3vit.bit'), 'utf8')).toBe('bitstream');
    expect(fs.readdirSync(parent)).toEqual(['out']);
  });
});

describe('modes and signals', () => {
  test('output folders get the umask\'s mode, not 0700', () => {
    const out = path.join(tmp(), 'out');
    const umask = process.umask(0o022);
    try {
      write(out);
    } finally {
      process.umask(umask);
    }
    expect((fs.statSync(out).mode & 0o777).toString(8)).toBe('755');
    expect((fs.statSync(path.join(out, 'src')).mode & 0o777).toString(8)).toBe('755');
  });

  test('SIGINT during the write phase: the folder is written completely, then the run stops (130)', () => {
    ensureBuilt();
    const parent = tmp();
    const out = path.join(parent, 'out');
    // The SIGINT arrives while the files are being written (from a contents getter).
    const script = `
      const { prepareOutputFolder, writeOutputFolder } = require(${JSON.stringify(path.join(ROOT, 'dist/generator/util/output.js'))});
      const g = { force: false, inputs: [], products: [], keep: [], shown: 'out' };
      const files = [{ path: 'a.txt', contents: 'a' }, { path: 'b.txt', get contents() { process.kill(process.pid, 'SIGINT'); return 'b'; } }, { path: 'c.txt', contents: 'c' }];
      const p = prepareOutputFolder(${JSON.stringify(out)}, g);
      writeOutputFolder(p, files, g);
      p.release();
      setTimeout(() => console.log('not stopped'), 2000);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/SIGINT received; stopping now that the write phase has finished/);
    expect(r.status).toBe(130);
    expect(fs.readdirSync(out).sort()).toEqual(['.m3vit-gen', 'a.txt', 'b.txt', 'c.txt']);
    expect(fs.readdirSync(parent).filter((n) => n.startsWith('.out.tmp-'))).toEqual([]);
  });
});

describe('through the CLI', () => {
  let dir: string;
  let cfg: string;
  beforeAll(() => ({ dir, cfg } = cliProject('safe')));
  const noTrace = (s: string): void => expect(s).not.toMatch(/\n\s+at /);

  test('`golden --force` into a user\'s folder does not make it replaceable: a later plain run refuses, results.csv stays', () => {
    const out = path.join(dir, 'mydata');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'results.csv'), 'a,b\n1,2\n');
    expect(runCli(['golden', '--config', cfg, '--out', out, '--force']).code).toBe(0);
    const r = runCli(['--config', cfg, '--out', out]);
    expect(r.stderr).toMatch(/mydata: exists and was not written by m3vit-gen; refusing to replace it/);
    noTrace(r.stderr);
    expect(r.code).toBe(2);
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8')).toBe('a,b\n1,2\n');
  });

  test('--force --out at the config\'s folder: exit 2 naming the config, nothing deleted', () => {
    const before = fs.readdirSync(dir).sort();
    const r = runCli(['--config', cfg, '--out', dir, '--force']);
    expect(r.stderr).toContain(`would delete the config ${fs.realpathSync(cfg)} (it is inside this folder)`);
    noTrace(r.stderr);
    expect(r.code).toBe(2);
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  });

  test('--force --out holding a file the model imports: exit 2 naming it', () => {
    const d = tmp('safety-import');
    const c = writeProject(d, smallSpec(), { name: 'imp', pe: 4, simd: 4 });
    const modelFile = path.join(d, 'models', 'imp.ts');
    const spec = fs.readFileSync(modelFile, 'utf8');
    fs.mkdirSync(path.join(d, 'shared'));
    fs.writeFileSync(path.join(d, 'shared', 'dims.ts'), 'export const DIM = 16;\n');
    fs.writeFileSync(modelFile, spec.replace("from 'm3vit-gen';", "from 'm3vit-gen';\nimport { DIM } from '../shared/dims.js';").replace('"embedDim": 16', '"embedDim": DIM'));
    const r = runCli(['--config', c, '--out', path.join(d, 'shared'), '--force']);
    expect(r.stderr).toContain(`would delete a file the model description imports ${fs.realpathSync(path.join(d, 'shared', 'dims.ts'))}`);
    expect(r.code).toBe(2);
    expect(fs.existsSync(path.join(d, 'shared', 'dims.ts'))).toBe(true);
  });

  test('two runs on the same --out at once: neither crashes, build/ survives', async () => {
    const out = path.join(dir, 'race');
    expect(runCli(['--config', cfg, '--out', out]).code).toBe(0);
    fs.mkdirSync(path.join(out, 'build'));
    fs.writeFileSync(path.join(out, 'build', 'synth.log'), 'hours');
    const run = (): Promise<{ code: number | null; stderr: string }> =>
      new Promise((resolve) => {
        const c = spawn(process.execPath, [path.join(ROOT, 'bin', 'm3vit-gen.js'), '--config', cfg, '--out', out], { cwd: ROOT });
        let stderr = '';
        c.stderr.on('data', (b) => (stderr += b));
        c.on('close', (code) => resolve({ code, stderr }));
      });
    const results = await Promise.all([run(), run()]);
    for (const r of results) {
      noTrace(r.stderr);
      expect([0, 2]).toContain(r.code);
      if (r.code === 2) expect(r.stderr).toMatch(/is being written by another m3vit-gen run/);
    }
    expect(results.some((r) => r.code === 0)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'build', 'synth.log'), 'utf8')).toBe('hours');
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.race'))).toEqual([]);
  }, 120_000);
});

describe('bad output paths and arguments: one message, exit 2, before any work', () => {
  let dir: string;
  let cfg: string;
  let file: string;
  beforeAll(() => {
    ({ dir, cfg } = cliProject('paths'));
    file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'x');
    fs.mkdirSync(path.join(dir, 'folder.safetensors'));
  });
  const predict = (out: string): string[] => ['predict', '--config', cfg, '--task', 'seg', '--input', path.join(dir, 'no-such.npy'), '--out', out];

  test.each([
    ['predict --out a folder', () => predict(dir), 'is a folder; give the name of the file to write'],
    ['predict --out below a file', () => predict(path.join(file, 'o.npy')), `cannot be created: ${'FILE'} is a file, not a folder`],
    ['predict --out under /proc', () => predict('/proc/self/o.npy'), 'is under /proc, a virtual file system'],
    ['predict --out /dev/null (would be replaced by a rename)', () => predict('/dev/null'), 'is under /dev, a virtual file system'],
    ['export-weights --out a folder', () => ['export-weights', '--config', cfg, '--out', path.join(dir, 'folder.safetensors')], 'is a folder'],
    ['quant-report --out a folder', () => ['quant-report', '--config', cfg, '--out', dir], 'is a folder'],
    ['golden --out below a file', () => ['golden', '--config', cfg, '--out', path.join(file, 'g')], 'is a file, not a folder'],
    ['the main job --out below a file', () => ['--config', cfg, '--out', path.join(file, 'g')], 'is a file, not a folder'],
    ['the main job --out a file', () => ['--config', cfg, '--out', file], 'exists and is not a folder'],
    ['--config given twice', () => ['inspect', '--config', cfg, '--config', cfg], 'm3vit-gen: --config given 2 times'],
    ['--out without a value', () => ['--config', cfg, '--out'], 'm3vit-gen: --out needs a value'],
  ])('%s', (_what, args, message) => {
    const before = fs.readdirSync(dir).sort();
    const r = runCli(args());
    expect(r.stderr).toContain(message.replace('FILE', file));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(2);
    expect(fs.readdirSync(dir).sort()).toEqual(before); // nothing written, no default folder made
  });

  (process.getuid?.() === 0 ? test.skip : test)('the main job into a folder without write permission', () => {
    const ro = path.join(dir, 'ro');
    fs.mkdirSync(ro, { mode: 0o555 });
    const r = runCli(['--config', cfg, '--out', path.join(ro, 'out')]);
    expect(r.stderr).toContain(`cannot be written: no write permission in ${ro}`);
    expect(r.code).toBe(2);
  });

  test('report with a tcl/flow.json of {}: exit 2 naming the file and the fields', () => {
    const proj = path.join(dir, 'proj');
    fs.mkdirSync(path.join(proj, 'tcl'), { recursive: true });
    fs.writeFileSync(path.join(proj, 'tcl', 'flow.json'), '{}');
    const r = runCli(['report', proj]);
    expect(r.stderr).toContain(`${path.join(proj, 'tcl', 'flow.json')}: not a flow manifest m3vit-gen wrote`);
    expect(r.stderr).toContain('/board/name: must be a non-empty string (got nothing)');
    expect(r.stderr).not.toMatch(/TypeError|\n\s+at /);
    expect(r.code).toBe(2);
  });

  test('an output folder that is a symlink to another file system, with build/: written there, build/ kept, the link kept', () => {
    const other = fs.mkdtempSync('/dev/shm/m3vit-xdev-');
    dirs.push(other);
    const target = path.join(other, 'out');
    fs.mkdirSync(target);
    const link = path.join(dir, 'linked');
    fs.symlinkSync(target, link);
    expect(runCli(['--config', cfg, '--out', link]).code).toBe(0);
    fs.mkdirSync(path.join(target, 'build'));
    fs.writeFileSync(path.join(target, 'build', 'synth.log'), 'hours');
    const r = runCli(['--config', cfg, '--out', link]);
    expect(r.stderr).not.toMatch(/EXDEV|\n\s+at /);
    expect(r.code).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(link, 'build', 'synth.log'), 'utf8')).toBe('hours');
    expect(fs.existsSync(path.join(link, 'src', 'm3vit_top.cpp'))).toBe(true);
  });
});
