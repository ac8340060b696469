/**
 * The accelerator's hardware interface: the top function, its m_axi bundles and the HP
 * port each one uses, and its s_axilite arguments. Kernels, testbench, Tcl, block design,
 * host driver and estimator all read this one description.
 */
import type { BuildConfig, HpPort } from '../config/types';

export const TOP_FUNCTION = 'm3vit_top';

export type BundleRole = 'weights' | 'scratch' | 'input' | 'output';

export interface MaxiBundle {
  /** HLS bundle name (m_axi_<bundle> on the IP). */
  bundle: string;
  /** Argument of the top function. */
  arg: string;
  role: BundleRole;
  access: 'read' | 'write' | 'read-write';
  /** PS slave port this bundle is wired to. */
  hpPort: HpPort;
  widthBits: number;
  purpose: string;
}

export interface AxiliteScalar {
  arg: string;
  cType: string;
  purpose: string;
}

export interface HwInterface {
  top: string;
  bundles: MaxiBundle[];
  scalars: AxiliteScalar[];
}

/** Bits of the `options` register. */
export const OPTION_DEBUG_DUMP = 1; // write every checkpointed layer output to scratch (debug/validation)

export function hwInterface(config: BuildConfig): HwInterface {
  // Heaviest traffic first, so the first (best) configured ports go to weights and scratch.
  const order: Array<Omit<MaxiBundle, 'hpPort' | 'widthBits'>> = [
    { bundle: 'gmem_w', arg: 'weights', role: 'weights', access: 'read', purpose: 'packed weight image (all tasks), read by bursts' },
    { bundle: 'gmem_s', arg: 'scratch', role: 'scratch', access: 'read-write', purpose: 'head feature maps and debug dumps' },
    { bundle: 'gmem_i', arg: 'image', role: 'input', access: 'read', purpose: 'quantized input image [C][H][W]' },
    { bundle: 'gmem_o', arg: 'result', role: 'output', access: 'write', purpose: 'task output' },
  ];
  const ports = config.board.hpPorts;
  return {
    top: TOP_FUNCTION,
    bundles: order.map((b, i) => ({ ...b, hpPort: ports[i % ports.length], widthBits: config.board.hpPortWidthBits })),
    scalars: [
      { arg: 'task', cType: 'int', purpose: 'task id (index in the built task list): selects the gates and the head' },
      { arg: 'options', cType: 'unsigned', purpose: `run options: bit 0 = debug dump of layer outputs to scratch` },
    ],
  };
}
