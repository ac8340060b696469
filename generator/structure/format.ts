/** The structural check's summary as text (`m3vit-gen check-structure DIR`). */
import type { Ports, StructureReport } from './types';

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const numeric = rows[0].map((_, i) => rows.slice(1).every((r) => /^[\d.]*$/.test(r[i])));
  return rows.map((r) => `  ${r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')}`.trimEnd());
}

function ports(p: Ports): string {
  return typeof p === 'number' ? String(p) : p;
}

/** `16` for a signed 16-bit operand, `16u` for an unsigned one. */
function shape(bits: number, signedBits: number): string {
  return signedBits > bits ? `${bits}u` : String(bits);
}

export function formatStructure(r: StructureReport): string {
  const out: string[] = [`structure of ${r.file} (UG1399 rules, read from clang's AST and the #pragma HLS lines)`, ''];
  out.push('instances (a function that is not inlined: one per call site in each calling module; inlined: 0)');
  const used = r.functions.filter((f) => f.instances > 0 || f.callers.length > 0);
  out.push(
    ...table([
      ['function', 'inline', 'instances', 'called from', 'multipliers / instance'],
      ...used.map((f) => [
        f.name,
        f.inline,
        String(f.instances),
        String(f.callers.length),
        f.multipliers.map((m) => `${m.count} x ${shape(m.aBits, m.signedBits[0])}x${shape(m.bBits, m.signedBits[1])}`).join(', ') || '-',
      ]),
    ]),
  );
  out.push('', 'multipliers over all instances (DSP48E2: one 27x18 signed product per slice, wider products tiled)');
  out.push(
    ...table([
      ['a x b bits', 'count', 'in pipelines', 'DSP each', 'DSP'],
      ...r.multipliers.map((m) => [`${m.aBits} x ${m.bBits}`, String(m.count), String(m.pipelined), String(m.dspEach), String(m.dsp)]),
      ['total', String(r.multipliers.reduce((s, m) => s + m.count, 0)), String(r.multipliers.reduce((s, m) => s + m.pipelined, 0)), '', String(r.dsp)],
    ]),
  );
  out.push('', 'pipelined loops (accesses per iteration / ports of each array)');
  for (const p of r.pipelines) {
    const unrolled = p.unrolled.map((u) => `${u.name} x${u.copies}`).join(', ');
    out.push(`  ${p.name} in ${p.function} (${p.file}:${p.line}) II=${p.ii ?? '?'}${unrolled ? `, unrolled: ${unrolled}` : ''}`);
    if (p.arrays.length > 0) out.push(`    ${p.arrays.map((a) => `${a.variable} ${a.accesses}/${ports(a.ports)}`).join(', ')}`);
  }
  if (r.pipelineOps.length > 0) {
    out.push('', 'run-time divides and shifts in pipelined loops (value bits / divisor or amount bits, copies per iteration)');
    out.push(
      ...table([
        ['loop', 'op', 'in', 'at', 'bits', 'copies'],
        ...r.pipelineOps.map((o) => [o.pipeline, o.op, o.function, `${o.file}:${o.line}`, `${o.bits}/${o.amountBits}`, String(o.copies)]),
      ]),
    );
  }
  if (r.dependences.length > 0) {
    out.push('', 'dependence pragmas');
    for (const d of r.dependences) out.push(`  ${d.file}:${d.line} ${d.function}: ${d.variable} (${d.target})`);
  }
  out.push('', 'pipelined dividers (a run-time divide inside a pipelined loop)');
  if (r.dividers.length === 0) out.push('  none');
  for (const d of r.dividers) out.push(`  ${d.pipeline} (${d.function}): ${d.count} x ${d.dividend} / ${d.divisor} bits`);
  out.push('', 'DATAFLOW regions (processes in call order; channels producer -> consumer)');
  if (r.dataflow.length === 0) out.push('  none');
  for (const d of r.dataflow) {
    const ch = d.channels.map((c) => `${c.name} (${c.kind}): ${c.producers.join('+') || '-'} -> ${c.consumers.join('+') || '-'}`).join('; ');
    out.push(`  ${d.function} (${d.file}:${d.line}): ${d.processes.join(', ')}${ch ? `; ${ch}` : ''}`);
  }
  out.push('', `violations: ${r.violations.length}`);
  for (const v of r.violations) out.push(`  ${v.file}:${v.line} [${v.kind}] ${v.message}`);
  return `${out.join('\n')}\n`;
}
