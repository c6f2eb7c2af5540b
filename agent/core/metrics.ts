import {
  Counter,
  EVENT_KINDS,
  Gauge,
  Histogram,
  initCounter,
  labelProduct,
  type Registry,
} from '../../shared/index.ts';

/** What publisher.ts's failureReason() can answer. */
export const PUBLISH_FAILURE_REASONS = ['no_stream', 'timeout', 'disconnected', 'other'] as const;

/** The agent's own health, as an operator scrapes it from /metrics. */
export function createAgentMetrics(registry: Registry) {
  const r = [registry];
  // The log sources count per line in plain numbers and add them to the counters below when the registry is read (a
  // scrape): a labelled inc() hashes and checks its labels, ~0.02 ms each on an idle agent's way from a line to NATS.
  const logCounts = new Set<() => void>();
  const collect = (): void => {
    for (const flush of logCounts) flush();
  };
  const metrics = {
    checkDuration: new Histogram({
      name: 'offhook_agent_check_duration_seconds',
      help: 'Time each check run took',
      labelNames: ['check', 'kind'],
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    checkRuns: new Counter({
      name: 'offhook_agent_check_runs_total',
      help: 'Check runs by resulting status',
      labelNames: ['check', 'kind', 'status'],
      registers: r,
    }),
    checkFailures: new Counter({
      name: 'offhook_agent_check_failures_total',
      help: 'Check runs that did not end ok: probe error, timeout or a bad answer',
      labelNames: ['check', 'kind', 'reason'],
      registers: r,
    }),
    checkEarlyRuns: new Counter({
      name: 'offhook_agent_check_early_runs_total',
      help: 'Check runs started before their time; reason connection_closed: the server closed the held connection',
      labelNames: ['check', 'reason'],
      registers: r,
    }),
    checkEarlyRunsSkipped: new Counter({
      name: 'offhook_agent_check_early_runs_skipped_total',
      help: 'Early runs not made: the check ran early less than half its interval before',
      labelNames: ['check', 'reason'],
      registers: r,
    }),
    checkStatus: new Gauge({
      name: 'offhook_agent_check_status',
      help: 'Last status: 0 ok, 1 warning, 2 critical, 3 unknown',
      labelNames: ['check', 'kind'],
      registers: r,
    }),
    sampleDuration: new Histogram({
      name: 'offhook_agent_resource_sample_duration_seconds',
      help: 'Time to read /proc for one resource sample',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: r,
    }),
    fastSamples: new Counter({
      name: 'offhook_agent_fast_samples_total',
      help: 'Partial resource samples published between full ones because a gauge group moved past its deadband',
      labelNames: ['family'],
      registers: r,
    }),
    published: new Counter({
      name: 'offhook_agent_events_published_total',
      help: 'Events acknowledged by JetStream',
      labelNames: ['kind'],
      registers: r,
    }),
    publishErrors: new Counter({
      name: 'offhook_agent_publish_errors_total',
      help: 'Failed JetStream publishes (the event went to or stayed in the spool)',
      labelNames: ['reason'],
      registers: r,
    }),
    invalidEvents: new Counter({
      name: 'offhook_agent_invalid_events_total',
      help: 'Events the agent built that failed schema validation (a bug; not published)',
      labelNames: ['kind'],
      registers: r,
    }),
    spoolDepth: new Gauge({
      name: 'offhook_agent_spool_depth',
      help: 'Events waiting in the on-disk spool',
      registers: r,
    }),
    spoolBytes: new Gauge({ name: 'offhook_agent_spool_bytes', help: 'Bytes used by the on-disk spool', registers: r }),
    spoolDropped: new Counter({
      name: 'offhook_agent_spool_dropped_total',
      help: 'Oldest spooled events dropped because the spool was full',
      registers: r,
    }),
    sequence: new Gauge({ name: 'offhook_agent_sequence', help: 'Last event sequence number assigned', registers: r }),
    heartbeats: new Counter({ name: 'offhook_agent_heartbeats_total', help: 'Heartbeats sent', registers: r }),
    logLines: new Counter({
      name: 'offhook_agent_log_lines_total',
      help: 'Log lines read',
      labelNames: ['file'],
      collect,
      registers: r,
    }),
    logMatches: new Counter({
      name: 'offhook_agent_log_matches_total',
      help: 'Log lines that matched a rule (published or suppressed)',
      labelNames: ['file', 'rule'],
      collect,
      registers: r,
    }),
    logSuppressed: new Counter({
      name: 'offhook_agent_log_suppressed_total',
      help: 'Matches dropped by the flood limit',
      labelNames: ['file', 'rule'],
      collect,
      registers: r,
    }),
    logTruncated: new Counter({
      name: 'offhook_agent_log_truncated_lines_total',
      help: 'Lines cut to max_line_chars',
      labelNames: ['file'],
      collect,
      registers: r,
    }),
    logRotations: new Counter({
      name: 'offhook_agent_log_rotations_total',
      help: 'Rotations seen',
      labelNames: ['file', 'type'],
      registers: r,
    }),
  };
  // Known label values start at 0, so a fresh agent graphs 0 rather than "No data" (per-check and per-file
  // series start with the first run or line: their label values come from the config).
  initCounter(metrics.published, labelProduct({ kind: EVENT_KINDS }));
  initCounter(metrics.invalidEvents, labelProduct({ kind: EVENT_KINDS }));
  initCounter(metrics.publishErrors, labelProduct({ reason: PUBLISH_FAILURE_REASONS }));
  return { ...metrics, logCounts };
}
export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
