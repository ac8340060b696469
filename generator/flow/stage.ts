/**
 * The flow stage of the main job: Vitis HLS and Vivado Tcl, the Makefile fragment with the
 * hardware targets, the PYNQ host driver and the flow manifest `m3vit-gen report` reads.
 */
import * as path from 'path';
import type { Stage } from '../generate';
import type { LoadedProject } from '../project';
import { LAYOUT } from '../emit/layout';
import type { OutputFile } from '../util/output';
import { hostMeta } from './host';
import { buildFlowModel, type FlowModel } from './model';
import { globLiteral, tclInQuotes, tclQuoted } from './quote';
import { flowVerbatim, renderFlowTemplate } from './render';

/** Tcl scripts rendered from templates/tcl/<name>.hbs into tcl/<name>. */
const TCL_SCRIPTS = [
  'hls_project.tcl',
  'hls_csim.tcl',
  'hls_csynth.tcl',
  'hls_cosim.tcl',
  'hls_export.tcl',
  'vivado_common.tcl',
  'vivado_bd.tcl',
  'vivado_build.tcl',
  'vivado_xsa.tcl',
];

/** Host files shipped as they are (everything design-specific is in m3vit_meta.json). */
const HOST_FILES = ['m3vit_codec.py', 'm3vit_registers.py', 'm3vit_driver.py', 'validate.py'];
export const HOST_META = 'm3vit_meta.json';
export const RUN_TOOL = 'tcl/run-tool.sh';

/** What `m3vit-gen report` reads to find the reports and the budget (tcl/flow.json). */
export interface FlowManifest {
  name: string;
  top: string;
  board: FlowModel['board'];
  clockMHz: number;
  hls: { csynthXml: string; cosimReport: string };
  vivado: { utilizationReport: string; timingReport: string; bit: string; hwh: string };
  estimate: string;
}

export function flowManifest(flow: FlowModel): FlowManifest {
  return {
    name: flow.name,
    top: flow.top,
    board: flow.board,
    clockMHz: flow.clock.mhz,
    hls: { csynthXml: flow.hls.csynthXml, cosimReport: flow.hls.cosimReport },
    vivado: { utilizationReport: flow.vivado.utilizationReport, timingReport: flow.vivado.timingReport, bit: flow.vivado.bit, hwh: flow.vivado.hwh },
    estimate: `${LAYOUT.reportDir}/estimate.json`,
  };
}

/** The flow's free text as the Tcl templates need it (the board name may hold [ ] $ " { }). */
function tclTexts(flow: FlowModel): { boardName: string; boardGlob: string; ipDescription: string } {
  return {
    boardName: tclInQuotes(flow.board.name),
    boardGlob: tclQuoted(`*${globLiteral(flow.board.name)}*`),
    ipDescription: tclQuoted(flow.hls.ip.description),
  };
}

export function flowFiles(project: LoadedProject): OutputFile[] {
  const flow = buildFlowModel(project);
  const hostDir = flow.host.dir;
  const deploy = [
    flow.vivado.bit,
    flow.vivado.hwh,
    flow.host.weightImage,
    flow.host.weightManifest,
    flow.host.quantPlan,
    flow.host.goldenDir,
    ...HOST_FILES.map((f) => `${hostDir}/${f}`),
    `${hostDir}/${HOST_META}`,
  ];
  const view = { ...flow, deploy, tcl: tclTexts(flow) };
  const files: OutputFile[] = TCL_SCRIPTS.map((s) => ({ path: `${LAYOUT.tclDir}/${s}`, contents: renderFlowTemplate(`tcl/${s}.hbs`, view) }));
  files.push({ path: RUN_TOOL, contents: flowVerbatim('make/run-tool.sh'), executable: true });
  files.push({ path: flow.make.fragment, contents: renderFlowTemplate('make/flow.mk.hbs', view) });
  files.push({ path: LAYOUT.flowManifest, contents: `${JSON.stringify(flowManifest(flow), null, 2)}\n` });
  for (const f of HOST_FILES) files.push({ path: `${hostDir}/${f}`, contents: flowVerbatim(`host/${f}`) });
  files.push({ path: `${hostDir}/${HOST_META}`, contents: `${JSON.stringify(hostMeta(project, flow), null, 2)}\n` });
  return files;
}

export const flowStage: Stage = {
  name: 'Vitis HLS / Vivado flow and host driver',
  run(project) {
    const files = flowFiles(project);
    const flow = buildFlowModel(project);
    const ports = flow.vivado.hpPorts.map((p) => `${p.port}: ${p.bundles.map((b) => b.bundle).join('+')}`).join(', ');
    return {
      files,
      summary: `${path.posix.dirname(RUN_TOOL)}/, ${flow.make.fragment}, ${flow.host.dir}/: ${flow.board.part} at ${flow.clock.mhz} MHz, ${ports}`,
    };
  },
};
