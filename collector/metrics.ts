import { counter, EVENT_KINDS, Gauge, Histogram, initCounter, labelProduct, type Registry } from '../shared/index.ts';
import type { AlertRecord } from './alerts/index.ts';
import { FENCE_OUTCOMES } from './group/index.ts';

export interface CollectorMetrics {
  events: ReturnType<typeof counter<'kind'>>;
  duplicates: ReturnType<typeof counter>;
  rejected: ReturnType<typeof counter<'reason'>>;
  ruleErrors: ReturnType<typeof counter<'rule'>>;
  inhibited: ReturnType<typeof counter<'rule'>>;
  evaluation: Histogram<'kind'>;
  transitions: ReturnType<typeof counter<'status' | 'severity'>>;
  quietTransitions: ReturnType<typeof counter<'status'>>;
  streamInfoFailures: ReturnType<typeof counter>;
  published: ReturnType<typeof counter<'outcome'>>;
  checkpointSeq: Gauge;
  fenced: ReturnType<typeof counter>;
  leaseFences: ReturnType<typeof counter<'outcome'>>;
}

export interface CollectorView {
  records(): Iterable<AlertRecord>;
  /** Known hosts and whether each is down. */
  hostStates(): Iterable<boolean>;
  /** Our clock minus the NATS server's, from live EVENTS deliveries (intake/stream-head.ts); null while unknown. */
  clockSkewMs?(): number | null;
}

/** Firing alerts that `pick` takes, by severity (each severity present, 0 when none). */
function firingBySeverity(records: Iterable<AlertRecord>, pick: (record: AlertRecord) => boolean) {
  const counts = new Map<string, number>([
    ['info', 0],
    ['warning', 0],
    ['critical', 0],
  ]);
  for (const record of records)
    if (record.alert.status === 'firing' && pick(record))
      counts.set(record.alert.severity, (counts.get(record.alert.severity) ?? 0) + 1);
  return counts;
}

/** Collector metrics; the firing and host gauges are computed from live state at scrape time. */
export function collectorMetrics(registry: Registry, view: CollectorView): CollectorMetrics {
  new Gauge({
    name: 'offhook_hosts',
    help: 'Hosts the collector has heard from, by state (up|down per the host_down rule)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      let up = 0;
      let down = 0;
      for (const isDown of view.hostStates())
        if (isDown) down += 1;
        else up += 1;
      this.set({ state: 'up' }, up);
      this.set({ state: 'down' }, down);
    },
  });
  new Gauge({
    name: 'offhook_alerts_firing',
    help: 'Alerts firing now, by severity (inhibited and silenced ones included)',
    labelNames: ['severity'],
    registers: [registry],
    collect() {
      for (const [severity, n] of firingBySeverity(view.records(), () => true)) this.set({ severity }, n);
    },
  });
  // A gauge of its own, not a label on offhook_alerts_firing: that one's series stay as they were (every firing
  // alert, whoever was told), so dashboards and alert rules on it neither split nor change meaning.
  new Gauge({
    name: 'offhook_alerts_firing_quiet',
    help:
      'Of offhook_alerts_firing, those nobody was told of (their firing or severity rise came from a replay of ' +
      'history older than replay.announce_within; told if a recent event or tick finds them still firing), by severity',
    labelNames: ['severity'],
    registers: [registry],
    collect() {
      for (const [severity, n] of firingBySeverity(view.records(), (r) => r.quiet)) this.set({ severity }, n);
    },
  });
  new Gauge({
    name: 'offhook_collector_clock_skew_seconds',
    help:
      "The collector's clock minus the NATS server's (EVENTS store time of events delivered live); NaN until one " +
      'is. Beyond a minute: check NTP (history is judged in the server clock, but silences, acks and repeats are ours)',
    registers: [registry],
    collect() {
      const skew = view.clockSkewMs?.() ?? null;
      this.set(skew === null ? Number.NaN : skew / 1000);
    },
  });
  const metrics: CollectorMetrics = {
    events: counter(registry, 'offhook_collector_events_total', 'Events processed from the EVENTS stream, by kind', [
      'kind',
    ]),
    inhibited: counter(
      registry,
      'offhook_alerts_inhibited_total',
      'Firing alerts held back by an inhibit_rules entry (their notifications are not sent), by the alert rule',
      ['rule'],
    ),
    ruleErrors: counter(
      registry,
      'offhook_collector_rule_errors_total',
      'Rule evaluations that threw (the event was skipped for that rule)',
      ['rule'],
    ),
    duplicates: counter(
      registry,
      'offhook_collector_duplicate_events_total',
      'Events skipped as duplicates or replays (stream or agent sequence already seen)',
    ),
    rejected: counter(
      registry,
      'offhook_collector_rejected_events_total',
      'Events refused by the intake limits, by reason (ts_future|ts_past|seq_jump)',
      ['reason'],
    ),
    evaluation: new Histogram({
      name: 'offhook_collector_rule_evaluation_seconds',
      help: 'Time to evaluate every rule against one event',
      labelNames: ['kind'],
      buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05],
      registers: [registry],
    }),
    transitions: counter(
      registry,
      'offhook_alert_announcements_total',
      'Alert announcements (published and handed to notifiers), by status and severity',
      ['status', 'severity'],
    ),
    quietTransitions: counter(
      registry,
      'offhook_collector_quiet_transitions_total',
      'Alert transitions stored but not told: replayed events older than replay.announce_within (a firing still ' +
        'going when evaluation catches up is told then), by status',
      ['status'],
    ),
    streamInfoFailures: counter(
      registry,
      'offhook_collector_stream_info_failures_total',
      'EVENTS stream info requests that failed (where the stream ends: what replayed history is judged against); ' +
        'retried with backoff while a partition is behind, its backlog held back up to 30 s at a feed open',
    ),
    published: counter(
      registry,
      'offhook_alert_publish_total',
      'Alert publishes to the ALERTS stream, by outcome (ok|duplicate|failed)',
      ['outcome'],
    ),
    checkpointSeq: new Gauge({
      name: 'offhook_collector_checkpoint_sequence',
      help: 'EVENTS stream sequence covered by the last checkpoint',
      registers: [registry],
    }),
    fenced: counter(
      registry,
      'offhook_collector_fenced_writes_total',
      'Alert writes dropped because another collector took the partition lease (split brain fenced off)',
    ),
    leaseFences: counter(
      registry,
      'offhook_collector_lease_fence_total',
      'Partition lease checks before a write, by outcome: local (renewed recently, no KV round trip), renewed ' +
        '(compare-and-swap in KV), lost (the partition is not ours: write dropped), error (KV unreachable, retried)',
      ['outcome'],
    ),
  };
  // Known label values start at 0, so a fresh collector graphs 0 rather than "No data".
  initCounter(metrics.events, labelProduct({ kind: EVENT_KINDS }));
  initCounter(metrics.rejected, labelProduct({ reason: ['ts_future', 'ts_past', 'seq_jump'] }));
  const severities = ['info', 'warning', 'critical'];
  initCounter(metrics.transitions, labelProduct({ status: ['firing', 'resolved'], severity: severities }));
  initCounter(metrics.quietTransitions, labelProduct({ status: ['firing', 'resolved'] }));
  initCounter(metrics.published, labelProduct({ outcome: ['ok', 'duplicate', 'failed'] }));
  initCounter(metrics.leaseFences, labelProduct({ outcome: FENCE_OUTCOMES }));
  return metrics;
}
