import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { type MetricPoint, type ResourceSample, SCHEMA_VERSION } from '../shared/index.ts';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** Same measurement of the baseline run in the same process or run (raw NATS, tail|grep, node_exporter...). */
  baseline?: { name: string; value: number };
  note?: string;
  /** The part of a bench with parts (bench/parts.ts) that measured it. */
  part?: string;
}

export interface BenchReport {
  bench: string;
  /** The parts this run measured, for a bench with parts (bench/parts.ts). */
  parts?: string[];
  rows: BenchRow[];
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} cores, ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`;
}

/**
 * Epoch ms with sub-ms resolution for latencies measured inside the bench process (Date.now() steps by 1 ms, as big
 * as the log path's whole budget). Compare it only with itself or with Date.now()-based times of other processes.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Prints a fixed-width table (with the ratio to the baseline where there is one) and writes JSON under bench/results/.
 */
export function report(result: BenchReport): string {
  const header = ['measurement', 'value', 'unit', 'baseline', 'baseline value', 'ratio'];
  const rows = result.rows.map((row) => [
    row.name,
    formatValue(row.value),
    row.unit,
    row.baseline?.name ?? '',
    row.baseline ? formatValue(row.baseline.value) : '',
    row.baseline && row.baseline.value !== 0 ? `${(row.value / row.baseline.value).toFixed(2)}x` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const text = [
    `## ${result.bench} (${machine()})`,
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
    ...result.rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`),
  ].join('\n');
  process.stdout.write(`${text}\n\n`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL(`./results/${result.bench}.json`, import.meta.url),
    JSON.stringify({ machine: machine(), date: new Date().toISOString(), ...result }, null, 2),
  );
  return text;
}

export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** One agent's resource sample as it goes on the wire, every 10 s; the benches differ only in its points. */
export function resourceSample(host: string, seq: number, metrics: MetricPoint[]): ResourceSample {
  return {
    v: SCHEMA_VERSION,
    id: `${host}-${seq}`,
    host,
    ts: Date.now(),
    seq,
    kind: 'resource',
    intervalMs: 10_000,
    metrics,
  };
}
