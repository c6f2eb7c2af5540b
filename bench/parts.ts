import type { BenchRow } from './lib.ts';

/**
 * The parts of a bench that OFFHOOK_BENCH_PARTS runs alone, in the order a run measures them. A run of some of them
 * writes bench/results/<bench>-<part>-<part>.json, so it never replaces the full run's <bench>.json; the summary reads
 * the parts from that name where a results file predates reports recording them.
 */
export const BENCH_PARTS: Record<string, readonly string[]> = {
  agent: ['sample', 'log', 'footprint'],
  e2e: ['latency', 'log', 'throughput', 'footprint'],
};

/** The parts this run measures (OFFHOOK_BENCH_PARTS, comma-separated; default all) and the report name saying so. */
export function runParts(bench: string): { bench: string; parts: string[] } {
  const all = BENCH_PARTS[bench] ?? [];
  const parts = (process.env.OFFHOOK_BENCH_PARTS ?? all.join(',')).split(',');
  const full = all.every((part) => parts.includes(part));
  return full ? { bench, parts: [...all] } : { bench: `${bench}-${parts.join('-')}`, parts };
}

/**
 * Measures the chosen parts in the bench's order, each row marked with its part: the summary then knows that a part
 * run again without a row no longer measures it.
 */
export async function measureParts(
  parts: string[],
  measures: [part: string, measure: () => Promise<BenchRow[]>][],
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const [part, measure] of measures) {
    if (parts.includes(part)) rows.push(...(await measure()).map((row) => ({ ...row, part })));
  }
  return rows;
}
