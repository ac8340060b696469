/** `m3vit-gen inspect`: the IR as a readable table, or as JSON for scripts. */
import type { LayerIR, ModelIR, TaskIR } from '../ir/types';

export interface InspectJson {
  model: Record<string, unknown>;
  tasks: Record<string, { macs: number; params: number; denseMacs: number; activeParams: number; head: string; outputShape: number[] }>;
  totals: ModelIR['totals'];
  layers: Array<Omit<LayerIR, 'scope'> & { scope: string }>;
}

const scopeName = (l: LayerIR): string => (l.scope.kind === 'backbone' ? 'backbone' : `task:${l.scope.task}`);

export function inspectJson(ir: ModelIR, tasks: TaskIR[]): InspectJson {
  const names = new Set(tasks.map((t) => t.name));
  return {
    model: { ...ir.dims },
    tasks: Object.fromEntries(
      tasks.map((t) => [t.name, { ...ir.totals.perTask[t.name], head: t.head.kind, outputShape: t.outputShape }]),
    ),
    totals: ir.totals,
    layers: ir.layers
      .filter((l) => l.scope.kind === 'backbone' || names.has(l.scope.task))
      .map((l) => ({ ...l, scope: scopeName(l) })),
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const mega = (n: number): string => (n / 1e6).toFixed(2);
const giga = (n: number): string => (n / 1e9).toFixed(3);

function table(header: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]): string =>
    r.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

export function inspectText(ir: ModelIR, tasks: TaskIR[]): string {
  const d = ir.dims;
  const out: string[] = [];
  out.push(`${d.name}: ${d.inChannels}x${d.imageH}x${d.imageW} image, patch ${d.patch} -> ${d.gridH}x${d.gridW} = ${d.patches} patches + class token = ${d.tokens} tokens`);
  out.push(`backbone: D ${d.embedDim}, ${d.depth} blocks, ${d.heads} heads of ${d.headDim}, dense MLP hidden ${d.mlpHidden}`);
  if (d.moe) {
    out.push(`MoE: blocks ${d.moe.blocks.join(', ')}; ${d.moe.experts} experts, top-${d.moe.topK}, expert hidden ${d.moe.hidden}, ${d.moe.gate === 'multi' ? 'one gate per task' : 'one shared gate'}`);
  }
  out.push('');
  const names = new Set(tasks.map((t) => t.name));
  const rows = ir.layers
    .filter((l) => l.scope.kind === 'backbone' || names.has(l.scope.task))
    .map((l) => [l.name, l.kind, l.outputShape.join('x'), int(l.params), mega(l.macs), l.denseMacs !== l.macs ? mega(l.denseMacs) : '']);
  out.push(table(['layer', 'kind', 'output', 'params', 'MMACs', 'dense MMACs'], rows, new Set([3, 4, 5])));
  out.push('');
  out.push('Single-task inference pathways (backbone + the task\'s gates and head; MoE layers count the top-k experts per token):');
  const trows = tasks.map((t) => {
    const p = ir.totals.perTask[t.name];
    return [t.name, t.head.kind, t.outputShape.join('x'), int(p.params), int(p.activeParams), giga(p.macs), giga(p.denseMacs)];
  });
  out.push(table(['task', 'head', 'output', 'params', 'active params', 'GMACs', 'dense-equiv GMACs'], trows, new Set([3, 4, 5, 6])));
  out.push('');
  const a = ir.totals.allTasks;
  out.push(`all tasks: ${int(a.params)} parameters; ${giga(a.macs)} GMACs to run every task once (dense-equivalent ${giga(a.denseMacs)})`);
  out.push(`backbone: ${int(ir.totals.backbone.params)} parameters, ${giga(ir.totals.backbone.macs)} GMACs (dense-equivalent ${giga(ir.totals.backbone.denseMacs)})`);
  return out.join('\n');
}
