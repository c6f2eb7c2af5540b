import * as z from 'zod';

/** Wire schema version carried as `v` in every payload. Bump on breaking changes only. */
export const SCHEMA_VERSION = 1 as const;

/** Payload size above which a message is rejected before parsing (a hostile or broken producer). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export const HOST_TOKEN_RE = /^[A-Za-z0-9_-]{1,128}$/;
export const FINGERPRINT_RE = /^[0-9a-f]{16}$/;
export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/;
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;

export const HostToken = z.string().regex(HOST_TOKEN_RE, {
  error: 'expected a host token [A-Za-z0-9_-]{1,128} (dots in host names become "_")',
});
export const Fingerprint = z.string().regex(FINGERPRINT_RE, { error: 'expected 16 lowercase hex digits' });
export const EpochMs = z.number().int().nonnegative();
export const MessageId = z.string().min(1).max(128);
export const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof Severity>;
export const CheckStatus = z.enum(['ok', 'warning', 'critical', 'unknown']);
export type CheckStatus = z.infer<typeof CheckStatus>;

const MAX_LABELS = 64;
const MAX_LABEL_VALUE = 1024;

/**
 * Labels are a flat string map with Prometheus-style names. The name pattern and the reserved `__` prefix also keep
 * `__proto__` out, so labels can be merged into plain objects safely. Checked in one pass over the keys rather than
 * as z.record(key, value) with refinements: every metric point of every event carries labels, and the record's
 * per-key sub-parses were the collector's largest cost (68 -> 13 us per 38-point sample, bench/collector-intake.ts).
 */
export const Labels = z.custom<Record<string, string>>().superRefine((labels, ctx) => {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    ctx.addIssue({ code: 'custom', message: 'expected an object of label names to string values' });
    return;
  }
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_LABELS} labels` });
  for (const key of keys) {
    const value: unknown = labels[key];
    if (!LABEL_NAME_RE.test(key))
      ctx.addIssue({ code: 'custom', path: [key], message: 'label names must match [a-zA-Z_][a-zA-Z0-9_]*' });
    else if (key.startsWith('__'))
      ctx.addIssue({ code: 'custom', path: [key], message: 'label names starting with "__" are reserved' });
    if (typeof value !== 'string')
      ctx.addIssue({ code: 'custom', path: [key], message: `expected a string, got ${typeof value}` });
    else if (value.length > MAX_LABEL_VALUE)
      ctx.addIssue({ code: 'custom', path: [key], message: `expected at most ${MAX_LABEL_VALUE} characters` });
  }
});
export type Labels = z.infer<typeof Labels>;

/** Fields every message carries; `id` is also the JetStream Nats-Msg-Id, so a re-send is stored once (publish.ts). */
export const Envelope = z.object({
  v: z.literal(SCHEMA_VERSION),
  id: MessageId,
  host: HostToken,
  ts: EpochMs,
});

/**
 * Bounds of an agent's heartbeat and sampling intervals, shared by the agent's config and the wire schemas:
 * a message claiming an interval the agent could never be configured with is invalid (a 1 ms heartbeat
 * interval would make host_down fire between two real heartbeats).
 */
export const AGENT_INTERVAL_MIN_MS = 100;
export const AGENT_INTERVAL_MAX_MS = 3_600_000;
export const AgentIntervalMs = z
  .number()
  .int()
  .min(AGENT_INTERVAL_MIN_MS, { error: `expected at least ${AGENT_INTERVAL_MIN_MS} ms (the agent's lowest interval)` })
  .max(AGENT_INTERVAL_MAX_MS, { error: `expected at most ${AGENT_INTERVAL_MAX_MS} ms (1h, the agent's highest)` });

/** A count that no agent reaches (a billion): bounds spool depths and suppressed-match counts. */
export const MAX_AGENT_COUNT = 1_000_000_000;

export const EPOCH_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** Names one sequence numbering of an agent (its state dir's); a new epoch starts `seq` again at 1. */
export const Epoch = z.string().regex(EPOCH_RE, { error: 'expected an epoch id [A-Za-z0-9_-]{1,64}' });

/**
 * Agent-produced messages add the per-host sequence number so a consumer can see gaps, and the epoch
 * that numbering belongs to. `epoch` is optional so messages of agents from before it still decode: the
 * collector keeps one position for all of those (see collector/README.md, Limits).
 */
export const AgentEnvelope = Envelope.extend({ seq: z.number().int().nonnegative(), epoch: Epoch.optional() });
