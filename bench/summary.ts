import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { formatValue } from './lib.ts';
import { BENCH_PARTS } from './parts.ts';

const SavedRow = z.object({
  name: z.string(),
  value: z.number().nullable(),
  unit: z.string(),
  baseline: z.object({ name: z.string(), value: z.number().nullable() }).optional(),
  part: z.string().optional(),
});
type SavedRow = z.infer<typeof SavedRow>;
const SavedReport = z.object({
  machine: z.string(),
  date: z.string(),
  bench: z.string(),
  parts: z.array(z.string()).optional(),
  rows: z.array(SavedRow),
});
type SavedReport = z.infer<typeof SavedReport>;

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

/** A saved report placed in its bench (`family`); `parts` null for a bench without parts, each run measuring it all. */
interface Run {
  report: SavedReport;
  family: string;
  parts: string[] | null;
  /** Per row, the part that measured it; undefined where a results file saved before rows recorded it cannot tell. */
  rowParts: (string | undefined)[];
}

/** The name compared across reports: without its parenthesis ("(example config: 30 trials)"), which may change. */
function rowKey(row: SavedRow): string {
  return row.name.replace(/\s*\([^)]*\)/g, '');
}

/** The bench a report belongs to and the parts it measured: as recorded or, in an older file, as its name says. */
function placed(report: SavedReport): Omit<Run, 'rowParts'> {
  for (const [family, all] of Object.entries(BENCH_PARTS)) {
    const suffix = report.bench.startsWith(`${family}-`) ? report.bench.slice(family.length + 1).split('-') : [];
    const named = report.bench === family ? [...all] : suffix;
    if (named.length > 0 && named.every((part) => all.includes(part))) {
      return { report, family, parts: report.parts ?? named };
    }
  }
  return { report, family: report.bench, parts: null };
}

/**
 * Which part measured each row, for results saved before rows recorded it: a one-part report's rows are that part's,
 * a row named as one of a known part elsewhere in its bench is that part's, and a row between (or before the first,
 * after the last) rows of one part is that part's too, since a run measures part after part in the bench's order.
 * Anything else stays unknown.
 */
function withRowParts(runs: Omit<Run, 'rowParts'>[]): Run[] {
  const direct = (run: Omit<Run, 'rowParts'>, row: SavedRow): string | undefined =>
    row.part ?? (run.parts?.length === 1 ? run.parts[0] : undefined);
  const known = new Map<string, string>();
  for (const run of runs) {
    for (const row of run.report.rows) {
      const part = direct(run, row);
      const key = `${run.family}\0${rowKey(row)}`;
      if (part !== undefined && !known.has(key)) known.set(key, part);
    }
  }
  return runs.map((run) => {
    if (run.parts === null) return { ...run, rowParts: run.report.rows.map(() => undefined) };
    const order = (BENCH_PARTS[run.family] ?? []).filter((part) => run.parts?.includes(part));
    const found = run.report.rows.map((row) => direct(run, row) ?? known.get(`${run.family}\0${rowKey(row)}`));
    const rowParts = found.map((part, i) => {
      if (part !== undefined) return part;
      const before = found.slice(0, i).findLast((p) => p !== undefined) ?? order[0];
      const after = found.slice(i + 1).find((p) => p !== undefined) ?? order.at(-1);
      return before === after ? before : undefined;
    });
    return { ...run, rowParts };
  });
}

/** `newer` (a later run of the same bench) measured `part` again; a full run, or a bench without parts, all of it. */
function remeasured(newer: Run, run: Run, part: string | undefined): boolean {
  if (newer.family !== run.family) return false;
  const parts = newer.parts;
  if (parts === null || (BENCH_PARTS[newer.family] ?? []).every((p) => parts.includes(p))) return true;
  return part !== undefined && parts.includes(part);
}

/**
 * The one table: every saved row with a baseline from the same run (offhook, the peer, the ratio), read back from
 * `dir`/*.json (bench/results), so it covers the benchmarks of earlier runs too and says each one's date. Only what
 * the newest run of each part of a bench still measures is shown: a row is left out once a newer run of its bench
 * measured its part again (a partial run's e2e-latency.json replaces the latency rows of an older e2e.json, whether
 * or not it still has each row: a measurement renamed or dropped does not linger), or has a row of its name (the name
 * compared without its parenthesis: the fallback for old rows of an unknown part). Rows of one report never hide each
 * other ("agent (built) RSS" and "agent (tsx) RSS" are both kept). Printed and written to `dir`/summary.md.
 */
export function summary(dir = RESULTS): string {
  const reports: SavedReport[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const parsed = SavedReport.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    // A results file of another shape (hand-written, older schema) is left out of the summary, not a failure.
    if (parsed.success) reports.push(parsed.data);
  }
  reports.sort((a, b) => b.date.localeCompare(a.date));
  const runs = withRowParts(reports.map(placed));
  const rows: string[][] = [];
  for (const [i, run] of runs.entries()) {
    const { report } = run;
    const newer = runs.slice(0, i).filter((other) => other.family === run.family);
    for (const [r, row] of report.rows.entries()) {
      const base = row.baseline;
      if (!base || row.value === null || base.value === null) continue;
      const key = rowKey(row);
      const named = (other: Run): boolean => other.report.rows.some((o) => rowKey(o) === key);
      if (newer.some((other) => remeasured(other, run, run.rowParts[r]) || named(other))) continue;
      rows.push([
        report.bench,
        row.name,
        `${formatValue(row.value)} ${row.unit}`,
        base.name,
        `${formatValue(base.value)} ${row.unit}`,
        base.value !== 0 ? `${(row.value / base.value).toFixed(2)}x` : '',
        report.date.slice(0, 16).replace('T', ' '),
      ]);
    }
  }
  const header = ['bench', 'measurement', 'offhook', 'peer / baseline', 'peer value', 'ratio', 'run (UTC)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const machines = [...new Set(reports.map((r) => r.machine))].join('; ');
  const text = [
    '## summary: every row with a baseline, from bench/results/*.json',
    `machine(s): ${machines}. ratio = offhook / baseline (for a latency lower is better, for a rate higher is).`,
    '',
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
  writeFileSync(join(dir, 'summary.md'), `${text}\n`);
  return text;
}
