import {
  AGENT_INTERVAL_MAX_MS,
  AGENT_INTERVAL_MIN_MS,
  EPOCH_RE,
  HOST_TOKEN_RE,
  METRIC_NAME_RE,
  SCHEMA_VERSION,
} from './common.ts';
import {
  hasExactly,
  INVALID,
  isCount,
  isObject,
  KNOWN_NAMES_CAP,
  labelsVerdict,
  MAX_MESSAGE_ID,
  VALID,
} from './fast-checks.ts';
import type { MetricPoint, ResourceSample } from './resource.ts';
import { ByPosition } from '../by-position.ts';

/*
 * The collector's hot path: every agent sends a resource sample each interval, and zod's generic object and array
 * walk was the largest cost of intake (bench/e2e.bench.ts, collector throughput). acceptResourceSample() decides the
 * common case, a valid sample, by hand and returns exactly the value ResourceSample.parse() would (same keys, same
 * order, unknown keys stripped, labels passed through as zod's custom schema does), and the input itself when it
 * already is that value, so a valid sample costs no copy. It answers only "yes, valid" or "not sure": on undefined
 * the caller parses with zod, which words the rejection, so bad input is reported and counted as before. It must
 * never accept what zod refuses; test/shared/resource-fast.test.ts holds the two equal on edge values and thousands
 * of random mutations. A change to resource.ts or common.ts must be mirrored here.
 */

const MAX_METRICS = 5000;

/** Keys in the order zod's output has them (resource.ts, common.ts AgentEnvelope). */
const SAMPLE_KEYS = ['v', 'id', 'host', 'ts', 'seq', 'kind', 'intervalMs', 'metrics'];
const SAMPLE_KEYS_EPOCH = ['v', 'id', 'host', 'ts', 'seq', 'epoch', 'kind', 'intervalMs', 'metrics'];
const POINT_KEYS = ['name', 'type', 'value'];
const POINT_KEYS_LABELS = ['name', 'type', 'value', 'labels'];
/** Agents send the same few dozen names in every sample: a name seen valid once skips the regex. */
const knownMetricNames = new Set<string>();

function metricNameValid(name: string): boolean {
  if (knownMetricNames.has(name)) return true;
  if (!METRIC_NAME_RE.test(name)) return false;
  if (knownMetricNames.size < KNOWN_NAMES_CAP) knownMetricNames.add(name);
  return true;
}

/** The metric names of the last sample, by position (a name, unlike a key, is a fresh string every time). */
const metricNameAt = new ByPosition<boolean>(MAX_METRICS);

/** The point itself when it has exactly the schema's keys and no label is a prototype word, else a copy. */
function acceptPoint(point: unknown, at: number): MetricPoint | undefined {
  if (!isObject(point)) return undefined;
  const { name, type, value } = point;
  if (typeof name !== 'string') return undefined;
  if (!(metricNameAt.get(name, at) ?? metricNameAt.set(name, at, metricNameValid(name)))) return undefined;
  if (type !== 'gauge' && type !== 'counter') return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  // zod keeps an optional key that is present, even when its value is undefined, and drops an absent one.
  if (!('labels' in point)) return hasExactly(point, POINT_KEYS) ? (point as MetricPoint) : { name, type, value };
  const labels = point.labels;
  const verdict = labels === undefined ? VALID : isObject(labels) ? labelsVerdict(labels) : INVALID;
  if (verdict === INVALID) return undefined;
  if (verdict === VALID && hasExactly(point, POINT_KEYS_LABELS)) return point as MetricPoint;
  return { name, type, value, labels: labels as MetricPoint['labels'] };
}

/**
 * The parsed sample when `raw` is a valid resource sample; undefined when zod must decide (and word why not).
 * It is `raw` itself when every object in it has exactly the schema's keys in the schema's order and no label key
 * is a prototype word (what an agent sends): decode() then knows the JSON held no key it forbids.
 */
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
  // A copy of the list only once a point had to be copied.
  let copied: MetricPoint[] | undefined;
  for (let i = 0; i < metrics.length; i++) {
    const point = acceptPoint(metrics[i], i);
    if (point === undefined) return undefined;
    if (copied) copied.push(point);
    else if (point !== metrics[i]) {
      copied = metrics.slice(0, i) as MetricPoint[];
      copied.push(point);
    }
  }
  const sameList = copied === undefined && Object.getPrototypeOf(metrics) === Array.prototype;
  const points = sameList ? (metrics as MetricPoint[]) : (copied ?? [...(metrics as MetricPoint[])]);
  const hasEpoch = 'epoch' in raw;
  const epoch = raw.epoch;
  if (hasEpoch && epoch !== undefined && (typeof epoch !== 'string' || !EPOCH_RE.test(epoch))) return undefined;
  if (sameList && hasExactly(raw, hasEpoch ? SAMPLE_KEYS_EPOCH : SAMPLE_KEYS)) return raw as ResourceSample;
  if (!hasEpoch) return { v, id, host, ts, seq, kind, intervalMs, metrics: points };
  return { v, id, host, ts, seq, epoch: epoch as string | undefined, kind, intervalMs, metrics: points };
}
