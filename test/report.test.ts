/**
 * Report parsing (csynth.xml, the cosim report, Vivado utilisation and timing) on files
 * written by hand from the documented layouts (test/fixtures/csynth, test/fixtures/vivado),
 * and `m3vit-gen report` on a project folder. Expected values are read off the fixtures.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseCsynthXml, ReportFormatError } from '../generator/report/csynth';
import { parseCosimReport } from '../generator/report/cosim';
import { parseTimingSummary, parseUtilization } from '../generator/report/vivado';
import { parseBoxTables, parseDashTable } from '../generator/report/tables';
import { collectReport, formatReport } from '../generator/report/report';
import { reportCommand } from '../generator/report/command';
import { UserError } from '../generator/util/errors';
import { estimateJson, estimateProject } from '../generator/estimate/stage';
import { RESOURCE_CLASSES } from '../generator/config/types';
import { writeFlowProject, zcu104Project } from './tcl-helpers';

const FIX = path.join(__dirname, 'fixtures');
const read = (rel: string): string => fs.readFileSync(path.join(FIX, rel), 'utf8');

describe('csynth.xml', () => {
  test('Vitis HLS: latency, interval, clocks, resources and availability by tag (in any order)', () => {
    const r = parseCsynthXml(read('csynth/vitis-hls-2023.2.xml'));
    expect(r).toEqual({
      toolVersion: '2023.2',
      part: 'xczu7ev-ffvc1156-2-e',
      top: 'm3vit_top',
      targetClockNs: 3.33,
      clockUncertaintyNs: 0.9,
      estimatedClockNs: 2.412,
      latency: { best: 9123456, average: 10500000, worst: 12345678 },
      interval: { min: 9123457, max: 12345679 },
      resources: { LUT: 98765, FF: 123456, DSP: 1024, BRAM_18K: 310, URAM: 24 },
      available: { LUT: 230400, FF: 460800, DSP: 1728, BRAM_18K: 624, URAM: 96 },
    });
  });

  test('Vivado HLS: the DSP count under the older DSP48E tag; no URAM, no average case', () => {
    const r = parseCsynthXml(read('csynth/vivado-hls-2019.2.xml'));
    expect(r.resources).toEqual({ LUT: 9012, FF: 5678, DSP: 48, BRAM_18K: 12 });
    expect(r.available.DSP).toBe(1728);
    expect(r.latency).toEqual({ best: 2000, average: undefined, worst: 2600 });
    expect(r.targetClockNs).toBe(5);
  });

  test('"undef" and "?" latencies are unknown, not numbers', () => {
    const r = parseCsynthXml(read('csynth/undef-latency.xml'));
    expect(r.latency).toEqual({ best: 1500, average: undefined, worst: undefined });
    expect(r.interval).toEqual({ min: 1501, max: undefined });
  });

  test('not a csynth report: a clear error', () => {
    expect(() => parseCsynthXml('<profile><Other/></profile>')).toThrow(ReportFormatError);
    expect(() => parseCsynthXml('<profile><PerformanceEstimates></profile>')).toThrow(/not well-formed XML/);
    expect(() => parseCsynthXml('<root/>')).toThrow(/root element is <root>/);
  });
});

describe('text tables', () => {
  test('multi-line box headers join the cells above each column', () => {
    const [t] = parseBoxTables(read('vivado/cosim.rpt'));
    expect(t.columns).toEqual([
      'RTL',
      'Status',
      'Latency(Clock Cycles) min',
      'Latency(Clock Cycles) avg',
      'Latency(Clock Cycles) max',
      'Interval(Clock Cycles) min',
      'Interval(Clock Cycles) avg',
      'Interval(Clock Cycles) max',
      'Total Execution Time (Clock Cycles)',
    ]);
    expect(t.rows[1].Status).toBe('Pass');
  });

  test('dash tables by header, values with spaces in braces kept whole', () => {
    const t = parseDashTable(read('vivado/timing-summary.rpt'), 'Frequency(MHz)')!;
    expect(t.columns).toEqual(['Clock', 'Waveform(ns)', 'Period(ns)', 'Frequency(MHz)']);
    expect(t.rows).toEqual([{ Clock: 'clk_pl_0', 'Waveform(ns)': '{0.000 1.667}', 'Period(ns)': '3.333', 'Frequency(MHz)': '300.030' }]);
  });
});

describe('cosim and Vivado reports', () => {
  test('cosim: the simulated RTL row', () => {
    const rows = parseCosimReport(read('vivado/cosim.rpt'));
    expect(rows.find((r) => r.rtl === 'Verilog')).toEqual({
      rtl: 'Verilog',
      status: 'Pass',
      latency: { min: 9200000, avg: 10100000, max: 11000000 },
      interval: { min: 9200001, avg: 10100001, max: 11000001 },
      totalCycles: 30300003,
    });
    expect(rows.find((r) => r.rtl === 'VHDL')!.latency).toEqual({ min: undefined, avg: undefined, max: undefined });
  });

  test('utilisation, 2023.2 layout (with Prohibited): BRAM tiles become BRAM_18K', () => {
    expect(parseUtilization(read('vivado/utilization-2023.2.rpt'))).toEqual({
      LUT: { used: 104321, available: 230400 },
      FF: { used: 130002, available: 460800 },
      BRAM_18K: { used: 321, available: 624 },
      URAM: { used: 24, available: 96 },
      DSP: { used: 1030, available: 1728 },
    });
  });

  test('utilisation, older layout (no Prohibited column, starred site types)', () => {
    expect(parseUtilization(read('vivado/utilization-2019.1.rpt'))).toEqual({
      LUT: { used: 50000, available: 230400 },
      FF: { used: 60000, available: 460800 },
      BRAM_18K: { used: 80, available: 624 },
      URAM: { used: 0, available: 96 },
      DSP: { used: 200, available: 1728 },
    });
  });

  test('timing summary: WNS/TNS/WHS and the clocks', () => {
    expect(parseTimingSummary(read('vivado/timing-summary.rpt'))).toEqual({
      wnsNs: -0.052,
      tnsNs: -1.337,
      whsNs: 0.011,
      thsNs: 0,
      failingSetupEndpoints: 41,
      clocks: [{ name: 'clk_pl_0', periodNs: 3.333, freqMHz: 300.03 }],
    });
  });
});

describe('m3vit-gen report', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const p = zcu104Project();
  function projectWith(files: Record<string, string>): string {
    const { dir, flow } = writeFlowProject(p);
    dirs.push(dir);
    const where: Record<string, string> = {
      csynth: flow.hls.csynthXml,
      cosim: flow.hls.cosimReport,
      util: flow.vivado.utilizationReport,
      timing: flow.vivado.timingReport,
      estimate: 'report/estimate.json',
    };
    for (const [k, text] of Object.entries(files)) {
      const dest = path.join(dir, where[k]);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, text);
    }
    return dir;
  }
  const estimate = JSON.stringify({
    resources: {
      LUT: { used: 90000, available: 230400, utilization: 0.39 },
      FF: { used: 100000, available: 460800, utilization: 0.22 },
      DSP: { used: 1024, available: 1728, utilization: 0.59 },
      BRAM_18K: { used: 300, available: 624, utilization: 0.48 },
      URAM: { used: 30, available: 96, utilization: 0.31 },
    },
    latency_ms: { semseg: 38.5, normals: 37.25 },
  });

  test('csynth against the board budget, with the estimate side by side and the ratios', () => {
    const dir = projectWith({ csynth: read('csynth/vitis-hls-2023.2.xml'), estimate });
    const d = collectReport(dir);
    const text = formatReport(d);
    expect(text).toMatch(/^m3vit_tiny_zcu104: zcu104 \(xczu7ev-ffvc1156-2-e\), clock 300 MHz/);
    expect(text).toMatch(/clock {5}target 3\.330 ns, estimated 2\.412 ns \(414\.6 MHz\), uncertainty 0\.900 ns: met/);
    // 12,345,678 cycles x 3.33 ns = 41.111 ms
    expect(text).toMatch(/worst 12,345,678 cycles \(41\.111 ms\)/);
    const lut = text.split('\n').find((l) => /^\s+LUT\s/.test(l))!;
    // budget, csynth, util, estimate, est/csynth = 90000 / 98765
    expect(lut.trim().split(/\s+/)).toEqual(['LUT', '230,400', '98,765', '42.9%', '90,000', (90000 / 98765).toFixed(2)]);
    const seg = text.split('\n').find((l) => /^\s+semseg\s/.test(l))!;
    expect(seg.trim().split(/\s+/)).toEqual(['semseg', '38.500', '30.381..41.111', (38.5 / 41.111).toFixed(2)]);
  });

  test('the estimator\'s own estimate.json (generator/estimate) is read: its figures and ratios are printed', () => {
    const est = estimateProject(p);
    const dir = projectWith({ csynth: read('csynth/vitis-hls-2023.2.xml'), estimate: estimateJson(est) });
    const d = collectReport(dir);
    for (const cls of RESOURCE_CLASSES) expect(d.estimate!.resources[cls]).toBe(est.resources[cls].used);
    expect(Object.keys(d.estimate!.latencyMs).sort()).toEqual([...est.tasks].sort());
    const text = formatReport(d);
    const dsp = text.split('\n').find((l) => /^\s+DSP\s/.test(l))!.trim().split(/\s+/);
    expect(dsp[4]).toBe(est.resources.DSP.used.toLocaleString('en-US'));
    expect(dsp[5]).toBe((est.resources.DSP.used / 1024).toFixed(2));
    for (const t of est.tasks) {
      const row = text.split('\n').find((l) => new RegExp(`^\\s+${t}\\s`).test(l))!.trim().split(/\s+/);
      expect(Number(row[1])).toBeCloseTo(est.latency_ms[t], 2); // estimate.json keeps 4 decimals, the table prints 3: two roundings
    }
  });

  test('with cosim and Vivado reports: implemented resources, timing not met, cosim latency', () => {
    const dir = projectWith({
      csynth: read('csynth/vitis-hls-2023.2.xml'),
      cosim: read('vivado/cosim.rpt'),
      util: read('vivado/utilization-2023.2.rpt'),
      timing: read('vivado/timing-summary.rpt'),
    });
    const text = reportCommand(dir, false);
    expect(text).toMatch(/C\/RTL co-simulation \(.*m3vit_top_cosim\.rpt\): Verilog Pass/);
    expect(text).toMatch(/latency {3}min 9,200,000, avg 10,100,000, max 11,000,000 cycles \(avg 33\.633 ms\)/);
    expect(text).toMatch(/Vivado implementation \(build\/reports\/vivado_timing_summary\.rpt\): timing NOT met/);
    expect(text).toMatch(/setup WNS -0\.052 ns, TNS -1\.337 ns \(41 failing endpoints\)/);
    expect(text).toMatch(/clock clk_pl_0: 3\.333 ns, 300\.030 MHz/);
    const bram = text.split('\n').find((l) => /^\s+BRAM_18K\s/.test(l))!;
    expect(bram.trim().split(/\s+/)).toEqual(['BRAM_18K', '624', '310', '49.7%', '321', '51.4%']);
    const json = JSON.parse(reportCommand(dir, true));
    expect(json.utilization.DSP).toEqual({ used: 1030, available: 1728 });
  });

  test('an estimated clock beyond target minus uncertainty is flagged; unknown latency is "?"', () => {
    const text = reportCommand(projectWith({ csynth: read('csynth/undef-latency.xml') }), false);
    expect(text).toMatch(/estimated 3\.012 ns .*: NOT met \(after the uncertainty\)/);
    expect(text).toMatch(/worst \? cycles \(\? ms\)/);
    // 700 BRAM_18K against a budget of 624
    expect(text).toMatch(/over the budget: BRAM_18K/);
  });

  test('an older csynth (DSP48E) through the whole command', () => {
    const dir = projectWith({ csynth: read('csynth/vivado-hls-2019.2.xml') });
    const dsp = reportCommand(dir, false).split('\n').find((l) => /^\s+DSP\s/.test(l))!;
    expect(dsp.trim().split(/\s+/)).toEqual(['DSP', '1,728', '48', '2.8%']);
  });

  test('estimate only: printed, and the missing synthesis is named', () => {
    const dir = projectWith({ estimate });
    const text = reportCommand(dir, false);
    expect(text).toMatch(/No C-synthesis report yet: run `make csynth`/);
    expect(text).toMatch(/semseg\s+38\.500/);
  });

  test('nothing to report, or not a folder: one message, a UserError', () => {
    const dir = projectWith({});
    expect(() => collectReport(dir)).toThrow(UserError);
    expect(() => collectReport(dir)).toThrow(/no reports yet: .*csynth\.xml.*run `make csynth`/);
    expect(() => collectReport(path.join(dir, 'nope'))).toThrow(/is not a folder/);
  });

  /** The UserError message `reportCommand` throws for the project folder. */
  function refused(dir: string): string {
    try {
      reportCommand(dir, false);
    } catch (e) {
      if (e instanceof UserError) return e.message;
      throw e;
    }
    throw new Error('the report was accepted');
  }
  /** Where the project's tcl/flow.json says the tool reports are. */
  const flowOf = (dir: string): { hls: { csynthXml: string }; vivado: { utilizationReport: string; timingReport: string } } =>
    JSON.parse(fs.readFileSync(path.join(dir, 'tcl', 'flow.json'), 'utf8'));

  test.each([
    ['a negative estimated clock (used to print "-303.0 MHz ... met")', '<EstimatedClockPeriod>2.412<', '<EstimatedClockPeriod>-3.300<', '<PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod>: "-3.300" is not a clock period in ns (> 0, at most 1000)'],
    ['a negative LUT count', '<LUT>98765<', '<LUT>-100<', '<AreaEstimates/Resources/LUT>: "-100" is not a resource count (a whole number, 0 to 100,000,000)'],
    ['a count that is not a number', '<FF>123456<', '<FF>lots<', '<AreaEstimates/Resources/FF>: "lots" is not a resource count (a whole number, 0 to 100,000,000)'],
    ['no FF available (used to print "Infinity%")', '<FF>460800<', '<FF>0<', '<AreaEstimates/AvailableResources/FF>: "0" is not an available resource count (a whole number, 1 to 100,000,000)'],
  ])('csynth.xml with %s: exit-2 message naming the file and the tag', (_what, from, to, problem) => {
    const xml = read('csynth/vitis-hls-2023.2.xml');
    expect(xml).toContain(from);
    const dir = projectWith({ csynth: xml.replace(from, to) });
    expect(refused(dir)).toBe(`${path.join(dir, flowOf(dir).hls.csynthXml)}: ${problem}`);
  });

  test('estimate.json of the wrong shape: every problem, naming the file and the field', () => {
    const bad = JSON.stringify({ tasks: ['semseg'], resources: { LUT: { used: -5 }, DSP: { used: 'many' } }, latency_ms: [38.5, 37.25] });
    const dir = projectWith({ estimate: bad });
    expect(refused(dir)).toBe(
      [
        `${path.join(dir, 'report/estimate.json')}: not an estimate the estimator writes (3 problems)`,
        '  /resources/LUT/used: -5 is not a resource count (a whole number, 0 to 100,000,000)',
        '  /resources/DSP/used: "many" is not a resource count (a whole number, 0 to 100,000,000)',
        '  /latency_ms: must be an object of task name -> ms (got an array)',
      ].join('\n'),
    );
  });

  test('estimate.json naming a task it does not list, or a negative latency', () => {
    const dir = projectWith({ estimate: JSON.stringify({ tasks: ['semseg'], latency_ms: { semseg: -1, normals: 3 } }) });
    expect(refused(dir)).toBe(
      [
        `${path.join(dir, 'report/estimate.json')}: not an estimate the estimator writes (2 problems)`,
        '  /latency_ms/semseg: -1 is not a latency in ms (a number >= 0, below 1e9)',
        '  /latency_ms/normals: not one of the estimate\'s tasks (semseg)',
      ].join('\n'),
    );
  });

  test('an unreadable utilisation report is said (exit 2), not shown as "?"', () => {
    const dir = projectWith({ csynth: read('csynth/vitis-hls-2023.2.xml'), util: 'Copyright 1986-2023 Xilinx\n(the run was killed here)\n' });
    expect(refused(dir)).toBe(
      `${path.join(dir, flowOf(dir).vivado.utilizationReport)}: no utilisation table (Site Type | Used | ... | Available) with LUT, register, Block RAM, URAM or DSP rows: not a report_utilization output, or cut short`,
    );
  });

  test('a utilisation row or a timing clock that holds no number', () => {
    const util = read('vivado/utilization-2023.2.rpt').replace('| CLB LUTs                   | 104321 |', '| CLB LUTs                   |  -1.5x |');
    let dir = projectWith({ util });
    expect(refused(dir)).toBe(`${path.join(dir, flowOf(dir).vivado.utilizationReport)}: "CLB LUTs" row, Used column: "-1.5x" is not a used count (a number, 0 to 100,000,000)`);
    const timing = read('vivado/timing-summary.rpt').replace('3.333           300.030', '0.000           300.030');
    dir = projectWith({ csynth: read('csynth/vitis-hls-2023.2.xml'), timing });
    expect(refused(dir)).toBe(`${path.join(dir, flowOf(dir).vivado.timingReport)}: Clock Summary, clock clk_pl_0, Period(ns): "0.000" is not a clock period in ns (> 0, at most 1000)`);
  });

  test('a bare HLS project folder (no tcl/flow.json): its csynth.xml is found and read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-bare-'));
    dirs.push(dir);
    const rep = path.join(dir, 'proj/solution1/syn/report');
    fs.mkdirSync(rep, { recursive: true });
    fs.writeFileSync(path.join(rep, 'csynth.xml'), read('csynth/vivado-hls-2019.2.xml'));
    const text = reportCommand(dir, false);
    expect(text).toMatch(/clock 200 MHz/);
    expect(text).toMatch(/worst 2,600 cycles \(0\.013 ms\)/);
  });
});

describe('the report command line', () => {
  /** Runs the CLI in-process; returns the exit code and what it printed. */
  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const { main } = await import('../generator/cli');
    const out: string[] = [];
    const err: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
    try {
      const code = await main(args);
      return { code, out: out.join('\n'), err: err.join('') };
    } finally {
      log.mockRestore();
      write.mockRestore();
    }
  }

  test('m3vit-gen report <folder> prints the report; --json the data', async () => {
    const { dir, flow } = writeFlowProject(zcu104Project());
    try {
      const dest = path.join(dir, flow.hls.csynthXml);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(path.join(FIX, 'csynth/vitis-hls-2023.2.xml'), dest);
      const r = await cli(['report', dir]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/worst 12,345,678 cycles \(41\.111 ms\)/);
      const j = await cli(['report', dir, '--json']);
      expect(JSON.parse(j.out).csynth.resources.DSP).toBe(1024);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a folder without reports: one message, exit 2', async () => {
    const r = await cli(['report', path.join(os.tmpdir(), 'm3vit-no-such-folder')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/m3vit-no-such-folder: is not a folder/);
    expect(r.out).toBe('');
  });
});
