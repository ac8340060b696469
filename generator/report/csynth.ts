/**
 * Vitis HLS / Vivado HLS C-synthesis report (<solution>/syn/report/csynth.xml), read by
 * element name, never by position (UG1399 "Synthesis report"; the tags below are the
 * ones both tool families write: Vivado HLS calls the DSP count DSP48E, Vitis HLS DSP,
 * and releases without UltraRAM support have no URAM).
 */
import type { ResourceClass } from '../config/types';
import { parseXml, xmlPath, xmlText, XmlError, type XmlElement } from './xml';

export type ResourceCounts = Partial<Record<ResourceClass, number>>;

export interface CsynthReport {
  toolVersion?: string;
  part?: string;
  top?: string;
  targetClockNs?: number;
  clockUncertaintyNs?: number;
  estimatedClockNs?: number;
  /** Cycles; undefined where the tool printed "undef" / "?" (loops with unknown trip counts). */
  latency: { best?: number; average?: number; worst?: number };
  interval: { min?: number; max?: number };
  resources: ResourceCounts;
  available: ResourceCounts;
}

/** Tag names per resource class, newest first. */
const RESOURCE_TAGS: Record<ResourceClass, string[]> = {
  LUT: ['LUT'],
  FF: ['FF'],
  DSP: ['DSP', 'DSP48E'],
  BRAM_18K: ['BRAM_18K'],
  URAM: ['URAM'],
};

function num(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t) ? Number(t) : undefined;
}

function resources(el: XmlElement | undefined): ResourceCounts {
  const out: ResourceCounts = {};
  if (!el) return out;
  for (const [cls, tags] of Object.entries(RESOURCE_TAGS) as Array<[ResourceClass, string[]]>) {
    for (const t of tags) {
      const v = num(xmlText(el, t));
      if (v !== undefined) {
        out[cls] = v;
        break;
      }
    }
  }
  return out;
}

export class ReportFormatError extends Error {}

export function parseCsynthXml(text: string): CsynthReport {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (e) {
    if (e instanceof XmlError) throw new ReportFormatError(`not well-formed XML: ${e.message}`);
    throw e;
  }
  if (root.name !== 'profile') throw new ReportFormatError(`root element is <${root.name}>, a csynth report has <profile>`);
  const perf = xmlPath(root, 'PerformanceEstimates');
  const area = xmlPath(root, 'AreaEstimates');
  if (!perf && !area) throw new ReportFormatError('no PerformanceEstimates or AreaEstimates: not a C-synthesis report');
  const lat = (tag: string): number | undefined => num(xmlText(root, `PerformanceEstimates/SummaryOfOverallLatency/${tag}`));
  return {
    toolVersion: xmlText(root, 'ReportVersion/Version'),
    part: xmlText(root, 'UserAssignments/Part'),
    top: xmlText(root, 'UserAssignments/TopModelName'),
    targetClockNs: num(xmlText(root, 'UserAssignments/TargetClockPeriod')),
    clockUncertaintyNs: num(xmlText(root, 'UserAssignments/ClockUncertainty')),
    estimatedClockNs: num(xmlText(root, 'PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod')),
    latency: { best: lat('Best-caseLatency'), average: lat('Average-caseLatency'), worst: lat('Worst-caseLatency') },
    interval: { min: lat('Interval-min'), max: lat('Interval-max') },
    resources: resources(xmlPath(root, 'AreaEstimates/Resources')),
    available: resources(xmlPath(root, 'AreaEstimates/AvailableResources')),
  };
}
