/**
 * The generated Vitis HLS and Vivado Tcl, run under tclsh with stand-ins of every tool
 * command it uses (test/tcl-standins): they record each call, reject unknown options,
 * and model enough of an HLS session and of a block design (which PS ports a CONFIG
 * enables, which pins each cell has, what is connected) to fail on structural mistakes.
 * This checks the scripts' structure, not what Vitis HLS or Vivado would compute.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { hwInterface } from '../generator/schedule/interface';
import type { LoadedProject } from '../generator/project';
import { indexOfCall, optionOf, runStandin, STANDINS, writeFlowProject, zcu104Project, type Call, type ToolRun } from './tcl-helpers';

const BUNDLES = (p: LoadedProject): string => hwInterface(p.config).bundles.map((b) => b.bundle).join(' ');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function project(p: LoadedProject): string {
  const { dir } = writeFlowProject(p);
  dirs.push(dir);
  return dir;
}

function ok(r: ToolRun): ToolRun {
  if (r.status !== 0 || r.errors.length > 0) {
    throw new Error(`tool run failed (status ${r.status}): ${r.errors.join('; ')}\n${r.stderr}\n${r.stdout}`);
  }
  return r;
}

/** csynth then IP export: what the Vivado steps start from. */
function synthesiseAndExport(dir: string): void {
  ok(runStandin('vitis_hls', dir, 'tcl/hls_csynth.tcl'));
  ok(runStandin('vitis_hls', dir, 'tcl/hls_export.tcl'));
}

describe('the stand-ins can fail', () => {
  // Without this, a passing flow test would prove nothing.
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-standin-'));
    dirs.push(tmp);
  });
  const run = (tool: string, body: string): ReturnType<typeof spawnSync> => {
    const script = path.join(tmp, 'x.tcl');
    fs.writeFileSync(script, body);
    return spawnSync('tclsh', [path.join(STANDINS, `${tool}.tcl`), script], { cwd: tmp, encoding: 'utf8', env: { ...process.env, STANDIN_LOG: '' } });
  };

  test('an unknown option is rejected', () => {
    const r = run('vitis_hls', 'open_project p\nopen_solution s\ncreate_clock -periodx 3\nexit 0\n');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown option -periodx/);
  });

  test('a command the stand-ins do not define is an error', () => {
    const r = run('vivado', 'create_bd_port -dir I x\nexit 0\n');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/invalid command name "create_bd_port"/);
  });

  test('a script that does not exit is reported (the real tools would wait at their prompt)', () => {
    const r = run('vitis_hls', 'open_project p\n');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ended without calling exit/);
  });

  test('validate_bd_design fails when an m_axi bundle is left unconnected', () => {
    const script = [
      'create_project p d -part xczu7ev-ffvc1156-2-e',
      'create_bd_design bd',
      'lappend ::catalog x:hls:top:1.0',
      'create_bd_cell -type ip -vlnv x:hls:top:1.0 ip',
      'connect_bd_intf_net [get_bd_intf_pins ip/s_axi_control] [get_bd_intf_pins ip/m_axi_gmem_w]',
      'assign_bd_address',
      'validate_bd_design',
      'exit 0',
    ].join('\n');
    fs.writeFileSync(path.join(tmp, 'v.tcl'), script);
    const r = spawnSync('tclsh', [path.join(STANDINS, 'vivado.tcl'), path.join(tmp, 'v.tcl')], {
      cwd: tmp,
      encoding: 'utf8',
      env: { ...process.env, STANDIN_HLS_BUNDLES: 'gmem_w gmem_s' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/interface \/ip\/m_axi_gmem_s is not connected/);
  });
});

describe('Vitis HLS scripts', () => {
  const p = zcu104Project();
  let dir: string;
  beforeAll(() => {
    dir = project(p);
  });

  test('csynth: project, sources, solution, part, clock, interface settings, then synthesis, in that order', () => {
    const r = ok(runStandin('vitis_hls', dir, 'tcl/hls_csynth.tcl'));
    const c = r.commands;
    const at = (name: string): number => indexOfCall(c, (x) => x[0] === name, name);
    const open = c[at('open_project')];
    expect(open).toEqual(['open_project', '-reset', `${p.config.name}_hls`]);
    expect(c[at('set_top')]).toEqual(['set_top', 'm3vit_top']);
    const src = c.filter((x) => x[0] === 'add_files' && !x.includes('-tb'));
    expect(src.map((x) => path.relative(dir, x[1]))).toEqual(['src/m3vit_top.cpp']);
    // The real Vitis headers: the g++-only shim folder is never on the include path.
    for (const x of c.filter((y) => y[0] === 'add_files')) expect(optionOf(x, '-cflags')).not.toMatch(/shim/);
    expect(optionOf(src[0], '-cflags')).toBe(`-std=c++14 -I${path.join(dir, 'src')}`);
    expect(c[at('open_solution')]).toEqual(['open_solution', '-reset', '-flow_target', 'vivado', 'sol']);
    expect(c[at('set_part')]).toEqual(['set_part', p.config.board.part]);
    expect(c[at('create_clock')]).toEqual(['create_clock', '-period', '300MHz', '-name', 'default']);
    expect(c[at('set_clock_uncertainty')]).toEqual(['set_clock_uncertainty', '27%']);
    const ci = c[at('config_interface')];
    expect(optionOf(ci, '-m_axi_alignment_byte_size')).toBe('16'); // 128-bit words (wword_t)
    expect(optionOf(ci, '-m_axi_max_widen_bitwidth')).toBe('128'); // the word and the HP ports
    const order = ['open_project', 'set_top', 'add_files', 'open_solution', 'set_part', 'create_clock', 'set_clock_uncertainty', 'config_interface', 'csynth_design', 'close_project'];
    expect(order.map(at)).toEqual([...order.map(at)].sort((a, b) => a - b));
    // The HLS project is created where make/flow.mk starts the tool.
    expect(r.calls.find((x) => x[0] === '__cwd__')![1]).toBe(path.join(dir, 'build', 'hls'));
    expect(fs.existsSync(path.join(dir, 'build/hls', `${p.config.name}_hls`, 'sol/syn/report/csynth.xml'))).toBe(true);
  });

  test('hls-csim: its own project, the testbench with the golden folder, C simulation', () => {
    const r = ok(runStandin('vitis_hls', dir, 'tcl/hls_csim.tcl'));
    const c = r.commands;
    expect(c[0]).toEqual(['open_project', '-reset', `${p.config.name}_csim`]);
    const tb = c.filter((x) => x[0] === 'add_files' && x.includes('-tb'));
    expect(tb.map((x) => path.relative(dir, x[2]))).toEqual(['tb/testbench.cpp']);
    const csim = c.find((x) => x[0] === 'csim_design')!;
    // tb/testbench.cpp <golden-dir> <weights.bin> <result.json>: its own result file, not make csim's.
    expect(optionOf(csim, '-argv')).toBe([path.join(dir, 'golden'), path.join(dir, 'data/weights.bin'), path.join(dir, 'build/hls_csim_result.json')].join(' '));
  });

  test('cosim reuses the synthesised project, the same testbench and vectors', () => {
    ok(runStandin('vitis_hls', dir, 'tcl/hls_csynth.tcl'));
    const r = ok(runStandin('vitis_hls', dir, 'tcl/hls_cosim.tcl'));
    const c = r.commands;
    expect(c[0]).toEqual(['open_project', `${p.config.name}_hls`]); // no -reset: keeps csynth
    expect(c[1]).toEqual(['open_solution', 'sol']);
    const cosim = c.find((x) => x[0] === 'cosim_design')!;
    expect(optionOf(cosim, '-rtl')).toBe('verilog');
    expect(optionOf(cosim, '-argv')).toBe([path.join(dir, 'golden'), path.join(dir, 'data/weights.bin'), path.join(dir, 'build/cosim_result.json')].join(' '));
  });

  test('cosim and export before csynth stop with a message naming `make csynth`', () => {
    const fresh = project(p);
    for (const s of ['tcl/hls_cosim.tcl', 'tcl/hls_export.tcl']) {
      const r = runStandin('vitis_hls', fresh, s);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/run `make csynth` first/);
      expect(r.commands.some((x) => x[0] === 'cosim_design' || x[0] === 'export_design')).toBe(false);
    }
  });

  test('export: an IP-catalog IP with the VLNV the block design asks for', () => {
    ok(runStandin('vitis_hls', dir, 'tcl/hls_csynth.tcl'));
    const r = ok(runStandin('vitis_hls', dir, 'tcl/hls_export.tcl'));
    const ex = r.commands.find((x) => x[0] === 'export_design')!;
    expect(optionOf(ex, '-format')).toBe('ip_catalog');
    const vlnv = ['-vendor', '-library', '-ipname', '-version'].map((o) => optionOf(ex, o)).join(':');
    expect(vlnv).toBe('xilinx.com:hls:m3vit_top:1.0');
    const bd = fs.readFileSync(path.join(dir, 'tcl/vivado_bd.tcl'), 'utf8');
    expect(bd).toContain(`-vlnv ${vlnv} m3vit_0`);
  });

  test('a failing step ends the tool with a non-zero status (vitis_hls would otherwise wait at its prompt)', () => {
    const fresh = project(p);
    fs.rmSync(path.join(fresh, 'src/m3vit_top.cpp'));
    const r = runStandin('vitis_hls', fresh, 'tcl/hls_csynth.tcl');
    expect(r.status).not.toBe(0);
    expect(r.errors.join()).toMatch(/cannot find .*m3vit_top\.cpp/);
  });
});

/** The ZCU104 block design, traced through the recorded nets. */
function traceBlockDesign(c: Call[]): { intf: Map<string, string>; nets: Array<[string, string]>; cells: Map<string, string>; ps: Map<string, string> } {
  const intf = new Map<string, string>();
  const nets: Array<[string, string]> = [];
  const cells = new Map<string, string>();
  const ps = new Map<string, string>();
  for (const x of c) {
    if (x[0] === 'connect_bd_intf_net') {
      intf.set(x[1], x[2]);
      intf.set(x[2], x[1]);
    }
    if (x[0] === 'connect_bd_net') nets.push([x[1], x[2]]);
    if (x[0] === 'create_bd_cell') cells.set(x[x.length - 1], optionOf(x, '-vlnv')!);
    if (x[0] === 'set_property' && x[1] === '-dict' && x[3] === '/zynq_ultra_ps_e_0') {
      const kv = x[2].trim().split(/\s+/);
      for (let i = 0; i < kv.length; i += 2) ps.set(kv[i].replace(/^CONFIG\./, ''), kv[i + 1]);
    }
  }
  return { intf, nets, cells, ps };
}

describe('Vivado block design and build', () => {
  const p = zcu104Project();
  const env = (): Record<string, string> => ({ STANDIN_HLS_BUNDLES: BUNDLES(p) });
  let dir: string;
  let bd: ToolRun;
  beforeAll(() => {
    dir = project(p);
    synthesiseAndExport(dir);
    bd = ok(runStandin('vivado', dir, 'tcl/vivado_bd.tcl', env()));
  });

  test('project on the config part, with the board part, the HLS IP repository from `make ip`', () => {
    const c = bd.commands;
    const cp = c[indexOfCall(c, (x) => x[0] === 'create_project', 'create_project')];
    expect(optionOf(cp, '-part')).toBe('xczu7ev-ffvc1156-2-e');
    expect(cp[2]).toBe(path.join(dir, 'build/vivado'));
    const bp = c.find((x) => x[0] === 'set_property' && x[1] === 'board_part')!;
    expect(bp[2]).toBe('xilinx.com:zcu104:part0:1.1');
    const repo = c.find((x) => x[0] === 'set_property' && x[1] === 'ip_repo_paths')!;
    expect(repo[2]).toBe(path.join(dir, 'build/hls', `${p.config.name}_hls`, 'sol/impl/ip'));
  });

  test('the PS VLNV is resolved from the catalog (newest), not pinned', () => {
    const { cells } = traceBlockDesign(bd.commands);
    expect(cells.get('zynq_ultra_ps_e_0')).toBe('xilinx.com:ip:zynq_ultra_ps_e:3.5'); // the stand-in catalog has 3.3, 3.4, 3.5
    const script = fs.readFileSync(path.join(dir, 'tcl/vivado_bd.tcl'), 'utf8');
    expect(script).not.toMatch(/zynq_ultra_ps_e:\d/);
    expect(script).not.toMatch(/smartconnect:\d|proc_sys_reset:\d/);
    const auto = bd.commands.find((x) => x[0] === 'apply_bd_automation')!;
    expect(optionOf(auto, '-rule')).toBe('xilinx.com:bd_rule:zynq_ultra_ps_e');
    expect(optionOf(auto, '-config')).toBe('apply_board_preset "1"');
  });

  test('pl_clk0 at the config clock; control on HPM0_FPD; unused masters off; interrupt enabled', () => {
    const { ps } = traceBlockDesign(bd.commands);
    expect(ps.get('PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ')).toBe('300');
    expect(ps.get('PSU__USE__M_AXI_GP0')).toBe('1');
    expect(ps.get('PSU__USE__M_AXI_GP1')).toBe('0');
    expect(ps.get('PSU__USE__M_AXI_GP2')).toBe('0');
    expect(ps.get('PSU__USE__IRQ0')).toBe('1');
  });

  test('every m_axi bundle reaches the PS port the interface assigns, through a SmartConnect, at 128 bits', () => {
    const { intf, cells, ps } = traceBlockDesign(bd.commands);
    // HP port -> PS slave pin and enable/width parameters, written out here from UG1085
    // independently of generator/flow/ports.ts.
    const gp: Record<string, number> = { HPC0: 0, HPC1: 1, HP0: 2, HP1: 3, HP2: 4, HP3: 5 };
    const iface = hwInterface(p.config);
    expect(iface.bundles.map((b) => `${b.bundle}:${b.hpPort}`)).toEqual(['gmem_w:HP1', 'gmem_s:HP2', 'gmem_i:HP0', 'gmem_o:HP3']);
    for (const b of iface.bundles) {
      const xbarSlave = intf.get(`/m3vit_0/m_axi_${b.bundle}`);
      expect(xbarSlave).toMatch(/^\/(\w+)\/S\d\d_AXI$/);
      const xbar = xbarSlave!.split('/')[1];
      expect(cells.get(xbar)).toMatch(/^xilinx\.com:ip:smartconnect:/);
      expect(intf.get(`/${xbar}/M00_AXI`)).toBe(`/zynq_ultra_ps_e_0/S_AXI_${b.hpPort}_FPD`);
      expect(ps.get(`PSU__USE__S_AXI_GP${gp[b.hpPort]}`)).toBe('1');
      expect(ps.get(`PSU__SAXIGP${gp[b.hpPort]}__DATA_WIDTH`)).toBe('128');
    }
    // Control: HPM0_FPD -> SmartConnect -> s_axi_control.
    const ctrl = intf.get('/m3vit_0/s_axi_control')!.split('/')[1];
    expect(intf.get(`/${ctrl}/S00_AXI`)).toBe('/zynq_ultra_ps_e_0/M_AXI_HPM0_FPD');
  });

  test('clock, reset and interrupt nets', () => {
    const { nets } = traceBlockDesign(bd.commands);
    const from = (src: string): string[] => nets.filter(([a]) => a === src).map(([, b]) => b);
    const clocked = from('/zynq_ultra_ps_e_0/pl_clk0');
    for (const pin of ['/m3vit_0/ap_clk', '/zynq_ultra_ps_e_0/maxihpm0_fpd_aclk', '/zynq_ultra_ps_e_0/saxihp0_fpd_aclk', '/zynq_ultra_ps_e_0/saxihp1_fpd_aclk', '/zynq_ultra_ps_e_0/saxihp2_fpd_aclk', '/zynq_ultra_ps_e_0/saxihp3_fpd_aclk']) {
      expect(clocked).toContain(pin);
    }
    expect(from('/rst_pl_clk0/peripheral_aresetn')).toEqual(['/m3vit_0/ap_rst_n']);
    expect(from('/m3vit_0/interrupt')).toEqual(['/zynq_ultra_ps_e_0/pl_ps_irq0']);
  });

  test('addresses, validation, save, wrapper, in that order', () => {
    const c = bd.commands;
    const at = (n: string): number => indexOfCall(c, (x) => x[0] === n, n);
    const lastConnect = Math.max(...c.map((x, i) => (x[0].startsWith('connect_bd') ? i : -1)));
    expect(lastConnect).toBeLessThan(at('assign_bd_address'));
    expect(at('assign_bd_address')).toBeLessThan(at('validate_bd_design'));
    expect(at('validate_bd_design')).toBeLessThan(at('save_bd_design'));
    expect(at('save_bd_design')).toBeLessThan(at('make_wrapper'));
    const top = c.find((x) => x[0] === 'set_property' && x[1] === 'top')!;
    expect(top[2]).toBe('m3vit_bd_wrapper');
  });

  test('build: synthesis, implementation to the bitstream, reports, .bit and .hwh with one stem', () => {
    const r = ok(runStandin('vivado', dir, 'tcl/vivado_build.tcl', env()));
    const c = r.commands;
    const launches = c.filter((x) => x[0] === 'launch_runs');
    expect(launches.map((x) => x[1])).toEqual(['synth_1', 'impl_1']);
    expect(optionOf(launches[1], '-to_step')).toBe('write_bitstream');
    const util = c.find((x) => x[0] === 'report_utilization')!;
    const timing = c.find((x) => x[0] === 'report_timing_summary')!;
    expect(optionOf(util, '-file')).toBe(path.join(dir, 'build/reports/vivado_utilization.rpt'));
    expect(optionOf(timing, '-file')).toBe(path.join(dir, 'build/reports/vivado_timing_summary.rpt'));
    const out = path.join(dir, 'build/out');
    expect(fs.readdirSync(out).sort()).toEqual([`${p.config.name}.bit`, `${p.config.name}.hwh`]);
    expect(fs.readFileSync(path.join(out, `${p.config.name}.hwh`), 'utf8')).toMatch(/hwh of m3vit_bd/);
    expect(r.stdout).toMatch(/worst negative slack 0\.125 ns at 300 MHz/);

    // Resume: runs already complete are not launched again.
    const again = ok(runStandin('vivado', dir, 'tcl/vivado_build.tcl', env()));
    expect(again.commands.filter((x) => x[0] === 'launch_runs')).toEqual([]);

    const xsa = ok(runStandin('vivado', dir, 'tcl/vivado_xsa.tcl', env()));
    const w = xsa.commands.find((x) => x[0] === 'write_hw_platform')!;
    expect(w).toEqual(expect.arrayContaining(['-fixed', '-include_bit']));
    expect(optionOf(w, '-file')).toBe(path.join(out, `${p.config.name}.xsa`));
  });

  test('the .hwh of older Vivado releases (under .srcs) is found too', () => {
    const d = project(p);
    synthesiseAndExport(d);
    ok(runStandin('vivado', d, 'tcl/vivado_bd.tcl', env()));
    ok(runStandin('vivado', d, 'tcl/vivado_build.tcl', { ...env(), STANDIN_OLD_LAYOUT: '1' }));
    expect(fs.existsSync(path.join(d, 'build/out', `${p.config.name}.hwh`))).toBe(true);
  });

  test('negative slack stops the build with a message, unless accepted explicitly', () => {
    const d = project(p);
    synthesiseAndExport(d);
    ok(runStandin('vivado', d, 'tcl/vivado_bd.tcl', env()));
    const r = runStandin('vivado', d, 'tcl/vivado_build.tcl', { ...env(), STANDIN_WNS: '-0.213' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/timing is not met at 300 MHz \(WNS -0\.213 ns\): lower clockMHz/);
    const accepted = runStandin('vivado', d, 'tcl/vivado_build.tcl', { ...env(), STANDIN_WNS: '-0.213', M3VIT_ALLOW_TIMING_FAILURE: '1' });
    expect(accepted.status).toBe(0);
    expect(accepted.stdout).toMatch(/WARNING: timing is not met/);
  });

  test('a failed implementation run is reported with its log', () => {
    const d = project(p);
    synthesiseAndExport(d);
    ok(runStandin('vivado', d, 'tcl/vivado_bd.tcl', env()));
    const r = runStandin('vivado', d, 'tcl/vivado_build.tcl', { ...env(), STANDIN_FAIL_RUN: 'impl_1' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/implementation failed \(ERROR\): see .*impl_1\/runme\.log/);
  });

  test('missing board files: a clear message saying how to install them', () => {
    const d = project(p);
    synthesiseAndExport(d);
    const r = runStandin('vivado', d, 'tcl/vivado_bd.tcl', { ...env(), STANDIN_BOARDS: '' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Vivado has no board files for xilinx\.com:zcu104:part0:1\.1/);
    expect(r.stderr).toMatch(/Board 49-71/); // Vivado's own error is kept in the message
    expect(r.stderr).toMatch(/Vivado Store/);
    expect(r.stderr).toMatch(/XilinxBoardStore/);
    expect(r.commands.some((x) => x[0] === 'create_bd_design')).toBe(false);
  });

  test('without `make ip` the block design stops and says so', () => {
    const d = project(p);
    const r = runStandin('vivado', d, 'tcl/vivado_bd.tcl', env());
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/run `make ip` first/);
  });
});

describe('other configs', () => {
  test('two HP ports: bundles share SmartConnects, each still reaches its port; clock 250 MHz; 64-bit ports', () => {
    const p = zcu104Project((c) => {
      c.board.hpPorts = ['HP2', 'HPC0'];
      c.board.hpPortWidthBits = 64;
      c.clockMHz = 250;
    });
    const dir = project(p);
    const hls = ok(runStandin('vitis_hls', dir, 'tcl/hls_csynth.tcl'));
    expect(hls.commands.find((x) => x[0] === 'create_clock')).toEqual(['create_clock', '-period', '250MHz', '-name', 'default']);
    const ci = hls.commands.find((x) => x[0] === 'config_interface')!;
    // The kernel's word stays 128 bits; the SmartConnect converts to the 64-bit ports.
    expect(optionOf(ci, '-m_axi_alignment_byte_size')).toBe('16');
    expect(optionOf(ci, '-m_axi_max_widen_bitwidth')).toBe('128');
    ok(runStandin('vitis_hls', dir, 'tcl/hls_export.tcl'));
    const bd = ok(runStandin('vivado', dir, 'tcl/vivado_bd.tcl', { STANDIN_HLS_BUNDLES: BUNDLES(p) }));
    const { intf, ps } = traceBlockDesign(bd.commands);
    for (const b of hwInterface(p.config).bundles) {
      const xbar = intf.get(`/m3vit_0/m_axi_${b.bundle}`)!.split('/')[1];
      expect(intf.get(`/${xbar}/M00_AXI`)).toBe(`/zynq_ultra_ps_e_0/S_AXI_${b.hpPort}_FPD`);
    }
    expect(ps.get('PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ')).toBe('250');
    expect(ps.get('PSU__SAXIGP4__DATA_WIDTH')).toBe('64'); // HP2
    expect(ps.get('PSU__SAXIGP0__DATA_WIDTH')).toBe('64'); // HPC0
    for (const off of ['PSU__USE__S_AXI_GP2', 'PSU__USE__S_AXI_GP3', 'PSU__USE__S_AXI_GP5']) expect(ps.get(off)).toBe('0');
  });
});
