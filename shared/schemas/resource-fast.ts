import {
  AGENT_INTERVAL_MAX_MS,
  AGENT_INTERVAL_MIN_MS,
  EPOCH_RE,
  HOST_TOKEN_RE,
  LABEL_NAME_RE,
  METRIC_NAME_RE,
  SCHEMA_VERSION,
} from './common.ts';
import type { MetricPoint, ResourceSample } from './resource.ts';

/*
 * The collector's hot path: every agent sends a resource sample each interval, and zod's generic object and array
 * walk was the largest cost of intake (bench/e2e.bench.ts, collector throughput). acceptResourceSample() decides the
 * common case, a valid sample, by hand and returns exactly the value ResourceSample.parse() would (same keys, same
 * order, unknown keys stripped, labels passed through as zod's custom schema does). It answers only "yes, valid"
 * or "not sure": on undefined the caller parses with zod, which words the rejection, so bad input is reported and
 * counted as before. It must never accept what zod refuses; test/shared/resource-fast.test.ts holds the two equal
 * on edge values and thousands of random mutations. A change to resource.ts or common.ts must be mirrored here.
 */

const MAX_METRICS = 5000;
const MAX_LABELS = 64;
const MAX_LABEL_VALUE = 1024;
const MAX_MESSAGE_ID = 128;

type Loose = Record<string, unknown>;

function isObject(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** zod 4's number().int() accepts safe integers only. */
function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function labelsValid(labels: Loose): boolean {
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) return false;
  for (const key of keys) {
    if (!LABEL_NAME_RE.test(key) || key.startsWith('__')) return false;
    const value = labels[key];
    if (typeof value !== 'string' || value.length > MAX_LABEL_VALUE) return false;
  }
  return true;
}

function acceptPoint(point: unknown): MetricPoint | undefined {
  if (!isObject(point)) return undefined;
  const { name, type, value } = point;
  if (typeof name !== 'string' || !METRIC_NAME_RE.test(name)) return undefined;
  if (type !== 'gauge' && type !== 'counter') return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  // zod keeps an optional key that is present, even when its value is undefined, and drops an absent one.
  if (!('labels' in point)) return { name, type, value };
  const labels = point.labels;
  if (labels !== undefined && !(isObject(labels) && labelsValid(labels))) return undefined;
  return { name, type, value, labels: labels as MetricPoint['labels'] };
}

/** The parsed sample when `raw` is a valid resource sample; undefined when zod must decide (and word why not). */
export function acceptResourceSample(raw: unknown): ResourceSample | undefined {
  if (!isObject(raw)) return undefined;
  const { v, id, host, ts, seq, kind, intervalMs, metrics } = raw;
  if (v !== SCHEMA_VERSION || kind !== 'resource') return undefined;
  if (typeof id !== 'string' || id.length < 1 || id.length > MAX_MESSAGE_ID) return undefined;
  if (typeof host !== 'string' || !HOST_TOKEN_RE.test(host)) return undefined;
  if (!isCount(ts) || !isCount(seq)) return undefined;
  if (!isCount(intervalMs) || intervalMs < AGENT_INTERVAL_MIN_MS || intervalMs > AGENT_INTERVAL_MAX_MS)
    return undefined;
  if (!Array.isArray(metrics) || metrics.length > MAX_METRICS) return undefined;
  const points: MetricPoint[] = new Array(metrics.length);
  for (let i = 0; i < metrics.length; i++) {
    const point = acceptPoint(metrics[i]);
    if (point === undefined) return undefined;
    points[i] = point;
  }
  if (!('epoch' in raw)) return { v, id, host, ts, seq, kind, intervalMs, metrics: points };
  const epoch = raw.epoch;
  if (epoch !== undefined && (typeof epoch !== 'string' || !EPOCH_RE.test(epoch))) return undefined;
  return { v, id, host, ts, seq, epoch: epoch as string | undefined, kind, intervalMs, metrics: points };
}
