/**
 * Where the backbone activations live (config `activations`): the schedule's choice and its
 * token tiles and the attention's query tiles and K rows, and a token tile the MoE's expert
 * groups cannot use refused as a user error.
 * csim of the token-tiled kernels is in test/csim.test.ts (cases tiled*).
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadProject } from '../generator/project';
import { buildSchedule, queryTiling, tokenTiling } from '../generator/schedule/schedule';
import { ROOT, runCli } from './helpers/cli';
import { tempDir } from './helpers/cpp';
import { smallSpec, writeProject } from './helpers/project';

let dir: string;
beforeAll(() => {
  dir = tempDir('token-tiles');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const schedule = (cfg: string) => {
  const p = loadProject(cfg);
  return buildSchedule(p.ir, p.tasks, p.config);
};

describe('activation placement', () => {
  it('auto keeps m3vit-tiny on chip (its activations fit) and puts ViT-S in DDR, in 8 tiles of 129 tokens', () => {
    const tiny = schedule(path.join(ROOT, 'zcu104.json'));
    expect(tiny.tiled).toBeUndefined();
    expect(tiny.actRows).toBe(tiny.N);
    const vits = schedule(path.join(ROOT, 'configs', 'zcu104-vit-s-pascal.json'));
    // 1025 tokens; at least BLOCK_WORDS = 128 rows per tile: floor(1025 / 128) = 8 tiles of ceil(1025 / 8).
    expect(vits.tiled).toEqual({ rows: 129, tiles: 8, lastRows: 1025 - 7 * 129, patchTiles: 8, patchLastRows: 1024 - 7 * 129, reason: 'budget' });
    expect(vits.buffers.find((b) => b.name === 'X')!.dims).toEqual([129, 384]);
    // One head's K of every token: 1024 rows in memory, the last token's in registers.
    expect(vits.buffers.find((b) => b.name === 'Kh')!.dims).toEqual([1024, 32]);
    expect(vits.buffers.find((b) => b.name === 'KhL')!.dims).toEqual([1, 32]);
    const xs = vits.constants.find((c) => c.name === 'XS_OFF')!.value;
    expect(vits.scratch.qkvs - xs).toBe(1025 * 48); // XS: N rows of D / 8 words
  });

  it("ViT-S NYUD (1201 tokens): query tiles of at most 512 rows, K's rows past 1024 apart in LUTRAM", () => {
    const s = schedule(path.join(ROOT, 'configs', 'zcu104-vit-s-nyud.json'));
    // ceil(1201 / 512) = 3 tiles of ceil(1201 / 3) = 401, the last 1201 - 802 = 399.
    expect(s.attention.query).toEqual({ tile: 401, tiles: 3, lastRows: 399, memRows: 401, stateRows: 401, apart: false });
    const dims = (name: string) => s.buffers.find((b) => b.name === name)?.dims;
    expect(dims('Qh')).toEqual([401, 32]);
    expect(dims('O')).toEqual([401, 32]);
    expect(dims('S')).toEqual([401, 64]);
    expect(dims('ATT_M')).toEqual([401]);
    // 1201 = 1024 + 177: Kh one BRAM_18K deep per bank, the 177 rows in KhL; V whole (LUTRAM).
    expect(dims('Kh')).toEqual([1024, 32]);
    expect(dims('KhL')).toEqual([177, 32]);
    expect(s.buffers.find((b) => b.name === 'KhL')!.storage).toBe('lutram');
    expect(dims('Vh')).toEqual([1201, 32]);
    expect(dims('VhL')).toBeUndefined();
    expect(dims('QhL')).toBeUndefined();
  });

  it('conv3x3 groups are kept to 2 BRAM per ROW bank only when the design would not fit otherwise', () => {
    const p = loadProject(path.join(ROOT, 'configs', 'zcu104-vit-s-nyud.json'));
    const rowDims = (bram: number) => {
      const cfg = { ...p.config, board: { ...p.config.board, resources: { ...p.config.board.resources, BRAM_18K: bram } } };
      const s = buildSchedule(p.ir, p.tasks, cfg);
      return { row: s.buffers.find((b) => b.name === 'ROW')!.dims, groups: s.tasks[0].stages.map((st) => st.group) };
    };
    // 624 BRAM_18K hold the whole-channel groups (ROW [320][256]: 2560 words, 3 BRAM per bank);
    // stage 0 (384 inputs: 108 blocks per tile of 32 channels) is 128 by the weight store's
    // capacity anyway.
    expect(rowDims(624)).toEqual({ row: [320, 256], groups: [128, 256, 256, 256] });
    // 590 do not (596 needed): groups of 128, so 1280 words per bank (2 BRAM): 32 fewer.
    expect(rowDims(590)).toEqual({ row: [320, 128], groups: [128, 128, 128, 128] });
  });

  it('query tiles: as given (clamped to N), at least a token tile of rows in memory', () => {
    expect(queryTiling(17, 5, 6)).toEqual({ tile: 6, tiles: 3, lastRows: 5, memRows: 6, stateRows: 6, apart: false });
    expect(queryTiling(17, 5, 3)).toEqual({ tile: 3, tiles: 6, lastRows: 2, memRows: 5, stateRows: 5, apart: false });
    expect(queryTiling(17, 5, 100)).toEqual({ tile: 17, tiles: 1, lastRows: 17, memRows: 17, stateRows: 17, apart: false });
    // Default: the fewest equal tiles of at most 512 rows (1025: 3 of 342, the last 341).
    expect(queryTiling(1025, 129, undefined)).toEqual({ tile: 342, tiles: 3, lastRows: 341, memRows: 342, stateRows: 342, apart: false });
    expect(queryTiling(512, 129, undefined).tiles).toBe(1);
  });

  it('ddr with a token tile splits the tokens as asked, the last tile short', () => {
    expect(tokenTiling(17, 16, 1, 5, 'config')).toEqual({ rows: 5, tiles: 4, lastRows: 2, patchTiles: 4, patchLastRows: 1, reason: 'config' });
    const cfg = writeProject(dir, smallSpec(), { name: 'tt5', pe: 2, simd: 2, tokenTile: 5 });
    const s = schedule(cfg);
    expect(s.tiled?.rows).toBe(5);
    expect(s.buffers.find((b) => b.name === 'ACC')!.dims[0]).toBe(5);
  });

  it('refuses a token tile too large for the board with the fit check, naming the buffers that take the BRAM, exit 2', () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(ROOT, 'configs', 'zcu104-vit-s-nyud.json'), 'utf8'));
    delete cfg.$schema;
    cfg.model = path.join(ROOT, 'models', 'm3vit-small-nyud.ts');
    cfg.output = path.join(dir, 'big-tile-out');
    cfg.activations = { placement: 'ddr', tokenTile: 600 };
    const file = path.join(dir, 'big-tile.json');
    fs.writeFileSync(file, JSON.stringify(cfg));
    const r = runCli(['--config', file, '--quiet']);
    expect(r.code).toBe(2);
    // X, Y and A of 600 rows: 600 x 384 / 32 = 7200 words per bank of 16 bits, 8 BRAM_18K
    // (1K x 18) each, 32 banks: 256 each.
    expect(r.stderr).toContain('big-tile.json: the design does not fit zcu104 (estimate)');
    expect(r.stderr).toMatch(/\/board\/resources\/BRAM_18K: the estimate needs [\d,]+, the budget has 624 \(over by [\d,]+, \d+%\); the largest buffers: A \[600\]\[384\] 256, X \[600\]\[384\] 256, Y \[600\]\[384\] 256\n/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(cfg.output)).toBe(false);
  });

  it('refuses a token tile smaller than an expert group (BLOCK_PARTS), naming the field, exit 2', () => {
    // PE 8 x SIMD 16 at 16-bit weights: a block is two weight-store parts, so a group gathers two tokens.
    const spec = smallSpec({ experts: 4, topK: 2, tasks: [{ name: 'seg', channels: 3, head: { kind: 'uphead', channels: 16 } }] });
    const cfg = writeProject(dir, spec, { name: 'tt1', pe: 8, simd: 16, tokenTile: 1 });
    const r = runCli(['estimate', '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tt1.json: /activations/tokenTile: 1 rows is fewer than the 2 tokens an expert group gathers');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
