/**
 * Where each field of a model description was written, keyed by JSON-pointer-like paths
 * ("/moe/topK"). Kept as a tree of path segments so that moving or clearing everything
 * under a path (spreads, property access) costs the size of what moves, not of all that
 * was recorded: a spread of n elements would otherwise scan every position n times.
 */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

interface PositionNode {
  at?: SourcePosition;
  children: Map<string, PositionNode>;
}

export class PositionTree {
  private readonly root: PositionNode = { children: new Map() };

  set(path: string, at: SourcePosition): void {
    this.node(path, true)!.at = at;
  }

  /** Moves everything recorded under `from` (and `from` itself) to `to`, replacing what is there. */
  move(from: string, to: string): void {
    const moved = this.detach(from);
    if (moved) merge(this.node(to, true)!, moved);
  }

  /** Moves the elements recorded under `from` (an array) to `to`, element i landing at index offset + i; forgets the rest of `from`. */
  moveElements(from: string, to: string, offset: number): void {
    const moved = this.detach(from);
    if (!moved) return;
    const into = this.node(to, true)!;
    for (const [k, c] of moved.children) {
      if (!/^\d+$/.test(k)) continue;
      const key = String(offset + Number(k));
      const existing = into.children.get(key);
      if (existing) merge(existing, c);
      else into.children.set(key, c);
    }
  }

  /** Forgets everything recorded under `path` (and `path` itself). */
  clear(path: string): void {
    this.detach(path);
  }

  /** The positions as a flat map from path to position. */
  toMap(): Map<string, SourcePosition> {
    const out = new Map<string, SourcePosition>();
    const walk = (n: PositionNode, path: string): void => {
      if (n.at) out.set(path, n.at);
      for (const [k, c] of n.children) walk(c, `${path}/${k}`);
    };
    walk(this.root, '');
    return out;
  }

  private node(path: string, create: boolean): PositionNode | undefined {
    let cur = this.root;
    for (const seg of segments(path)) {
      let next = cur.children.get(seg);
      if (!next) {
        if (!create) return undefined;
        next = { children: new Map() };
        cur.children.set(seg, next);
      }
      cur = next;
    }
    return cur;
  }

  private detach(path: string): PositionNode | undefined {
    const segs = segments(path);
    if (segs.length === 0) {
      const all: PositionNode = { at: this.root.at, children: new Map(this.root.children) };
      this.root.at = undefined;
      this.root.children.clear();
      return all;
    }
    const parent = this.node(segs.slice(0, -1).map((s) => `/${s}`).join(''), false);
    const last = segs[segs.length - 1];
    const n = parent?.children.get(last);
    if (n) parent!.children.delete(last);
    return n;
  }
}

/** "" is the root; "/a/b" has the segments a, b. */
function segments(path: string): string[] {
  return path === '' ? [] : path.slice(1).split('/');
}

function merge(into: PositionNode, from: PositionNode): void {
  if (from.at) into.at = from.at;
  for (const [k, c] of from.children) {
    const existing = into.children.get(k);
    if (existing) merge(existing, c);
    else into.children.set(k, c);
  }
}
