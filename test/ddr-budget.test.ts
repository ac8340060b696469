/**
 * board.ddr.sizeMiB is checked against what the host puts in DDR: the weight image and
 * the scratch (issue 13: 1 MiB of DDR used to "fit" 43 MiB of weights). Sizes in the
 * expected messages are computed by hand from word counts (16-byte words).
 */
import * as fs from 'fs';
import * as path from 'path';
import { checkDdrFits } from '../generator/emit/ddr-budget';
import { runKernelStage } from '../generator/emit/stage';
import { loadProject } from '../generator/project';
import type { BuildConfig } from '../generator/config/types';
import { tempDir } from './helpers/cpp';
import { userErrorMessage } from './helpers/user-error';
import { smallSpec, writeProject } from './helpers/project';

function configWith(sizeMiB: number): BuildConfig {
  return { configFile: '/nowhere/c.json', board: { ddr: { bandwidthGBps: 17, sizeMiB } } } as unknown as BuildConfig;
}

describe('DDR budget', () => {
  it('accepts weights and scratch that fill the DDR exactly', () => {
    // 1 MiB = 65536 words of 16 bytes.
    expect(() => checkDdrFits(configWith(1), 65536 - 100, 100)).not.toThrow();
  });

  it('refuses one word more, naming the field, both sizes and the total', () => {
    // 3 MiB + 16 bytes of weights (196609 words) and 1 MiB of scratch (65536 words) in 4 MiB.
    expect(userErrorMessage(() => checkDdrFits(configWith(4), 196609, 65536))).toBe(
      '/nowhere/c.json: /board/ddr/sizeMiB: 4 MiB of DDR cannot hold the weight image (data/weights.bin, 3.0 MiB) and the scratch (1 MiB): together 4.0 MiB; give the board\'s real DDR size, or a smaller model',
    );
  });

  it('the main job refuses a model whose weights exceed the configured DDR', () => {
    const dir = tempDir('ddr');
    // D 256, MLP 512, 2 blocks: about 4 x 256 x 256 + 2 x 256 x 512 int16 weights per block, > 1 MiB in all.
    const file = writeProject(dir, smallSpec({ embedDim: 256, heads: 4, mlpRatio: 2 }), { name: 'wide', pe: 8, simd: 8 });
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
    cfg.board.ddr.sizeMiB = 1;
    fs.writeFileSync(file, JSON.stringify(cfg));
    const msg = userErrorMessage(() => runKernelStage(loadProject(file)));
    expect(msg).toMatch(/: \/board\/ddr\/sizeMiB: 1 MiB of DDR cannot hold the weight image \(data\/weights\.bin, [\d.]+ MiB\) and the scratch \([\d.]+ (MiB|bytes)\): together [\d.]+ MiB;/);
    expect(msg.startsWith(path.relative(process.cwd(), file)) || msg.startsWith(file)).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
