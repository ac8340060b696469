/**
 * Memory ports of arrays from their `array_partition`, `array_reshape` and `bind_storage`
 * pragmas. A BRAM/URAM bank has 2 ports (1 with `ram_1p`/`rom_1p`); partitioning into F banks
 * (cyclic/block factor F, or `complete` on one dimension of size F) multiplies them, and
 * reshaping by F puts F elements in one word, which we count the same way (the lanes of an
 * unrolled loop read neighbouring elements). `complete` over every dimension (or `dim=0`)
 * makes registers: no port limit. A parameter without pragmas of its own has the ports of
 * the arrays its callers pass (the fewest of them); an argument with an m_axi `interface`
 * pragma is a bus port (`bus`: one read and one write channel, not checked here).
 */
import { arrayDims, kids } from './ast';
import type { AstNode } from './clang';
import { intOption, partitionType } from './pragmas';
import type { HlsPragma } from './pragmas';
import type { Program } from './program';
import type { Ports } from './types';
import { passedVariable } from './walk';
import type { FunctionFacts } from './walk';

const STORAGE_PRAGMAS = new Set(['array_partition', 'array_reshape', 'bind_storage']);

export class PortModel {
  /** Pragmas naming each variable (by id). */
  readonly pragmasOf = new Map<string, HlsPragma[]>();
  private readonly passedTo = new Map<string, Set<string>>();
  private readonly memo = new Map<string, Ports>();

  constructor(
    private readonly program: Program,
    facts: Map<string, FunctionFacts>,
  ) {
    for (const fn of program.functions.values()) {
      const all = [...fn.pragmas, ...[...fn.loops.values()].flatMap((l) => l.pragmas)];
      for (const p of all) {
        const name = p.options.variable ?? (p.directive === 'interface' ? p.options.port : undefined);
        const v = name === undefined ? undefined : (fn.vars.get(name) ?? program.globals.get(name));
        if (v?.id) this.pragmasOf.set(v.id, [...(this.pragmasOf.get(v.id) ?? []), p]);
      }
    }
    for (const f of facts.values()) {
      for (const call of f.calls) {
        call.callee.params.forEach((param, i) => {
          const arg = call.bindings[i];
          if (!arg || !param.id) return;
          const set = this.passedTo.get(param.id) ?? new Set<string>();
          set.add(arg);
          this.passedTo.set(param.id, set);
        });
      }
    }
  }

  hasStoragePragmas(id: string): boolean {
    return (this.pragmasOf.get(id) ?? []).some((p) => STORAGE_PRAGMAS.has(p.directive));
  }

  /** Accesses per cycle the variable `id` allows. */
  ports(id: string, seen = new Set<string>()): Ports {
    const memo = this.memo.get(id);
    if (memo !== undefined) return memo;
    const v = this.program.variables.get(id);
    const own = (this.pragmasOf.get(id) ?? []).filter((p) => STORAGE_PRAGMAS.has(p.directive));
    const dims = arrayDims(v?.node.type);
    let result: Ports;
    const args = [...(this.passedTo.get(id) ?? [])].filter((a) => !seen.has(a));
    if (own.length === 0 && v?.node.kind === 'ParmVarDecl' && args.length > 0) {
      seen.add(id); // the path of parameters being resolved: a cycle is cut, not memoised
      result = fewest(args.map((a) => this.ports(a, seen)));
      seen.delete(id);
    } else if (own.length === 0 && this.isMaxiPort(id)) {
      result = 'bus';
    } else if (own.length === 0 && v?.node.kind === 'VarDecl' && dims[0] === null && aliased(v.node) && !seen.has(id)) {
      // A local pointer initialised from another variable (a renamed m_axi argument) is that variable.
      seen.add(id);
      result = this.ports(aliased(v.node)!, seen);
      seen.delete(id);
    } else {
      result = portsFromPragmas(dims, own);
    }
    this.memo.set(id, result);
    return result;
  }

  private isMaxiPort(id: string): boolean {
    return (this.pragmasOf.get(id) ?? []).some((p) => p.directive === 'interface' && (p.options.mode ?? p.flags[0]) === 'm_axi');
  }
}

function aliased(decl: AstNode): string | null {
  const init = decl.init !== undefined ? kids(decl) : [];
  return init.length > 0 ? passedVariable(init[init.length - 1]) : null;
}

function fewest(all: Ports[]): Ports {
  const numbers = all.filter((p): p is number => typeof p === 'number');
  if (numbers.length > 0) return Math.min(...numbers);
  return all.includes('bus') ? 'bus' : 'registers';
}

export function portsFromPragmas(dims: (number | null)[], pragmas: HlsPragma[]): Ports {
  let banks = 1;
  let perBank = 2;
  const complete = new Set<number>();
  for (const p of pragmas) {
    if (p.directive === 'bind_storage') {
      if (/_1p$/i.test(p.options.type ?? '')) perBank = 1;
      continue;
    }
    const type = partitionType(p);
    const dim = intOption(p, 'dim') ?? 1;
    if (type === 'complete') {
      if (dim === 0 || dims.length <= 1) return 'registers';
      complete.add(dim);
      banks *= dims[dim - 1] ?? 1;
    } else if (type !== null) {
      banks *= intOption(p, 'factor') ?? 1;
    }
  }
  if (dims.length > 0 && dims.every((_, i) => complete.has(i + 1))) return 'registers';
  return perBank * banks;
}
