/**
 * The paper's configurations shipped in configs/: M³ViT's ViT-S on PASCAL-Context and on
 * NYUD-v2 on the ZCU104. Loaded through the real config and project loaders, estimated, never
 * generated (no golden vectors: that is bench/csim-vit-s.sh). Whether they fit the board and
 * how fast they run are goals, not facts yet: nothing here asserts either.
 */
import * as path from 'path';
import { loadConfig } from '../generator/config/load';
import { estimate } from '../generator/estimate/estimate';
import { loadProject } from '../generator/project';

const ROOT = path.resolve(__dirname, '..');
const DEFAULT = loadConfig(path.join(ROOT, 'zcu104.json'));

const PAPER = [
  { file: 'zcu104-vit-s-pascal.json', name: 'm3vit_small_pascal_zcu104', model: 'm3vit-small-pascal.ts', tasks: ['semseg', 'human_parts', 'saliency', 'normals', 'edge'] },
  { file: 'zcu104-vit-s-nyud.json', name: 'm3vit_small_nyud_zcu104', model: 'm3vit-small-nyud.ts', tasks: ['semseg', 'depth'] },
];

describe.each(PAPER)('configs/$file', ({ file, name, model, tasks }) => {
  const configFile = path.join(ROOT, 'configs', file);

  it('validates, names the ZCU104 and the ViT-S model, and outputs into the repository hls-out/', () => {
    const c = loadConfig(configFile);
    expect(c.name).toBe(name);
    expect(c.modelFile).toBe(path.join(ROOT, 'models', model));
    expect(c.outDir).toBe(path.join(ROOT, 'hls-out', name));
    expect(c.board).toEqual(DEFAULT.board);
    expect(c.board.part).toBe('xczu7ev-ffvc1156-2-e');
    expect(c.board.boardPart).toBe('xilinx.com:zcu104:part0:1.1');
    expect(c.parallelism).toEqual({ pe: 32, simd: 32 });
    // Everything but the name, model and output is the default config's.
    expect({ ...c, configFile: '', name: '', modelFile: '', outDir: '' }).toEqual({ ...DEFAULT, configFile: '', name: '', modelFile: '', outDir: '' });
  });

  it("builds every task the model declares, and estimate() gives each a finite positive backbone latency", () => {
    const p = loadProject(configFile);
    expect(p.model.spec.tasks.map((t) => t.name)).toEqual(tasks);
    expect(p.tasks.map((t) => t.name)).toEqual(tasks);
    const est = estimate(p.ir, p.tasks, p.config);
    expect(est.tasks).toEqual(tasks);
    for (const t of tasks) {
      const ms = est.per_task[t].backbone_ms;
      expect(Number.isFinite(ms)).toBe(true);
      expect(ms).toBeGreaterThan(0);
    }
  });
});
