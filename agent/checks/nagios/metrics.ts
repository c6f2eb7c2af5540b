import { createHash } from 'node:crypto';
import type { MetricPoint } from '../../../shared/index.ts';
import type { PerfItem, Range } from './perfdata.ts';

/**
 * Perfdata items as metric points a collector threshold rule can match:
 * `nagios_<label>` (value), `_warn`/`_crit` (alert above), `_warn_low`/`_crit_low` (alert below,
 * when the range gives a low bound), `_min`, `_max`; labels `check`, `label` (the original perfdata
 * label) and `unit` (the base unit after conversion). Inverted ranges (`@10:20`) have no single
 * bound to export and are left out.
 */

/** CheckResult carries at most 200 points (shared schema); one is kept for the error count. */
export const MAX_PERFDATA_POINTS = 199;

/** Nagios byte units are powers of 1024, as check_disk means them. */
const UNITS: Record<string, { factor: number; unit: string }> = {
  s: { factor: 1, unit: 'seconds' },
  ms: { factor: 1e-3, unit: 'seconds' },
  us: { factor: 1e-6, unit: 'seconds' },
  µs: { factor: 1e-6, unit: 'seconds' },
  '%': { factor: 1, unit: 'percent' },
  B: { factor: 1, unit: 'bytes' },
  KB: { factor: 1024, unit: 'bytes' },
  kB: { factor: 1024, unit: 'bytes' },
  KiB: { factor: 1024, unit: 'bytes' },
  MB: { factor: 1024 ** 2, unit: 'bytes' },
  MiB: { factor: 1024 ** 2, unit: 'bytes' },
  GB: { factor: 1024 ** 3, unit: 'bytes' },
  GiB: { factor: 1024 ** 3, unit: 'bytes' },
  TB: { factor: 1024 ** 4, unit: 'bytes' },
  TiB: { factor: 1024 ** 4, unit: 'bytes' },
  PB: { factor: 1024 ** 5, unit: 'bytes' },
  PiB: { factor: 1024 ** 5, unit: 'bytes' },
};

// Room for "nagios_" and the longest suffix ("_crit_low") within the 200-character metric name limit.
const MAX_NAME_CHARS = 170;

/** `/var/log` → `_var_log`: every character outside [a-zA-Z0-9_] becomes `_`; long labels are cut and hashed. */
export function metricBaseName(label: string): string {
  const safe = Array.from(label, (ch) => (/[a-zA-Z0-9_]/.test(ch) ? ch : '_')).join('');
  if (safe.length <= MAX_NAME_CHARS) return `nagios_${safe}`;
  const hash = createHash('sha256').update(label).digest('hex').slice(0, 8);
  return `nagios_${safe.slice(0, MAX_NAME_CHARS - 9)}_${hash}`;
}

// Rounds away float noise from unit conversion (0.1 * 1e-3) so golden files and summaries stay readable.
function scaled(value: number, factor: number): number {
  return factor === 1 ? value : Number((value * factor).toPrecision(15));
}

export function perfdataMetrics(items: PerfItem[], check: string): { points: MetricPoint[]; errors: string[] } {
  const points: MetricPoint[] = [];
  const errors: string[] = [];
  const seen = new Map<string, string>();
  for (const item of items) {
    const base = metricBaseName(item.label);
    const other = seen.get(base);
    if (other !== undefined) {
      errors.push(
        `${JSON.stringify(item.label)}: same metric name ${base} as ${JSON.stringify(other)}; kept the first`,
      );
      continue;
    }
    seen.set(base, item.label);
    const known = UNITS[item.uom];
    const factor = known?.factor ?? 1;
    const unit = item.uom === 'c' ? '' : (known?.unit ?? item.uom);
    const labels = { check, label: item.label, ...(unit ? { unit } : {}) };
    const mine: MetricPoint[] = [
      { name: base, type: item.uom === 'c' ? 'counter' : 'gauge', value: scaled(item.value, factor), labels },
    ];
    const bound = (suffix: string, value: number): void =>
      void mine.push({ name: `${base}_${suffix}`, type: 'gauge', value: scaled(value, factor), labels });
    for (const [field, range] of [
      ['warn', item.warn],
      ['crit', item.crit],
    ] as [string, Range | undefined][]) {
      if (!range || range.inside) continue;
      if (Number.isFinite(range.high)) bound(field, range.high);
      if (range.lowGiven) bound(`${field}_low`, range.low);
    }
    if (item.min !== undefined) bound('min', item.min);
    if (item.max !== undefined) bound('max', item.max);
    if (points.length + mine.length > MAX_PERFDATA_POINTS) {
      const dropped = items.length - items.indexOf(item);
      errors.push(
        `${dropped} items from ${JSON.stringify(item.label)} on dropped: ` +
          `a result carries at most ${MAX_PERFDATA_POINTS} perfdata points`,
      );
      break;
    }
    points.push(...mine);
  }
  return { points, errors };
}
