/**
 * The two kinds of text tables the AMD tools print, parsed into rows keyed by column
 * header, so that readers pick columns by name (column sets differ between releases:
 * report_utilization gained "Prohibited", for one).
 *
 * Box tables (report_utilization, the cosim report):
 *     +----------+----------+---------------+
 *     |          |          |  Latency      |      a header cell may span columns, and
 *     +   RTL    +  Status  +------+--------+      headers may take several lines: a
 *     |          |          |  min |  max   |      column's name joins every header cell
 *     +----------+----------+------+--------+      above it ("Latency min")
 *     |   Verilog|      Pass|    10|      12|
 *     +----------+----------+------+--------+
 * Dash tables (report_timing_summary): a header line, a line of dashes under each header,
 * then rows of whitespace-separated values ({...} stays one value).
 */

export interface TextTable {
  /** The nearest heading above the table ("3. BLOCKRAM"), if any. */
  title?: string;
  columns: string[];
  rows: Array<Record<string, string>>;
}

const BORDER = /^\+[-=+]*\+$/;

function isBorder(line: string): boolean {
  return BORDER.test(line.trim()) && line.includes('-');
}

/** Cells of a box-table line between `|`/`+` delimiters, with their column ranges. */
function cells(line: string, delims: string): Array<{ from: number; to: number; text: string }> {
  const out: Array<{ from: number; to: number; text: string }> = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    if (delims.includes(line[i])) {
      if (start >= 0) out.push({ from: start + 1, to: i, text: line.slice(start + 1, i) });
      start = i;
    }
  }
  return out;
}

export function parseBoxTables(text: string): TextTable[] {
  const lines = text.split(/\r?\n/);
  const tables: TextTable[] = [];
  let i = 0;
  let title: string | undefined;
  while (i < lines.length) {
    const t = lines[i].trim();
    if (!t.startsWith('+') || !isBorder(lines[i])) {
      if (t !== '' && !/^[-=]+$/.test(t) && !t.startsWith('|')) title = t;
      i++;
      continue;
    }
    // A block of table lines.
    const block: string[] = [];
    while (i < lines.length && /^\s*[|+]/.test(lines[i])) block.push(lines[i++]);
    const borders = block.map((l, k) => (isBorder(l) ? k : -1)).filter((k) => k >= 0);
    if (borders.length < 2) continue;
    const header = block.slice(borders[0] + 1, borders[1]);
    const data = block.slice(borders[1] + 1).filter((l) => !isBorder(l) && l.trim().startsWith('|'));
    if (header.length === 0 || data.length === 0) continue;
    const spans = cells(data[0], '|');
    const columns = spans.map((s) => {
      const mid = (s.from + s.to) / 2;
      const parts: string[] = [];
      for (const h of header) {
        const c = cells(h, '|+').find((x) => x.from <= mid && mid < x.to);
        const name = c?.text.trim() ?? '';
        if (name !== '' && !/^-+$/.test(name)) parts.push(name);
      }
      return parts.join(' ');
    });
    const rows = data.map((l) => {
      const vals = cells(l, '|').map((c) => c.text.trim());
      const row: Record<string, string> = {};
      columns.forEach((c, k) => (row[c] = vals[k] ?? ''));
      return row;
    });
    tables.push({ title, columns, rows });
  }
  return tables;
}

/** The dash table whose header line contains `firstHeader`, or undefined. */
export function parseDashTable(text: string, firstHeader: string): TextTable | undefined {
  const lines = text.split(/\r?\n/);
  for (let h = 0; h + 1 < lines.length; h++) {
    if (!lines[h].includes(firstHeader)) continue;
    const dashes = lines[h + 1];
    if (!/^\s*-+(\s+-+)*\s*$/.test(dashes)) continue;
    const spans = [...dashes.matchAll(/-+/g)].map((m) => ({ from: m.index!, to: m.index! + m[0].length }));
    const columns = spans.map((s) => lines[h].slice(s.from, s.to).trim());
    const rows: Array<Record<string, string>> = [];
    for (let r = h + 2; r < lines.length && lines[r].trim() !== ''; r++) {
      const vals = [...lines[r].matchAll(/\{[^}]*\}|\S+/g)].map((m) => m[0]);
      if (vals.length !== columns.length) break;
      const row: Record<string, string> = {};
      columns.forEach((c, k) => (row[c] = vals[k]));
      rows.push(row);
    }
    return { columns, rows };
  }
  return undefined;
}
