/**
 * Noise calibration against image calibration on m3vit-tiny (the default config, seeded
 * weights): a few natural-ish PNG images (two colour gradients, a bright blob and pixel noise,
 * 8-bit) are written, the activation formats are calibrated once on the config's seeded
 * N(0,1) images and once on the first `calibrate` PNGs (ImageNet normalisation, statistic
 * "max"), and every PNG runs through both int plans and the float reference for every task:
 * int-vs-float error and saturation per activation site, per plan. A measurement, not a test.
 *
 * Run from the package folder (slow: about 2 x 6 float calibration runs, then per image and
 * task one float and two int runs):
 *   npx tsc --outDir dist/bench --target ES2022 --module commonjs --esModuleInterop --skipLibCheck --resolveJsonModule bench/calibration-images.ts
 *   node dist/bench/bench/calibration-images.js [images=4] [calibrate=3]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readModelInput } from '../generator/io/input';
import { activationSites } from '../generator/numerics/plan';
import { loadProject, type LoadedProject } from '../generator/project';
import { compareRuns, errorOf, type LayerError } from '../generator/reference/compare';
import { runFloat } from '../generator/reference/float';
import { runIntOnImage } from '../generator/reference/int';
import { prepareModel, type PreparedModel } from '../generator/reference/prepare';
import { encodePng, naturalish } from '../test/helpers/images';

interface SiteTotals {
  saturated: number;
  worstRelL2: number;
}

interface PlanResult {
  name: string;
  prepared: PreparedModel;
  sites: Record<string, SiteTotals>;
  rows: string[];
}

const seconds = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(0)} s`;

function evaluate(project: LoadedProject, plan: PlanResult, image: ReturnType<typeof readModelInput>, label: string, task: string, float: ReturnType<typeof runFloat>): void {
  const q = runIntOnImage(project.ir, plan.prepared.plan, plan.prepared.quant, task, image, { record: true });
  const layers: LayerError[] = compareRuns(float, q);
  let saturated = 0;
  let sitesSaturating = 0;
  let flips = 0;
  for (const l of layers) {
    if (l.gateMismatch !== undefined) flips += l.gateMismatch;
    const s = (plan.sites[l.name] ??= { saturated: 0, worstRelL2: 0 });
    s.saturated += l.saturated;
    s.worstRelL2 = Math.max(s.worstRelL2, l.relL2);
  }
  for (const c of Object.values(q.counts)) {
    saturated += c.saturated;
    if (c.saturated > 0) sitesSaturating++;
  }
  const out = errorOf(q.output.data, q.output.frac, float.output.data);
  plan.rows.push(`| ${plan.name} | ${label} | ${task} | ${out.relL2.toExponential(2)} | ${saturated} | ${sitesSaturating} | ${flips} |`);
}

function main(): void {
  const nImages = Number(process.argv[2] ?? 4);
  const nCal = Number(process.argv[3] ?? 3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-bench-cal-'));
  const config = path.join(process.cwd(), 'zcu104.json');
  const noise = loadProject(config);
  const { imageW, imageH } = noise.ir.dims;
  const files = Array.from({ length: nImages }, (_, i) => {
    const f = path.join(dir, `scene${i}.png`);
    fs.writeFileSync(f, encodePng(naturalish(imageW, imageH, 1000 + i)));
    return f;
  });
  const images = loadProject(config);
  images.config.numerics.calibrationData = files.slice(0, nCal);
  images.config.numerics.calibrationStatistic = { kind: 'max' };
  console.log(`m3vit-tiny, seeded weights; ${nImages} PNG images ${imageW}x${imageH} in ${dir}, the first ${nCal} also the image calibration set; ImageNet normalisation`);

  const plans: PlanResult[] = [];
  for (const [name, project] of [['noise', noise], ['images', images]] as const) {
    const t0 = Date.now();
    plans.push({ name, prepared: prepareModel(project), sites: {}, rows: [] });
    console.log(`prepared (${name} calibration): ${seconds(t0)}`);
  }
  const inputs = files.map((f) => readModelInput(f, noise.ir.dims, noise.config.preprocess));
  inputs.forEach((image, i) => {
    const label = `scene${i}${i < nCal ? ' (cal)' : ' (held out)'}`;
    for (const t of noise.ir.tasks) {
      const t0 = Date.now();
      // Both plans share the weights (seeded, same seed): one float run serves both.
      const float = runFloat(noise.ir, plans[0].prepared.weights, t.name, image, { record: true });
      for (const p of plans) evaluate(noise, p, image, label, t.name, float);
      console.log(`${label}, ${t.name}: ${seconds(t0)}`);
    }
  });

  console.log('\n| calibration | image | task | output rel L2 | saturated values | layers saturating | tokens routed differently |');
  console.log('|---|---|---|---|---|---|---|');
  for (const p of plans) for (const r of p.rows) console.log(r);

  const [n, im] = plans;
  const sites = activationSites(noise.ir).map((s) => s.name);
  const overshoot = sites.filter((s) => im.prepared.calibration.sites[s].maxAbs > n.prepared.calibration.sites[s].maxAbs);
  console.log(`\nsites where the images reach beyond the noise-calibrated max |x|: ${overshoot.length} of ${sites.length}`);
  console.log('\nper site (saturations summed over all images and tasks; rel L2 the worst over them):');
  console.log('| site | noise max | image max | ratio | noise frac | image frac | noise saturated | image saturated | noise worst rel L2 | image worst rel L2 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const s of sites) {
    const a = n.prepared.calibration.sites[s].maxAbs;
    const b = im.prepared.calibration.sites[s].maxAbs;
    const sn = n.sites[s] ?? { saturated: 0, worstRelL2: 0 };
    const si = im.sites[s] ?? { saturated: 0, worstRelL2: 0 };
    console.log(
      `| ${s} | ${a.toPrecision(4)} | ${b.toPrecision(4)} | ${(b / a).toFixed(2)} | ${n.prepared.plan.act[s]} | ${im.prepared.plan.act[s]} | ${sn.saturated} | ${si.saturated} | ${sn.worstRelL2.toExponential(2)} | ${si.worstRelL2.toExponential(2)} |`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main();
