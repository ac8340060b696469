/**
 * Where the backbone activations live (config `activations`): the schedule's choice and its
 * token tiles, and a token tile the MoE's expert groups cannot use refused as a user error.
 * csim of the token-tiled kernels is in test/csim.test.ts (cases tiled*).
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadProject } from '../generator/project';
import { buildSchedule, tokenTiling } from '../generator/schedule/schedule';
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

  it('ddr with a token tile splits the tokens as asked, the last tile short', () => {
    expect(tokenTiling(17, 16, 1, 5, 'config')).toEqual({ rows: 5, tiles: 4, lastRows: 2, patchTiles: 4, patchLastRows: 1, reason: 'config' });
    const cfg = writeProject(dir, smallSpec(), { name: 'tt5', pe: 2, simd: 2, tokenTile: 5 });
    const s = schedule(cfg);
    expect(s.tiled?.rows).toBe(5);
    expect(s.buffers.find((b) => b.name === 'ACC')!.dims[0]).toBe(5);
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
