/**
 * The README's figures against the code: the fit-check example is the estimator's current
 * output for the config the README builds, the paper configs' latency rows are its current
 * output for configs/, and every timing claim stands in the table that bench/readme-timings.ts
 * measures (one row per command), not in prose that goes stale.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BEGIN, END } from '../bench/readme-timings';
import { COMMANDS } from '../generator/cli';
import { estimate } from '../generator/estimate/estimate';
import { runEstimateStage } from '../generator/estimate/stage';
import { loadProject } from '../generator/project';
import { UserError } from '../generator/util/errors';

const ROOT = path.resolve(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The indented block that starts with the line `first` (4 spaces of indent removed). */
function block(first: string): string {
  const lines = README.split('\n');
  const i = lines.findIndex((l) => l === `    ${first}`);
  if (i < 0) throw new Error(`README.md has no block starting "${first}"`);
  const out: string[] = [];
  for (let j = i; j < lines.length && lines[j].startsWith('    '); j++) out.push(lines[j].slice(4));
  return out.join('\n');
}

describe('README.md', () => {
  it('the fit-check example is what the current estimator prints for the config the README makes', () => {
    const sed = "sed 's|\"pe\": 32|\"pe\": 64|' zcu104.json > big.json";
    expect(README).toContain(`    ${sed}\n    npx m3vit-gen --config big.json\n`);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-readme-'));
    try {
      const cfg = path.join(tmp, 'big.json');
      const text = fs.readFileSync(path.join(ROOT, 'zcu104.json'), 'utf8');
      expect(text.split('"pe": 32').length).toBe(2);
      // The sed's edit, with the model path made absolute because the config is not next to models/.
      const edited = text.replace('"pe": 32', '"pe": 64').replace('"models/m3vit-tiny.ts"', JSON.stringify(path.join(ROOT, 'models', 'm3vit-tiny.ts')));
      fs.writeFileSync(cfg, edited.replace(/"\$schema": "[^"]*",\n\s*/, ''));
      let message = '';
      try {
        runEstimateStage(loadProject(cfg), false);
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        message = (e as Error).message;
      }
      expect(message.split(cfg).join('big.json')).toBe(block('big.json: the design does not fit zcu104 (estimate)'));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("the paper configs' backbone and head rows are what the current estimator gives them", () => {
    const configs = ['configs/zcu104-vit-s-pascal.json', 'configs/zcu104-vit-s-nyud.json'];
    const expected = configs.flatMap((cfg) => {
      const p = loadProject(path.join(ROOT, cfg));
      const est = estimate(p.ir, p.tasks, p.config);
      return est.tasks.map((t) => `| \`${cfg}\` | ${t} | ${est.per_task[t].backbone_ms.toFixed(1)} | ${est.per_task[t].head_ms.toFixed(1)} |`);
    });
    expect(README.split('\n').filter((l) => l.startsWith('| `configs/zcu104-vit-s-'))).toEqual(expected);
  });

  const a = README.indexOf(BEGIN);
  const b = README.indexOf(END);

  it('has one measured timings table with a row for the first command, the main job, the csim and every command', () => {
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a);
    const rows = README.slice(a, b).split('\n').filter((l) => /^\| `/.test(l));
    for (const r of rows) expect(r).toMatch(/\| \d+\.\d s \| \d+\.\d s \|$/);
    const shown = rows.map((r) => /^\| `([^`]+)`/.exec(r)![1]);
    // `report` reads csynth output, which needs Vitis HLS: not timed here.
    const wanted = ['make generate (fresh clone)', 'm3vit-gen --config zcu104.json', 'make -C hls-out/<name> csim', ...COMMANDS.filter((c) => c !== 'report').map((c) => `m3vit-gen ${c}`)];
    for (const w of wanted) expect(shown).toContain(w);
  });

  it('states no timing outside that table', () => {
    const prose = README.slice(0, a) + README.slice(b);
    const claims = prose.match(/\b\d+(\.\d+)? ?(s|ms|sec|seconds|min|minutes)\b|\b(a few|several|about a) (seconds?|minutes?)\b/g) ?? [];
    expect(claims).toEqual([]);
  });
});
