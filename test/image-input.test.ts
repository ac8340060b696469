/**
 * Images as model inputs: the PNG and JPEG decoders on hand-made pixels (every value
 * expected here is computed from the pixels the test wrote), the preprocessing (channels,
 * [0, 1] scaling, bilinear resize, normalisation), the calibration statistics, the config
 * fields, and bad images (one message naming the file, exit 2, nothing written).
 */
import * as fs from 'fs';
import * as jpeg from 'jpeg-js';
import * as path from 'path';
import { loadConfig } from '../generator/config/load';
import type { PreprocessConfig } from '../generator/config/types';
import { decodeImage } from '../generator/io/image';
import { calibrationFiles, readModelInput } from '../generator/io/input';
import { formatNpy, parseNpy } from '../generator/io/npy';
import { preprocessImage, resizeBilinear } from '../generator/io/preprocess';
import { loadProject } from '../generator/project';
import { SiteAccumulator } from '../generator/reference/site-stats';
import { prepareModel } from '../generator/reference/prepare';
import { formatCalibrationReport, siteCalibrations } from '../generator/golden/calibration-report';
import { ensureBuilt, runCli } from './helpers/cli';
import { tempDir } from './helpers/cpp';
import { encodePng, naturalish, type Pixels } from './helpers/images';
import { smallSpec, writeProject } from './helpers/project';
import { userErrorMessage } from './helpers/user-error';

const RAW: PreprocessConfig = { resize: 'refuse', normalize: 'none', mean: [0], std: [1] };
const dims = (C: number, H: number, W: number) => ({ name: 'm', inChannels: C, imageH: H, imageW: W });

/** 3 x 2 pixels, every channel a different value, alpha not 255. */
const PIX: Pixels = {
  width: 3,
  height: 2,
  rgba: Uint8Array.from([
    0, 10, 20, 255, 30, 40, 50, 128, 60, 70, 80, 0,
    90, 100, 110, 7, 120, 130, 140, 255, 250, 251, 255, 1,
  ]),
};

const message = userErrorMessage;

let tmp: string;
beforeAll(() => {
  tmp = tempDir('images');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('decoders', () => {
  it('PNG RGBA: every pixel as written, alpha dropped, planes R, G, B scaled by 1/255', () => {
    const img = decodeImage(encodePng(PIX), 'x.png');
    expect([img.format, img.width, img.height]).toEqual(['png', 3, 2]);
    expect(Array.from(img.rgba)).toEqual(Array.from(PIX.rgba));
    const x = preprocessImage(img, dims(3, 2, 3), RAW, 'x.png');
    expect(x.shape).toEqual([3, 2, 3]);
    const expected = [0, 30, 60, 90, 120, 250, 10, 40, 70, 100, 130, 251, 20, 50, 80, 110, 140, 255].map((v) => v / 255);
    expect(Array.from(x.data)).toEqual(expected);
  });

  it('PNG grayscale (colour type 0) feeds R = G = B; a 1-channel model takes it, but not a colour image', () => {
    const png = encodePng(PIX, { gray: true });
    expect(png[25]).toBe(0); // IHDR colour type
    const x = preprocessImage(decodeImage(png, 'g.png'), dims(3, 2, 3), RAW, 'g.png');
    const r = [0, 30, 60, 90, 120, 250].map((v) => v / 255);
    expect(Array.from(x.data)).toEqual([...r, ...r, ...r]);
    const one = preprocessImage(decodeImage(png, 'g.png'), dims(1, 2, 3), RAW, 'g.png');
    expect(Array.from(one.data)).toEqual(r);
    expect(message(() => preprocessImage(decodeImage(encodePng(PIX), 'c.png'), dims(1, 2, 3), RAW, 'c.png'))).toBe(
      'c.png: pixel (x 0, y 0) is not gray (R 0, G 10, B 20); the model has 1 input channel and takes grayscale images only',
    );
  });

  it('JPEG: a flat colour at quality 100 decodes within 1 of its value', () => {
    const rgba = new Uint8Array(4 * 16 * 8);
    for (let i = 0; i < 16 * 8; i++) rgba.set([200, 60, 120, 255], 4 * i);
    const bytes = jpeg.encode({ width: 16, height: 8, data: rgba }, 100).data;
    const img = decodeImage(bytes, 'x.jpg');
    expect([img.format, img.width, img.height]).toEqual(['jpeg', 16, 8]);
    for (let i = 0; i < 16 * 8; i++) {
      [200, 60, 120].forEach((v, c) => expect(Math.abs(img.rgba[4 * i + c] - v)).toBeLessThanOrEqual(1));
    }
  });
});

describe('preprocessing', () => {
  it('normalises with ImageNet statistics and with a given mean and std', () => {
    const img = decodeImage(encodePng(PIX), 'x.png');
    const imagenet = preprocessImage(img, dims(3, 2, 3), { resize: 'refuse', normalize: 'imagenet', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }, 'x.png');
    // Pixel (2, 1) = (250, 251, 255): channel c at index c * 6 + 5.
    expect(imagenet.data[5]).toBeCloseTo((250 / 255 - 0.485) / 0.229, 14);
    expect(imagenet.data[11]).toBeCloseTo((251 / 255 - 0.456) / 0.224, 14);
    expect(imagenet.data[17]).toBeCloseTo((255 / 255 - 0.406) / 0.225, 14);
    const custom = preprocessImage(img, dims(3, 2, 3), { resize: 'refuse', normalize: 'mean-std', mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 2] }, 'x.png');
    expect(custom.data[1]).toBeCloseTo((30 / 255 - 0.5) / 0.5, 14);
    expect(custom.data[7]).toBeCloseTo((40 / 255 - 0.5) / 0.25, 14);
    expect(custom.data[13]).toBeCloseTo((50 / 255 - 0.5) / 2, 14);
  });

  it('resizes bilinearly with half-pixel centres (PyTorch align_corners=False), or refuses', () => {
    // Up 2 -> 4: samples at -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to the last pixel).
    expect(Array.from(resizeBilinear(Float64Array.from([0, 1]), 2, 1, 4, 1))).toEqual([0, 0.25, 0.75, 1]);
    // Down 4 -> 2: samples at 0.5 and 2.5, the mean of each pair.
    expect(Array.from(resizeBilinear(Float64Array.from([0, 1, 4, 8]), 4, 1, 2, 1))).toEqual([0.5, 6]);
    // 2-D: a 2 x 2 image to 4 x 4, the corner value stays, (1, 1) mixes 3:1 in both directions.
    const up = resizeBilinear(Float64Array.from([0, 4, 8, 12]), 2, 2, 4, 4);
    expect([up[0], up[5], up[15]]).toEqual([0, 0.75 * 0.75 * 0 + 0.75 * 0.25 * 4 + 0.25 * 0.75 * 8 + 0.25 * 0.25 * 12, 12]);
    const img = decodeImage(encodePng(PIX), 'x.png');
    const resized = preprocessImage(img, dims(3, 4, 6), { ...RAW, resize: 'bilinear' }, 'x.png');
    expect(resized.shape).toEqual([3, 4, 6]);
    expect(resized.data[0]).toBe(0);
    expect(resized.data[23]).toBeCloseTo(250 / 255, 14);
    expect(message(() => preprocessImage(img, dims(3, 4, 6), RAW, 'x.png'))).toBe(
      'x.png: the image is 3x2 pixels (width x height); the model m takes 6x4: resize it, or set "preprocess": { "resize": "bilinear" } in the config',
    );
  });

  it('reads .npy inputs as they are and tells files by their first bytes, not their names', () => {
    const npy = path.join(tmp, 'looks-like.png');
    fs.writeFileSync(npy, formatNpy([3, 2, 3], Array.from({ length: 18 }, (_, i) => i / 4), 'float64'));
    expect(Array.from(readModelInput(npy, dims(3, 2, 3), RAW).data)).toEqual(Array.from({ length: 18 }, (_, i) => i / 4));
    const png = path.join(tmp, 'looks-like.npy');
    fs.writeFileSync(png, encodePng(PIX));
    expect(readModelInput(png, dims(3, 2, 3), RAW).data[17]).toBe(1);
  });

  it('bad images: one message naming the file', () => {
    const good = encodePng(PIX);
    expect(message(() => decodeImage(good.subarray(0, 60), 'short.png'))).toMatch(/^short\.png: cannot decode the PNG image: the file is truncated or corrupt \(decoder: /);
    expect(message(() => decodeImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]), 'bad.jpg'))).toMatch(/^bad\.jpg: cannot decode the JPEG image: the file is truncated or corrupt/);
    expect(message(() => decodeImage(Buffer.from('GIF89a....'), 'x.gif'))).toBe('x.gif: not a PNG or JPEG image (the file does not start with a PNG or JPEG signature)');
  });
});

describe('calibration statistics', () => {
  it('max is the largest |x|; a percentile is the nearest rank, rounded up by at most one bin', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1)); // |x| = 1 .. 1000
    const max = new SiteAccumulator(false);
    max.observe(values, values.length);
    expect(max.stats({ kind: 'max' })).toEqual({ min: -1000, max: 999, maxAbs: 1000, count: 1000, value: 1000 });
    const pct = new SiteAccumulator(true);
    pct.observe(values.subarray(0, 400), 400);
    pct.observe(values.subarray(400), 600);
    const p99 = pct.stats({ kind: 'percentile', percent: 99 }).value; // rank 990: |x| = 990
    expect(p99).toBeGreaterThanOrEqual(990);
    expect(p99).toBeLessThanOrEqual(990 * 2 ** (1 / 128));
    expect(pct.stats({ kind: 'percentile', percent: 99.99 }).value).toBe(1000); // capped at the max
    const zeros = new SiteAccumulator(true);
    zeros.observe(new Float64Array(10), 10);
    expect(zeros.stats({ kind: 'percentile', percent: 90 }).value).toBe(0);
  });
});

describe('config', () => {
  const cfg = (edit: (c: any) => void): string => {
    const file = writeProject(tmp, smallSpec(), { name: 'cfgimg', pe: 4, simd: 4 });
    const c = JSON.parse(fs.readFileSync(file, 'utf8'));
    edit(c);
    fs.writeFileSync(file, JSON.stringify(c));
    return file;
  };

  it('reads the calibration data, the statistic and the preprocessing', () => {
    const file = cfg((c) => {
      c.numerics.calibration = { data: ['calib', 'one.png'], statistic: 'p99.99' };
      c.preprocess = { resize: 'bilinear', normalize: 'mean-std', mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2] };
    });
    const c = loadConfig(file);
    expect(c.numerics.calibrationData).toEqual([path.join(tmp, 'calib'), path.join(tmp, 'one.png')]);
    expect(c.numerics.calibrationStatistic).toEqual({ kind: 'percentile', percent: 99.99 });
    expect(c.preprocess).toEqual({ resize: 'bilinear', normalize: 'mean-std', mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2] });
  });

  it('refuses what does not go together, each problem with its JSON path', () => {
    const both = cfg((c) => {
      c.numerics.calibration = { images: 2, data: ['calib'], statistic: 'p42' };
      c.preprocess = { normalize: 'imagenet', mean: [0, 0, 0] };
    });
    expect(message(() => loadConfig(both)).split('\n').slice(1)).toEqual([
      expect.stringMatching(/^ {2}\/numerics\/calibration\/statistic: "p42" is not allowed \(What each activation site's format must hold/),
    ]);
    const semantic = cfg((c) => {
      c.numerics.calibration = { images: 2, data: ['calib'] };
      c.preprocess = { normalize: 'mean-std', mean: [0, 0, 0] };
    });
    expect(message(() => loadConfig(semantic)).split('\n').slice(1)).toEqual([
      '  /numerics/calibration/images: seeded calibration images and calibration "data" exclude each other; give one of them',
      '  /preprocess/std: required when "normalize" is "mean-std"',
    ]);
    const gray = cfg((c) => delete c.preprocess);
    const spec1 = { ...smallSpec(), image: { height: 16, width: 16, channels: 1 } };
    writeProject(tmp, spec1, { name: 'cfgimg', pe: 4, simd: 4 });
    expect(message(() => loadProject(gray))).toMatch(/\/preprocess\/normalize: "imagenet" needs 3 input channels; the model small has 1; use "none" or "mean-std"$/);
  });

  it('lists a calibration folder in name order, its images and .npy files only; a missing or empty one is named by its field', () => {
    const folder = path.join(tmp, 'set');
    fs.mkdirSync(folder);
    for (const n of ['b.png', 'a.JPG', 'c.npy', 'readme.txt']) fs.writeFileSync(path.join(folder, n), '');
    const config = path.join(tmp, 'x.json');
    expect(calibrationFiles([folder, path.join(folder, 'readme.txt')], config)).toEqual([
      { file: path.join(folder, 'a.JPG'), field: '/numerics/calibration/data/0' },
      { file: path.join(folder, 'b.png'), field: '/numerics/calibration/data/0' },
      { file: path.join(folder, 'c.npy'), field: '/numerics/calibration/data/0' },
      { file: path.join(folder, 'readme.txt'), field: '/numerics/calibration/data/1' },
    ]);
    expect(message(() => calibrationFiles([path.join(tmp, 'none')], config))).toBe(`${config}: /numerics/calibration/data/0: none not found (a file or a folder, relative to the config)`);
    fs.mkdirSync(path.join(tmp, 'empty'));
    expect(message(() => calibrationFiles([path.join(tmp, 'empty')], config))).toBe(`${config}: /numerics/calibration/data/0: the folder empty has no .png, .jpg, .jpeg, .npy files`);
  });
});

describe('calibration on data, in the plan and the report', () => {
  it('a percentile keeps more fraction bits than max where the tail is thin, and the report says which sites clip on the set', () => {
    const file = writeProject(path.join(tmp, 'pct'), smallSpec(), { name: 'pct', pe: 4, simd: 4 });
    fs.mkdirSync(path.join(tmp, 'pct', 'calib'));
    [0, 1, 2].forEach((i) => fs.writeFileSync(path.join(tmp, 'pct', 'calib', `s${i}.png`), encodePng(naturalish(16, 16, 50 + i))));
    const prepared = (statistic: string) => {
      const c = JSON.parse(fs.readFileSync(file, 'utf8'));
      c.numerics.calibration = { headroomBits: 0, data: ['calib'], statistic };
      fs.writeFileSync(file, JSON.stringify(c));
      const project = loadProject(file);
      return { project, prep: prepareModel(project) };
    };
    const max = prepared('max');
    const p60 = prepared('p60');
    expect(max.prep.calibration.inputs).toEqual(['s0.png', 's1.png', 's2.png']);
    const sites = Object.keys(max.prep.plan.act);
    // Same data, same observed range; the 60th percentile is below the max, so never fewer fraction bits.
    for (const s of sites) {
      expect(p60.prep.calibration.sites[s].maxAbs).toBe(max.prep.calibration.sites[s].maxAbs);
      expect(p60.prep.plan.act[s]).toBeGreaterThanOrEqual(max.prep.plan.act[s]);
    }
    const finer = sites.filter((s) => p60.prep.plan.act[s] > max.prep.plan.act[s]);
    expect(finer.length).toBeGreaterThan(0);
    // A site whose max no longer fits its (finer) format clips on the calibration set, and the report names it.
    const clipped = siteCalibrations(p60.project.ir, p60.prep).filter((r) => r.clipsOnSet).map((r) => r.site);
    expect(clipped.length).toBeGreaterThan(0);
    for (const s of clipped) expect(p60.prep.calibration.sites[s].maxAbs).toBeGreaterThan(32767 * 2 ** -p60.prep.plan.act[s]);
    const report = formatCalibrationReport(p60.project.ir, p60.prep, 0);
    expect(report).toContain('the 60th percentile of |x|');
    expect(report).toContain(`exceed their format on the calibration set: ${clipped.join(', ')}.`);
    expect(siteCalibrations(max.project.ir, max.prep).filter((r) => r.clipsOnSet)).toEqual([]);
  });
});

describe('CLI: bad images exit 2 with one message and write nothing', () => {
  let config: string;
  beforeAll(() => {
    ensureBuilt();
    config = writeProject(path.join(tmp, 'cli'), smallSpec(), { name: 'climg', pe: 4, simd: 4 });
    fs.writeFileSync(path.join(tmp, 'cli', 'wrong.png'), encodePng(PIX));
    fs.writeFileSync(path.join(tmp, 'cli', 'short.png'), encodePng(PIX).subarray(0, 50));
  });
  const expectOneMessage = (args: string[], re: RegExp): void => {
    const r = runCli(args, { cwd: path.join(tmp, 'cli') });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(re)]);
  };

  it('predict, golden and the main job', () => {
    expectOneMessage(['predict', '--config', config, '--task', 'seg', '--input', 'wrong.png', '--out', 'y.npy', '--trace', 'tr'], /^wrong\.png: the image is 3x2 pixels .* takes 16x16/);
    expectOneMessage(['golden', '--config', config, '--input', 'short.png'], /^short\.png: cannot decode the PNG image: the file is truncated or corrupt/);
    expectOneMessage(['--config', config, '--input', 'missing.jpg'], /^missing\.jpg: file not found$/);
    for (const f of ['y.npy', 'tr', 'out']) expect(fs.existsSync(path.join(tmp, 'cli', f))).toBe(false);
  });

  it('a bad calibration image is named through its config field, before any long step', () => {
    const c = JSON.parse(fs.readFileSync(config, 'utf8'));
    c.numerics.calibration = { data: ['short.png'] };
    fs.writeFileSync(config, JSON.stringify(c));
    expectOneMessage(['golden', '--config', config], /^climg\.json: \/numerics\/calibration\/data\/0: short\.png: cannot decode the PNG image/);
    expect(fs.existsSync(path.join(tmp, 'cli', 'out'))).toBe(false);
  });
});

// parseNpy round trip of the new writer's dtypes (the trace writes float64 and int32).
it('formatNpy writes float64 and int32 that parseNpy reads back exactly', () => {
  const f64 = parseNpy(formatNpy([2, 2], [1.5, -(2 ** -30), 3e10, 0], 'float64'), 'a');
  expect([f64.dtype, f64.shape, Array.from(f64.data)]).toEqual(['float64', [2, 2], [1.5, -(2 ** -30), 3e10, 0]]);
  const i32 = parseNpy(formatNpy([3], [-7, 0, 2 ** 31 - 1], 'int32'), 'b');
  expect([i32.dtype, Array.from(i32.data)]).toEqual(['int32', [-7, 0, 2 ** 31 - 1]]);
});
