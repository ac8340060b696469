/**
 * `predict` in int mode never clips silently (issue 13): a 0..255 image (not normalised)
 * used to exit 0 printing only "wrote ...". Runs the CLI on a small model written to a
 * temporary folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { formatNpyFloat32 } from '../generator/io/npy';
import { ensureBuilt, runCli } from './helpers/cli';
import { tempDir } from './helpers/cpp';
import { smallSpec, writeProject } from './helpers/project';

let dir: string;
let config: string;
beforeAll(() => {
  ensureBuilt();
  dir = tempDir('predict-sat');
  config = writeProject(dir, smallSpec(), { name: 'small', pe: 4, simd: 4 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A [3, 16, 16] image with values from `f(c, y, x)`. */
function image(name: string, f: (c: number, y: number, x: number) => number): string {
  const data = new Float32Array(3 * 16 * 16);
  for (let c = 0; c < 3; c++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) data[(c * 16 + y) * 16 + x] = f(c, y, x);
  const file = path.join(dir, name);
  fs.writeFileSync(file, formatNpyFloat32([3, 16, 16], data));
  return file;
}

describe('predict --mode int warns on stderr when values are clipped', () => {
  it('a 0..255 image: warning with the count and the first layers, input first, exit 0', () => {
    const input = image('raw.npy', (c, y, x) => (16 * y + x + 7 * c) % 256);
    const r = runCli(['predict', '--quiet', '--config', config, '--task', 'seg', '--input', input, '--out', path.join(dir, 'y.npy')]);
    expect(r.code).toBe(0);
    const m = /^warning: int mode clipped (\d+) value\(s\) to the fixed-point formats, so the output is not what the model computes: input (\d+)(, [\w.]+ \d+)*( and \d+ more layer\(s\))?; .*raw\.npy has values outside the input format: is the image normalised \(mean\/std\), not 0\.\.255\? \(--report shows every layer and the error against float\)\n$/.exec(r.stderr);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(0);
    // The same counts as the --report summary line.
    const rep = runCli(['predict', '--quiet', '--config', config, '--task', 'seg', '--input', input, '--out', path.join(dir, 'y2.npy'), '--report']);
    const total = /^saturation: (\d+) value\(s\) clipped: input (\d+)/m.exec(rep.stdout);
    expect(total).not.toBeNull();
    expect([total![1], total![2]]).toEqual([m![1], m![2]]);
    expect(rep.stderr).toBe(r.stderr.replace('y.npy', 'y2.npy'));
  });

  it('a normalised image: no warning', () => {
    const input = image('norm.npy', (c, y, x) => 0.5 * Math.sin(0.4 * x + c) * Math.cos(0.3 * y));
    const r = runCli(['predict', '--quiet', '--config', config, '--task', 'seg', '--input', input, '--out', path.join(dir, 'z.npy')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('float mode does not clip and does not warn', () => {
    const input = image('raw2.npy', (c, y, x) => (16 * y + x + 7 * c) % 256);
    const r = runCli(['predict', '--quiet', '--config', config, '--task', 'seg', '--input', input, '--out', path.join(dir, 'f.npy'), '--mode', 'float']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});
