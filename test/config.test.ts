/**
 * Board/build config: JSON syntax, JSON Schema violations (all at once, each with its JSON
 * path), defaults and path resolution. Configs are written to temporary folders.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../generator/config/load';
import { UserError } from '../generator/util/errors';

const ROOT = path.resolve(__dirname, '..');

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-config-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A config with the required fields only. */
function minimal(): Record<string, any> {
  return {
    name: 'demo',
    model: 'models/demo.ts',
    board: {
      name: 'zcu104',
      part: 'xczu7ev-ffvc1156-2-e',
      boardPart: 'xilinx.com:zcu104:part0:1.1',
      resources: { LUT: 230400, FF: 460800, DSP: 1728, BRAM_18K: 624, URAM: 96 },
      ddr: { bandwidthGBps: 17 },
      hpPorts: ['HP0'],
    },
    clockMHz: 300,
    numerics: { weights: { bits: 16 }, activations: { bits: 16 } },
    parallelism: { pe: 8, simd: 16 },
  };
}

function write(name: string, contents: string | object): string {
  const file = path.join(tmp, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof contents === 'string' ? contents : JSON.stringify(contents, null, 2));
  return file;
}

/** Loads a config that must be rejected; returns the UserError. */
function rejected(file: string): UserError {
  try {
    loadConfig(file);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error(`${file} was accepted`);
}

describe('config: valid files', () => {
  it('accepts the shipped default config zcu104.json', () => {
    const c = loadConfig(path.join(ROOT, 'zcu104.json'));
    expect(c.name).toBe('m3vit_tiny_zcu104');
    expect(c.modelFile).toBe(path.join(ROOT, 'models', 'm3vit-tiny.ts'));
    expect(c.outDir).toBe(path.join(ROOT, 'hls-out', 'm3vit_tiny_zcu104'));
    expect(c.clockMHz).toBe(300);
    expect(c.parallelism).toEqual({ pe: 32, simd: 32 });
  });

  it('fills in every default of a minimal config', () => {
    const file = write('sub/cfg.json', minimal());
    const c = loadConfig(file);
    expect(c.configFile).toBe(file);
    expect(c.board.ddr).toEqual({ bandwidthGBps: 17, sizeMiB: 2048 });
    expect(c.board.hpPortWidthBits).toBe(128);
    expect(c.board.powerW).toBe(10);
    expect(c.numerics).toEqual({
      weightBits: 16,
      biasBits: 32,
      activationBits: 16,
      accumulatorBits: 48,
      headroomBits: 1,
      calibrationImages: 2,
      calibrationStatistic: { kind: 'max' },
    });
    expect(c.preprocess).toEqual({ resize: 'refuse', normalize: 'imagenet', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(c.moe).toEqual({ scheduler: 'expert-major', expertCacheSlots: 2 });
    expect(c.tasks).toBeUndefined();
    expect(c.weightsFile).toBeUndefined();
    expect(c.seed).toBe(1);
    expect(c.randomInit).toBe('m3vit');
  });

  it('keeps the values given instead of the defaults', () => {
    const cfg = minimal();
    cfg.board.ddr.sizeMiB = 1024;
    cfg.board.hpPortWidthBits = 64;
    cfg.board.powerW = 12.5;
    cfg.numerics = {
      weights: { bits: 8 },
      biases: { bits: 24 },
      activations: { bits: 12 },
      accumulator: { bits: 40 },
      calibration: { headroomBits: 3, images: 5 },
    };
    cfg.moe = { scheduler: 'token-major', expertCacheSlots: 4 };
    cfg.tasks = ['depth'];
    cfg.seed = 7;
    cfg.randomInit = 'exercise';
    const c = loadConfig(write('cfg.json', cfg));
    expect(c.board.ddr.sizeMiB).toBe(1024);
    expect(c.board.hpPortWidthBits).toBe(64);
    expect(c.board.powerW).toBe(12.5);
    expect(c.numerics).toEqual({
      weightBits: 8,
      biasBits: 24,
      activationBits: 12,
      accumulatorBits: 40,
      headroomBits: 3,
      calibrationImages: 5,
      calibrationStatistic: { kind: 'max' },
    });
    expect(c.moe).toEqual({ scheduler: 'token-major', expertCacheSlots: 4 });
    expect(c.tasks).toEqual(['depth']);
    expect(c.seed).toBe(7);
    expect(c.randomInit).toBe('exercise');
  });

  it('resolves model, output and weights relative to the config file, not the working folder', () => {
    const cfg = minimal();
    cfg.output = '../build/out';
    cfg.weights = 'w/model.safetensors';
    const file = write('a/b/cfg.json', cfg);
    const c = loadConfig(path.relative(process.cwd(), file));
    expect(c.modelFile).toBe(path.join(tmp, 'a', 'b', 'models', 'demo.ts'));
    expect(c.outDir).toBe(path.join(tmp, 'a', 'build', 'out'));
    expect(c.weightsFile).toBe(path.join(tmp, 'a', 'b', 'w', 'model.safetensors'));
  });

  it('defaults the output folder to hls-out/<name> next to the config', () => {
    const c = loadConfig(write('x/cfg.json', minimal()));
    expect(c.outDir).toBe(path.join(tmp, 'x', 'hls-out', 'demo'));
  });

  it('lets --out replace the configured output, relative to the working folder', () => {
    const cfg = minimal();
    cfg.output = 'configured';
    const file = write('cfg.json', cfg);
    expect(loadConfig(file, { outDir: 'elsewhere/o' }).outDir).toBe(path.join(process.cwd(), 'elsewhere', 'o'));
    expect(loadConfig(file, { outDir: path.join(tmp, 'abs') }).outDir).toBe(path.join(tmp, 'abs'));
    expect(loadConfig(file).outDir).toBe(path.join(tmp, 'configured'));
  });

  it('accepts a UTF-8 byte-order mark', () => {
    const c = loadConfig(write('bom.json', `\uFEFF${JSON.stringify(minimal())}`));
    expect(c.name).toBe('demo');
  });
});

describe('config: file problems', () => {
  it('reports a missing file', () => {
    const e = rejected(path.join(tmp, 'nope.json'));
    expect(e.message).toBe(`${path.join(tmp, 'nope.json')}: config file not found`);
  });

  it('reports a folder given as the config', () => {
    const e = rejected(tmp);
    expect(e.message).toBe(`${tmp}: is a folder; expected a JSON config file`);
  });

  // Positions derived by counting characters in the texts below (lines and columns from 1).
  it.each([
    ['a missing comma', '{\n  "name": "x",\n  "model": "m.ts"\n  "board": {}\n}\n', 4, 3, `expected ',' or '}' after a property value, found '"'`],
    ['a trailing comma', '{\n  "name": "x",\n}\n', 3, 1, `expected a double-quoted property name, found '}'`],
    ['a misspelt literal', '{\n  "seed": tru\n}', 2, 11, `expected a value, found 't'`],
    ['single quotes', "{\n\t'name': 1}", 2, 2, `expected a double-quoted property name, found '''`],
    ['an unclosed string', '{\n  "name": "abc\n}', 2, 15, 'string not closed before the end of the line'],
    ['text after the value', '{}\n\n  x', 3, 3, `unexpected 'x' after the end of the JSON value`],
    ['an empty file', '', 1, 1, 'expected a value, found the end of the file'],
    ['a truncated file', '{\n  "name": "x",\n', 3, 1, 'expected a double-quoted property name, found the end of the file'],
    ['a leading zero', '[1,\n 02]', 2, 3, `expected ',' or ']' after an array element, found '2'`],
  ])('reports invalid JSON (%s) with line:col', (_what, text, line, col, msg) => {
    const file = write('bad.json', text);
    const e = rejected(file);
    expect(e.message).toBe(`${file}:${line}:${col}: invalid JSON: ${msg}`);
  });
});

describe('config: schema violations', () => {
  it('lists every violation at once, each with its JSON path', () => {
    const cfg = minimal();
    delete cfg.model; // missing required, top level
    delete cfg.board.resources.URAM; // missing required, nested
    cfg.name = '9lives'; // pattern
    cfg.clockMHz = 1200; // > maximum
    cfg.board.resources.LUT = 'many'; // wrong type
    cfg.parallelism.pe = 2.5; // not an integer
    cfg.moe = { scheduler: 'random' }; // enum
    cfg.board.colour = 'red'; // unknown field, nested
    cfg.extra = true; // unknown field, top level
    const e = rejected(write('cfg.json', cfg));
    expect(e.message.split('\n')[0]).toBe(`${path.join(tmp, 'cfg.json')}: invalid config (9 problems)`);
    expect(e.problems).toHaveLength(9);
    const byPath = (p: string): string => {
      const hits = e.problems.filter((l) => l.startsWith(`${p}: `));
      expect(hits).toHaveLength(1);
      return hits[0];
    };
    expect(byPath('/model')).toMatch(/required field is missing/);
    expect(byPath('/board/resources/URAM')).toMatch(/required field is missing \(UltraRAM/);
    expect(byPath('/name')).toMatch(/"9lives" is not allowed \(.*A letter, then letters, digits or underscores/);
    expect(byPath('/clockMHz')).toBe('/clockMHz: must be <= 800 (got 1200)');
    expect(byPath('/board/resources/LUT')).toBe('/board/resources/LUT: must be an integer (got "many")');
    expect(byPath('/parallelism/pe')).toBe('/parallelism/pe: must be an integer (got 2.5)');
    expect(byPath('/moe/scheduler')).toBe('/moe/scheduler: must be one of "expert-major", "token-major" (got "random")');
    expect(byPath('/board/colour')).toBe(
      '/board/colour: unknown field; allowed here: name, part, boardPart, resources, ddr, hpPorts, hpPortWidthBits, powerW',
    );
    expect(byPath('/extra')).toBe(
      '/extra: unknown field; allowed here: $schema, name, model, output, board, clockMHz, numerics, parallelism, tasks, moe, activations, preprocess, weights, seed, randomInit',
    );
  });

  it('lists every missing required field of an empty object', () => {
    const e = rejected(write('cfg.json', {}));
    expect(e.problems.map((l) => l.split(':')[0]).sort()).toEqual(
      ['/board', '/clockMHz', '/model', '/name', '/numerics', '/parallelism'].sort(),
    );
  });

  it.each([
    ['clockMHz', 49, '/clockMHz: must be >= 50 (got 49)'],
    ['clockMHz', 801, '/clockMHz: must be <= 800 (got 801)'],
    ['clockMHz', '300', '/clockMHz: must be a number (got "300")'],
    ['seed', -1, '/seed: must be >= 0 (got -1)'],
    ['randomInit', 'zeros', '/randomInit: must be one of "m3vit", "exercise" (got "zeros")'],
    ['model', 'models/x.js', '/model: "models/x.js" is not allowed: the model description must be a TypeScript file ending in .ts (it is type-checked and evaluated, never run)'],
    ['tasks', [], '/tasks: needs at least 1 item'],
    ['tasks', ['a', 'a'], '/tasks: items 0 and 1 are the same ("a"); each may appear once'],
    ['output', '', '/output: must not be empty'],
    ['board', [], '/board: must be an object (got an array)'],
  ])('reports %s = %j', (field, value, expected) => {
    const cfg = minimal();
    cfg[field] = value;
    const e = rejected(write('cfg.json', cfg));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0].slice(0, expected.length)).toBe(expected);
  });

  it.each([
    [(c: any) => (c.board.ddr.bandwidthGBps = 0), '/board/ddr/bandwidthGBps: must be >= 0.1 (got 0)'],
    [(c: any) => (c.board.hpPorts = ['HP0', 'HP7']), '/board/hpPorts/1: must be one of "HPC0", "HPC1", "HP0", "HP1", "HP2", "HP3" (got "HP7")'],
    [(c: any) => (c.board.hpPortWidthBits = 256), '/board/hpPortWidthBits: must be one of 32, 64, 128 (got 256)'],
    [(c: any) => (c.numerics.weights.bits = 3), '/numerics/weights/bits: must be >= 4 (got 3)'],
    [(c: any) => (c.numerics.activations.bits = 17), '/numerics/activations/bits: must be <= 16 (got 17)'],
    [(c: any) => (c.parallelism.simd = 0), '/parallelism/simd: must be >= 1 (got 0)'],
    [(c: any) => (c.moe = { expertCacheSlots: 65 }), '/moe/expertCacheSlots: must be <= 64 (got 65)'],
    [(c: any) => (c.board.part = 'zu7ev'), '/board/part: "zu7ev" is not allowed'],
    [(c: any) => (c.board.hpPorts = ['HP0', 'HP1', 'HP0']), '/board/hpPorts: items 0 and 2 are the same ("HP0"); each may appear once'],
  ])('reports nested violation %#', (mutate, expected) => {
    const cfg = minimal();
    mutate(cfg);
    const e = rejected(write('cfg.json', cfg));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0].slice(0, expected.length)).toBe(expected);
  });

  it('reports a top-level array', () => {
    const e = rejected(write('cfg.json', '[]'));
    expect(e.problems).toEqual(['/: must be an object (got an array)']);
  });
});

describe('README config reference', () => {
  it('documents every field of the schema', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'm3vit-gen.schema.json'), 'utf8'));
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Config reference'), readme.indexOf('## Model descriptions'));
    expect(section.length).toBeGreaterThan(0);
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    const leaves: string[] = [];
    const walk = (node: any, at: string): void => {
      const props = node.properties as Record<string, any> | undefined;
      if (!props) {
        leaves.push(at);
        return;
      }
      for (const [k, v] of Object.entries(props)) walk(v, at ? `${at}.${k}` : k);
    };
    walk(schema, '');
    expect(leaves.length).toBeGreaterThan(25);
    const missing = leaves.filter((leaf) => {
      if (rows.some((r) => r.startsWith(`| \`${leaf}\` |`))) return false;
      // Small groups (board.resources) are documented in their parent's row.
      const parent = leaf.slice(0, leaf.lastIndexOf('.'));
      const name = leaf.slice(leaf.lastIndexOf('.') + 1);
      return !rows.some((r) => r.startsWith(`| \`${parent}\` |`) && r.includes(`\`${name}\``));
    });
    expect(missing).toEqual([]);
  });
});

describe('config: values a board cannot have (issue 13)', () => {
  it.each([
    ['board.resources.LUT', (c: any) => (c.board.resources.LUT = 1e30), '/board/resources/LUT: must be <= 10000000 (got 1e+30)'],
    ['board.resources.FF', (c: any) => (c.board.resources.FF = 2 ** 40), '/board/resources/FF: must be <= 20000000 (got 1099511627776)'],
    ['board.resources.DSP', (c: any) => (c.board.resources.DSP = 1e6), '/board/resources/DSP: must be <= 20000 (got 1000000)'],
    ['board.resources.BRAM_18K', (c: any) => (c.board.resources.BRAM_18K = 20001), '/board/resources/BRAM_18K: must be <= 20000 (got 20001)'],
    ['board.resources.URAM', (c: any) => (c.board.resources.URAM = 5001), '/board/resources/URAM: must be <= 5000 (got 5001)'],
    ['board.ddr.sizeMiB 2^64', (c: any) => (c.board.ddr.sizeMiB = 2 ** 64), '/board/ddr/sizeMiB: must be <= 262144 (got 18446744073709552000)'],
    ['board.ddr.bandwidthGBps 1e300', (c: any) => (c.board.ddr.bandwidthGBps = 1e300), '/board/ddr/bandwidthGBps: must be <= 2000 (got 1e+300)'],
    ['board.ddr.bandwidthGBps 1e-300', (c: any) => (c.board.ddr.bandwidthGBps = 1e-300), '/board/ddr/bandwidthGBps: must be >= 0.1 (got 1e-300)'],
    ['board.powerW 1e300', (c: any) => (c.board.powerW = 1e300), '/board/powerW: must be <= 1000 (got 1e+300)'],
    ['board.powerW 1e-300', (c: any) => (c.board.powerW = 1e-300), '/board/powerW: must be >= 0.1 (got 1e-300)'],
  ])('refuses %s', (_what, mutate, problem) => {
    const cfg = minimal();
    mutate(cfg);
    expect(rejected(write('cfg.json', cfg)).problems).toEqual([problem]);
  });

  it('accepts the largest real boards (VU13P-class budgets, HBM bandwidth)', () => {
    const cfg = minimal();
    cfg.board.resources = { LUT: 1728000, FF: 3456000, DSP: 12288, BRAM_18K: 5376, URAM: 1280 };
    cfg.board.ddr = { bandwidthGBps: 460, sizeMiB: 16384 };
    cfg.board.powerW = 225;
    expect(loadConfig(write('cfg.json', cfg)).board.ddr.sizeMiB).toBe(16384);
  });
});
