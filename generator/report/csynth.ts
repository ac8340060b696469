/**
 * Vitis HLS / Vivado HLS C-synthesis report (<solution>/syn/report/csynth.xml), read by
 * element name, never by position (UG1399 "Synthesis report"; the tags below are the
 * ones both tool families write: Vivado HLS calls the DSP count DSP48E, Vitis HLS DSP,
 * and releases without UltraRAM support have no URAM).
 */
import type { ResourceClass } from '../config/types';
import { checkedNumber, COUNT, CYCLES, NONNEG_NS, PERIOD_NS, ReportFormatError, type NumberRule } from './checked';
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

/** The tag's number, undefined when absent (or "undef"/"?" where `unknownAllowed`); a
 * ReportFormatError naming the tag when it holds anything else or a value out of range. */
function num(root: XmlElement, tag: string, rule: NumberRule, unknownAllowed = false): number | undefined {
  const t = xmlText(root, tag)?.trim();
  if (t === undefined) return undefined;
  if (unknownAllowed && (t === 'undef' || t === '?' || t === '')) return undefined;
  return checkedNumber(t, `<${tag}>`, rule);
}

/** Available LUT, FF and DSP: a part has some (a 0 would print "Infinity%"). */
const AVAILABLE_NONZERO: NumberRule = { ...COUNT, what: 'an available resource count (a whole number, 1 to 100,000,000)', min: 1 };

function resources(root: XmlElement, at: string, available: boolean): ResourceCounts {
  const out: ResourceCounts = {};
  if (!xmlPath(root, at)) return out;
  for (const [cls, tags] of Object.entries(RESOURCE_TAGS) as Array<[ResourceClass, string[]]>) {
    const rule = available && (cls === 'LUT' || cls === 'FF' || cls === 'DSP') ? AVAILABLE_NONZERO : COUNT;
    for (const t of tags) {
      const v = num(root, `${at}/${t}`, rule);
      if (v !== undefined) {
        out[cls] = v;
        break;
      }
    }
  }
  return out;
}

export { ReportFormatError };

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
  const lat = (tag: string): number | undefined => num(root, `PerformanceEstimates/SummaryOfOverallLatency/${tag}`, CYCLES, true);
  return {
    toolVersion: xmlText(root, 'ReportVersion/Version'),
    part: xmlText(root, 'UserAssignments/Part'),
    top: xmlText(root, 'UserAssignments/TopModelName'),
    targetClockNs: num(root, 'UserAssignments/TargetClockPeriod', PERIOD_NS),
    clockUncertaintyNs: num(root, 'UserAssignments/ClockUncertainty', NONNEG_NS),
    estimatedClockNs: num(root, 'PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod', PERIOD_NS),
    latency: { best: lat('Best-caseLatency'), average: lat('Average-caseLatency'), worst: lat('Worst-caseLatency') },
    interval: { min: lat('Interval-min'), max: lat('Interval-max') },
    resources: resources(root, 'AreaEstimates/Resources', false),
    available: resources(root, 'AreaEstimates/AvailableResources', true),
  };
}
