import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as z from 'zod';
import { formatValue } from './lib.ts';

const SavedRow = z.object({
  name: z.string(),
  value: z.number().nullable(),
  unit: z.string(),
  baseline: z.object({ name: z.string(), value: z.number().nullable() }).optional(),
});
const SavedReport = z.object({ machine: z.string(), date: z.string(), bench: z.string(), rows: z.array(SavedRow) });
type SavedReport = z.infer<typeof SavedReport>;

const RESULTS = new URL('./results/', import.meta.url);

/**
 * The one table: every saved row that has a baseline from the same run (offhook, the peer, the ratio), read back from
 * bench/results/*.json, so it covers the benchmarks of earlier runs too and says each one's date. A partial run's file
 * (e2e-latency, e2e-log...) and the full run's file can hold the same row (the name compared without its parenthesis):
 * the newer one is shown.
 * Printed and written to bench/results/summary.md.
 */
export function summary(): string {
  const reports: SavedReport[] = [];
  for (const file of readdirSync(RESULTS).filter((f) => f.endsWith('.json'))) {
    const parsed = SavedReport.safeParse(JSON.parse(readFileSync(new URL(file, RESULTS), 'utf8')));
    // A results file of another shape (hand-written, older schema) is left out of the summary, not a failure.
    if (parsed.success) reports.push(parsed.data);
  }
  reports.sort((a, b) => b.date.localeCompare(a.date));
  // Which report showed a row first: rows of one report never hide each other ("agent (built) RSS" and
  // "agent (tsx) RSS" are both kept); only an older report's row of the same name is hidden.
  const seen = new Map<string, SavedReport>();
  const rows: string[][] = [];
  for (const report of reports) {
    const family = report.bench.split('-')[0]!;
    for (const row of report.rows) {
      // Without its parenthesis ("(example config: 30 trials)"), so a newer partial run's row replaces the older one.
      const key = `${family}\0${row.name.replace(/\s*\([^)]*\)/g, '')}`;
      const base = row.baseline;
      const shownBy = seen.get(key);
      if (!base || row.value === null || base.value === null || (shownBy && shownBy !== report)) continue;
      seen.set(key, report);
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
  writeFileSync(new URL('summary.md', RESULTS), `${text}\n`);
  return text;
}
