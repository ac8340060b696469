/**
 * The flow's view-model: every name, path and number the Vitis HLS / Vivado Tcl, the
 * Makefile fragment and the host driver use, decided here once from the config and the
 * hardware interface. Templates only loop over it.
 */
import type { LoadedProject } from '../project';
import { LAYOUT } from '../emit/layout';
import { hwInterface, type BundleRole } from '../schedule/interface';
import type { HpPort, BoardResources } from '../config/types';
import { flowSources, type FlowSources } from './sources';
import { PS_CLOCK, PS_CONTROL, psSlavePort } from './ports';

/**
 * Clock uncertainty given to Vitis HLS. 27% is what Vitis HLS assumes when none is set;
 * stating it keeps schedules comparable across tool versions (Vivado HLS used 12.5%) and
 * leaves margin for routing at 300 MHz on the xczu7ev.
 */
export const CLOCK_UNCERTAINTY = '27%';

/** Bits of the kernel's bus word (wword_t = ap_uint<128>, architecture.md). */
export const WORD_BITS = 128;

/** Names inside the generated projects. */
export const HLS_SOLUTION = 'sol';
export const BD_NAME = 'm3vit_bd';
export const PS_CELL = 'zynq_ultra_ps_e_0';
export const IP_CELL = 'm3vit_0';
export const RESET_CELL = 'rst_pl_clk0';
export const CONTROL_XBAR = 'axi_ctrl';

export interface FlowBundle {
  bundle: string;
  arg: string;
  role: BundleRole;
  hpPort: HpPort;
  /** m_axi interface pin of the HLS IP. */
  ipPin: string;
  /** SmartConnect in front of the HP port, and its slave pin this bundle drives. */
  xbar: string;
  xbarPin: string;
}

export interface FlowHpPort {
  port: HpPort;
  intfPin: string;
  clockPin: string;
  xbar: string;
  /** Number of SmartConnect slave ports (bundles sharing this HP port). */
  numSi: number;
  bundles: FlowBundle[];
}

export interface PsParam {
  key: string;
  value: string;
}

export interface FlowModel {
  name: string;
  top: string;
  board: { name: string; part: string; boardPart: string; resources: BoardResources };
  clock: { mhz: number; periodNs: number; period: string; uncertainty: string };
  hls: {
    /** HLS project folder, relative to the project folder (the tool runs there). */
    workDir: string;
    project: string;
    /** Separate project for hls-csim, so that it never touches the synthesis results. */
    csimProject: string;
    solution: string;
    sources: string[];
    /** Compiler flags of the synthesised sources and of the testbench (Tcl, inside double quotes). */
    cflags: string;
    tbCflags: string;
    includeDirs: string[];
    testbench: string[];
    testbenchData: string[];
    csimArgs: string[];
    cosimArgs: string[];
    csimArgsText: string;
    cosimArgsText: string;
    /** Burst alignment the host guarantees (pynq.allocate gives page-aligned buffers). */
    alignmentBytes: number;
    maxWidenBits: number;
    ip: { vendor: string; library: string; name: string; version: string; vlnv: string; displayName: string; description: string };
    /** Relative to the project folder. */
    reportDir: string;
    csynthXml: string;
    cosimReport: string;
    ipDir: string;
  };
  vivado: {
    workDir: string;
    project: string;
    bd: string;
    wrapper: string;
    psCell: string;
    ipCell: string;
    resetCell: string;
    controlXbar: string;
    psParams: PsParam[];
    hpWidthBits: number;
    control: { intfPin: string; clockPin: string };
    ps: { clockPin: string; resetPin: string; irqPin: string; freqParam: string; actualFreqParam: string };
    hpPorts: FlowHpPort[];
    bundles: FlowBundle[];
    /** Outputs, relative to the project folder. */
    outDir: string;
    bit: string;
    hwh: string;
    xsa: string;
    utilizationReport: string;
    timingReport: string;
  };
  make: {
    buildDir: string;
    stampDir: string;
    logDir: string;
    deployDir: string;
    fragment: string;
  };
  host: {
    dir: string;
    weightImage: string;
    weightManifest: string;
    quantPlan: string;
    goldenDir: string;
    goldenManifest: string;
  };
  sources: FlowSources;
}

export function buildFlowModel(project: LoadedProject): FlowModel {
  const { config } = project;
  const iface = hwInterface(config);
  const src = flowSources();
  const name = config.name;
  const hlsProject = `${name}_hls`;
  const hlsWork = `${LAYOUT.buildDir}/hls`;
  const solutionDir = `${hlsWork}/${hlsProject}/${HLS_SOLUTION}`;

  // One SmartConnect per HP port in use; bundles sharing a port share its SmartConnect.
  const portOrder: HpPort[] = [];
  for (const b of iface.bundles) if (!portOrder.includes(b.hpPort)) portOrder.push(b.hpPort);
  const bundles: FlowBundle[] = [];
  const hpPorts: FlowHpPort[] = portOrder.map((port) => {
    const ps = psSlavePort(port);
    const xbar = `axi_${port.toLowerCase()}`;
    const mine = iface.bundles
      .filter((b) => b.hpPort === port)
      .map((b, i) => ({
        bundle: b.bundle,
        arg: b.arg,
        role: b.role,
        hpPort: port,
        ipPin: `m_axi_${b.bundle}`,
        xbar,
        xbarPin: `S${String(i).padStart(2, '0')}_AXI`,
      }));
    bundles.push(...mine);
    return { port, intfPin: ps.intfPin, clockPin: ps.clockPin, xbar, numSi: mine.length, bundles: mine };
  });
  // Keep the interface's bundle order (weights, scratch, image, result) for everything downstream.
  bundles.sort((a, b) => iface.bundles.findIndex((x) => x.bundle === a.bundle) - iface.bundles.findIndex((x) => x.bundle === b.bundle));

  const width = config.board.hpPortWidthBits;
  const psParams: PsParam[] = [
    { key: PS_CONTROL.enableParam, value: '1' },
    ...PS_CONTROL.unusedMasters.map((k) => ({ key: k, value: '0' })),
    ...(['HPC0', 'HPC1', 'HP0', 'HP1', 'HP2', 'HP3'] as HpPort[]).flatMap((p) => {
      const ps = psSlavePort(p);
      const used = portOrder.includes(p);
      // Unused PL-master ports are switched off explicitly: the board preset must not leave
      // one enabled with its clock pin unconnected (validate_bd_design would fail).
      return used
        ? [
            { key: ps.enableParam, value: '1' },
            { key: ps.widthParam, value: String(width) },
          ]
        : [{ key: ps.enableParam, value: '0' }];
    }),
    { key: PS_CLOCK.enableParam, value: '1' },
    { key: PS_CLOCK.freqParam, value: formatNumber(config.clockMHz) },
    { key: PS_CLOCK.irqEnableParam, value: '1' },
  ];

  const outDir = `${LAYOUT.buildDir}/out`;
  const ipName = iface.top;
  return {
    name,
    top: iface.top,
    board: { name: config.board.name, part: config.board.part, boardPart: config.board.boardPart, resources: { ...config.board.resources } },
    clock: {
      mhz: config.clockMHz,
      periodNs: 1000 / config.clockMHz,
      // Vitis HLS takes a frequency with its unit; the period in ns would be rounded.
      period: `${formatNumber(config.clockMHz)}MHz`,
      uncertainty: CLOCK_UNCERTAINTY,
    },
    hls: {
      workDir: hlsWork,
      project: hlsProject,
      csimProject: `${name}_csim`,
      solution: HLS_SOLUTION,
      sources: src.hls,
      cflags: ['-std=c++14', ...src.includeDirs.map((d) => `-I[m3vit_path ${d}]`)].join(' '),
      tbCflags: ['-std=c++14', ...src.includeDirs.map((d) => `-I[m3vit_path ${d}]`), `-I[m3vit_path ${LAYOUT.tbDir}]`].join(' '),
      includeDirs: src.includeDirs,
      testbench: src.testbench,
      testbenchData: src.testbenchData,
      csimArgs: src.csimArgs,
      cosimArgs: src.cosimArgs,
      csimArgsText: src.csimArgs.join(' '),
      cosimArgsText: src.cosimArgs.join(' '),
      // The kernel's m_axi word (wword_t) is 128 bits whatever the HP port width (the
      // SmartConnect converts): buffers are aligned to it, and bursts are not widened beyond
      // it (nor beyond the widest HP port, 128 bits).
      alignmentBytes: WORD_BITS / 8,
      maxWidenBits: Math.max(WORD_BITS, width),
      ip: {
        vendor: 'xilinx.com',
        library: 'hls',
        name: ipName,
        version: '1.0',
        vlnv: `xilinx.com:hls:${ipName}:1.0`,
        displayName: name,
        description: `M3ViT accelerator generated by m3vit-gen for ${config.board.name}`,
      },
      reportDir: `${solutionDir}/syn/report`,
      csynthXml: `${solutionDir}/syn/report/csynth.xml`,
      cosimReport: `${solutionDir}/sim/report/${iface.top}_cosim.rpt`,
      ipDir: `${solutionDir}/impl/ip`,
    },
    vivado: {
      workDir: `${LAYOUT.buildDir}/vivado`,
      project: name,
      bd: BD_NAME,
      wrapper: `${BD_NAME}_wrapper`,
      psCell: PS_CELL,
      ipCell: IP_CELL,
      resetCell: RESET_CELL,
      controlXbar: CONTROL_XBAR,
      psParams,
      hpWidthBits: width,
      control: { intfPin: PS_CONTROL.intfPin, clockPin: PS_CONTROL.clockPin },
      ps: {
        clockPin: PS_CLOCK.clockPin,
        resetPin: PS_CLOCK.resetPin,
        irqPin: PS_CLOCK.irqPin,
        freqParam: PS_CLOCK.freqParam,
        actualFreqParam: PS_CLOCK.actualFreqParam,
      },
      hpPorts,
      bundles,
      outDir,
      bit: `${outDir}/${name}.bit`,
      hwh: `${outDir}/${name}.hwh`,
      xsa: `${outDir}/${name}.xsa`,
      utilizationReport: `${LAYOUT.buildDir}/reports/vivado_utilization.rpt`,
      timingReport: `${LAYOUT.buildDir}/reports/vivado_timing_summary.rpt`,
    },
    make: {
      buildDir: LAYOUT.buildDir,
      stampDir: `${LAYOUT.buildDir}/stamps`,
      logDir: `${LAYOUT.buildDir}/logs`,
      deployDir: LAYOUT.deployDir,
      fragment: LAYOUT.flowMakefile,
    },
    host: {
      dir: LAYOUT.hostDir,
      weightImage: src.weightImage,
      weightManifest: src.weightManifest,
      quantPlan: src.quantPlan,
      goldenDir: src.goldenDir,
      goldenManifest: src.goldenManifest,
    },
    sources: src,
  };
}

/** A number as Tcl and humans read it: integers without a decimal point, others as short as exact. */
export function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(6)));
}
