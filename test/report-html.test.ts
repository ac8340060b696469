/**
 * report.html in a real browser: headless Chromium renders the report of m3vit-tiny and
 * of ViT-S PASCAL; the test checks that every chart drew shapes of non-zero size (measured
 * by the browser's layout, getBBox, on an instrumented copy dumped with --dump-dom), and
 * takes a screenshot whose pixels must contain the charts' bar colours.
 *
 * Chromium is the Debian package `chromium` (/usr/bin/chromium, or $CHROMIUM). CI installs
 * it (.ci/run); in CI (CI=true) its absence fails the test, elsewhere it is reported loudly
 * and the browser tests are skipped.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { estimate } from '../generator/estimate/estimate';
import { renderReportHtml } from '../generator/estimate/report';
import type { BuildConfig } from '../generator/config/types';
import { loadProject } from '../generator/project';
import { buildIR } from '../generator/ir/build';
import { loadModel } from '../generator/model/load';
import { figure } from './helpers/figures';

const ROOT = path.resolve(__dirname, '..');

function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((c): c is string => !!c);
  return candidates.find((c) => fs.existsSync(c));
}
const CHROMIUM = findChromium();
const IN_CI = process.env.CI === 'true' || process.env.M3VIT_REQUIRE_CHROMIUM === '1';

if (!CHROMIUM) {
  const banner = '#'.repeat(78);
  console.warn(
    `${banner}\n# report-html.test.ts: Chromium NOT FOUND (/usr/bin/chromium, $CHROMIUM).\n` +
      `# report.html was NOT checked in a browser. Install it: apt-get install chromium\n${banner}`,
  );
}

function chromium(args: string[], userDataDir: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(
    CHROMIUM!,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${userDataDir}`,
      ...args,
    ],
    { encoding: 'utf8', timeout: 180000, maxBuffer: 64 * 1024 * 1024 },
  );
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
}

/** Measures every shape of every chart with the browser's layout (getBBox) and writes the
 * result into the page, for --dump-dom. Test-only: the shipped report has no script. */
const PROBE = `<script>
(function () {
  var out = [];
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var r = svg.getBoundingClientRect();
    var shapes = { rect: 0, line: 0, path: 0, circle: 0, text: 0 };
    ['rect', 'line', 'path', 'circle', 'text'].forEach(function (tag) {
      svg.querySelectorAll(tag).forEach(function (el) {
        var b = el.getBBox();
        if (b.width > 0 || b.height > 0) shapes[tag]++;
      });
    });
    out.push({ id: svg.getAttribute('data-chart'), width: r.width, height: r.height, shapes: shapes });
  });
  var pre = document.createElement('pre');
  pre.id = 'm3vit-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
</body>`;

interface Probe {
  id: string;
  width: number;
  height: number;
  shapes: Record<'rect' | 'line' | 'path' | 'circle' | 'text', number>;
}

/** Minimal PNG decoder (8-bit RGB/RGBA, non-interlaced, as Chromium writes screenshots). */
function decodePng(buf: Buffer): { width: number; height: number; channels: number; pixels: Buffer } {
  expect(buf.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))).toBe(true);
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const bitDepth = data[8];
      const colorType = data[9];
      expect(bitDepth).toBe(8);
      expect(data[12]).toBe(0); // no interlace
      channels = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
      expect(channels).toBeGreaterThan(0);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

function countColour(png: ReturnType<typeof decodePng>, hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < png.pixels.length; i += png.channels) {
    if (Math.abs(png.pixels[i] - r) <= 2 && Math.abs(png.pixels[i + 1] - g) <= 2 && Math.abs(png.pixels[i + 2] - b) <= 2) n++;
  }
  return n;
}

describe('report.html renders in headless Chromium', () => {
  if (!CHROMIUM) {
    if (IN_CI) {
      it('needs Chromium in CI (.ci/run installs the Debian package chromium)', () => {
        throw new Error('Chromium not found in CI: /usr/bin/chromium is missing; .ci/run should have installed it');
      });
    } else {
      it.skip('Chromium not installed: report.html NOT checked in a browser (apt-get install chromium)', () => undefined);
    }
    return;
  }

  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-report-html-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const reports: Array<{ name: string; html: () => string; charts: string[] }> = [
    {
      name: 'm3vit-tiny',
      html: () => {
        const p = loadProject(path.join(ROOT, 'zcu104.json'));
        return renderReportHtml(estimate(p.ir, p.tasks, p.config));
      },
      charts: ['latency', 'resources', 'roofline', 'reordering'],
    },
    {
      name: 'm3vit-small-pascal',
      html: () => {
        const p = loadProject(path.join(ROOT, 'zcu104.json'));
        const model = loadModel(path.join(ROOT, 'models/m3vit-small-pascal.ts'));
        const ir = buildIR(model.spec);
        const c: BuildConfig = { ...p.config, name: 'm3vit_small_pascal' };
        return renderReportHtml(estimate(ir, ir.tasks, c));
      },
      charts: ['latency', 'resources', 'roofline', 'reordering'],
    },
  ];

  for (const r of reports) {
    it(`${r.name}: self-contained, every chart drew non-empty shapes (browser layout), screenshot shows them`, () => {
      const html = r.html();
      // Self-contained: no script, no stylesheet or image fetched, no URL but the SVG namespace.
      expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
      expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:\/\//);

      const file = path.join(tmp, `${r.name}.html`);
      fs.writeFileSync(file, html);
      const probeFile = path.join(tmp, `${r.name}.probe.html`);
      fs.writeFileSync(probeFile, html.replace('</body>', PROBE));

      const dump = chromium(['--dump-dom', `file://${probeFile}`], path.join(tmp, `ud-dom-${r.name}`));
      const m = /<pre id="m3vit-probe">([^<]*)<\/pre>/.exec(dump.stdout);
      if (!m) throw new Error(`no probe output from chromium --dump-dom (status ${dump.status}):\n${dump.stderr.slice(-2000)}`);
      const probes = JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Probe[];
      figure(`${r.name}: charts measured by Chromium: ${probes.map((p) => `${p.id} ${p.width}x${p.height} ${JSON.stringify(p.shapes)}`).join('; ')}`);
      expect(probes.map((p) => p.id)).toEqual(r.charts);
      for (const p of probes) {
        expect(p.width).toBeGreaterThan(0);
        expect(p.height).toBeGreaterThan(0);
        expect(p.shapes.rect + p.shapes.path + p.shapes.circle).toBeGreaterThan(0);
        expect(p.shapes.line + p.shapes.path).toBeGreaterThan(0);
        expect(p.shapes.text).toBeGreaterThan(0);
      }
      const byId = Object.fromEntries(probes.map((p) => [p.id, p]));
      expect(byId.latency.shapes.rect).toBeGreaterThan(10); // one segment per layer
      expect(byId.resources.shapes.rect).toBeGreaterThanOrEqual(5); // one bar per resource class
      expect(byId.roofline.shapes.path).toBeGreaterThanOrEqual(1); // the roof
      expect(byId.roofline.shapes.circle).toBeGreaterThan(3); // layers
      expect(byId.reordering.shapes.rect).toBeGreaterThanOrEqual(6); // memory and traffic bars

      const png = path.join(tmp, `${r.name}.png`);
      const shot = chromium(['--hide-scrollbars', `--screenshot=${png}`, '--window-size=1200,2000', `file://${file}`], path.join(tmp, `ud-shot-${r.name}`));
      if (!fs.existsSync(png)) throw new Error(`no screenshot (status ${shot.status}):\n${shot.stderr.slice(-2000)}`);
      const img = decodePng(fs.readFileSync(png));
      expect([img.width, img.height]).toEqual([1200, 2000]);
      // The first 2000 px hold the latency and resources charts: their blue bars (#0072B2)
      // and the conv / expert-major green (#009E73) must be on screen.
      const blue = countColour(img, '#0072B2');
      const green = countColour(img, '#009E73');
      figure(`${r.name}: screenshot ${png}: ${blue} px of #0072B2, ${green} px of #009E73`);
      expect(blue).toBeGreaterThan(2000);
      expect(green).toBeGreaterThan(200);
    });
  }
});
