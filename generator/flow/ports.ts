/**
 * The Zynq UltraScale+ PS ports the block design uses, named as the zynq_ultra_ps_e IP
 * names them. The PL-master ("slave") ports have two names each: the interface pin
 * (S_AXI_HP1_FPD) and the parameter family (SAXIGP3), which number them differently
 * (UG1085 and the PS IP's parameter list: HPC0/1 = GP0/1, HP0..3 = GP2..5).
 */
import type { HpPort } from '../config/types';

export interface PsSlavePort {
  port: HpPort;
  /** Interface pin on the PS cell. */
  intfPin: string;
  /** Clock pin of that interface on the PS cell. */
  clockPin: string;
  /** CONFIG parameter that enables the port. */
  enableParam: string;
  /** CONFIG parameter of its PL-side data width. */
  widthParam: string;
}

const GP_INDEX: Record<HpPort, number> = { HPC0: 0, HPC1: 1, HP0: 2, HP1: 3, HP2: 4, HP3: 5 };

export function psSlavePort(port: HpPort): PsSlavePort {
  const gp = GP_INDEX[port];
  const lower = port.toLowerCase();
  return {
    port,
    intfPin: `S_AXI_${port}_FPD`,
    clockPin: `saxi${lower}_fpd_aclk`,
    enableParam: `PSU__USE__S_AXI_GP${gp}`,
    widthParam: `PSU__SAXIGP${gp}__DATA_WIDTH`,
  };
}

/** Control master: HPM0_FPD (M_AXI_GP0). The board preset may enable HPM1_FPD and HPM0_LPD
 * too; unused masters are switched off because their clock pins would be left unconnected. */
export const PS_CONTROL = {
  intfPin: 'M_AXI_HPM0_FPD',
  clockPin: 'maxihpm0_fpd_aclk',
  enableParam: 'PSU__USE__M_AXI_GP0',
  unusedMasters: ['PSU__USE__M_AXI_GP1', 'PSU__USE__M_AXI_GP2'],
} as const;

export const PS_CLOCK = {
  clockPin: 'pl_clk0',
  resetPin: 'pl_resetn0',
  enableParam: 'PSU__FPGA_PL0_ENABLE',
  freqParam: 'PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ',
  /** What the PLL divisors really give (read back and printed). */
  actualFreqParam: 'PSU__CRL_APB__PL0_REF_CTRL__ACT_FREQMHZ',
  irqPin: 'pl_ps_irq0',
  irqEnableParam: 'PSU__USE__IRQ0',
} as const;
