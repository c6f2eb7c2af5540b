import { EPOCH_RE, HOST_TOKEN_RE, MAX_AGENT_COUNT, SCHEMA_VERSION } from './common.ts';
import { INVALID, isCount, isObject, isText, labelsVerdict, MAX_MESSAGE_ID } from './fast-checks.ts';
import { MAX_LOG_LINE_CHARS, type LogMatch } from './log.ts';

/*
 * A matched log line's way to a phone call: the agent checks the event it builds and the collector the event it
 * receives, each once per line, and a lone line finds both processes idle. LogMatch.safeParse() then took ~0.25 ms
 * in the collector and ~0.1-0.25 ms in the agent (bench/e2e-log.ts, 2-core VM, code gone cold between lines); this
 * decides the common case, a valid event, in a few microseconds and returns what zod would (a new object, the schema's
 * keys in its order, defaults filled in, unknown keys stripped, labels passed through as zod's custom schema does).
 * It answers only "yes, valid" or "not sure" (undefined): zod then decides and words the rejection, so bad input is
 * reported and counted as before. It must never accept what zod refuses; test/shared/log-fast.test.ts holds the two
 * equal on edge values and random mutations. A change to log.ts or common.ts must be mirrored here.
 */

const KEYS = [
  'v',
  'id',
  'host',
  'ts',
  'seq',
  'epoch',
  'kind',
  'file',
  'rule',
  'severity',
  'line',
  'truncated',
  'inode',
  'offset',
  'labels',
  'suppressed',
] as const;
const SEVERITIES = new Set<unknown>(['info', 'warning', 'critical']);

/** The event as LogMatch.parse() returns it when `raw` is a valid log match; undefined when zod must decide. */
export function acceptLogMatch(raw: unknown): LogMatch | undefined {
  if (!isObject(raw)) return undefined;
  // Present but undefined (never so in JSON): zod's rules for that (defaults, kept keys) are left to zod.
  for (const key of KEYS) if (key in raw && raw[key] === undefined) return undefined;
  const { v, id, host, ts, seq, epoch, kind, file, rule, severity, line, inode, offset, labels } = raw;
  const truncated = 'truncated' in raw ? raw.truncated : false;
  const suppressed = 'suppressed' in raw ? raw.suppressed : 0;
  if (v !== SCHEMA_VERSION || kind !== 'log') return undefined;
  if (!isText(id, 1, MAX_MESSAGE_ID) || typeof host !== 'string' || !HOST_TOKEN_RE.test(host)) return undefined;
  if (!isCount(ts) || !isCount(seq)) return undefined;
  if (epoch !== undefined && (typeof epoch !== 'string' || !EPOCH_RE.test(epoch))) return undefined;
  if (!isText(file, 1, 1024) || !isText(rule, 1, 200) || !SEVERITIES.has(severity)) return undefined;
  if (!isText(line, 0, MAX_LOG_LINE_CHARS) || typeof truncated !== 'boolean') return undefined;
  if (!isCount(inode) || !isCount(offset) || !isCount(suppressed) || suppressed > MAX_AGENT_COUNT) return undefined;
  if (labels !== undefined && (!isObject(labels) || labelsVerdict(labels) === INVALID)) return undefined;
  const event = { v, id, host, ts, seq, ...(epoch !== undefined ? { epoch } : {}) };
  const body = { kind, file, rule, severity, line, truncated, inode, offset };
  return { ...event, ...body, ...(labels !== undefined ? { labels } : {}), suppressed } as LogMatch;
}
