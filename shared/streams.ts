import {
  jetstreamManager,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Subjects } from './subjects.ts';

const NS_PER_MS = 1_000_000;
const DAY_MS = 86_400_000;

export interface StreamOptions {
  /** 1 for a single server, 3 for a cluster (R3). */
  replicas: number;
  eventsMaxAgeMs: number;
  eventsMaxBytes: number;
  /** Must cover the agent's longest retry of one id; seq-based dedup in the collector covers the rest. */
  duplicateWindowMs: number;
  alertsMaxAgeMs: number;
  /**
   * EVENTS `max_msgs_per_subject` (one subject = one host's events of one kind), so one host cannot
   * crowd the others out; 0 = unlimited. Only the collector sets it (collector.yaml
   * `intake.events_max_msgs_per_subject`); a process that leaves it undefined keeps what the stream has.
   */
  eventsMaxMsgsPerSubject?: number | undefined;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  replicas: 1,
  eventsMaxAgeMs: 7 * DAY_MS,
  eventsMaxBytes: 2 * 1024 ** 3,
  duplicateWindowMs: 10 * 60_000,
  alertsMaxAgeMs: 30 * DAY_MS,
};

/** What a new EVENTS stream gets when the process creating it does not say (README, NATS; deploy/README.md). */
export const DEFAULT_EVENTS_MAX_MSGS_PER_SUBJECT = 100_000;

/** Stream names carry the prefix so offhook can share a NATS deployment with other applications. */
export function streamNames(subjects: Subjects): {
  events: string;
  alerts: string;
  acks: string;
  calls: string;
  gateway: string;
} {
  const base = subjects.prefix.toUpperCase().replace(/-/g, '_');
  return {
    events: `${base}_EVENTS`,
    alerts: `${base}_ALERTS`,
    acks: `${base}_ACKS`,
    calls: `${base}_CALLS`,
    gateway: `${base}_GATEWAY`,
  };
}

export type StreamDefinition = Partial<StreamConfig> & { name: string };

export function streamDefinitions(
  subjects: Subjects,
  options: StreamOptions = DEFAULT_STREAM_OPTIONS,
): StreamDefinition[] {
  const names = streamNames(subjects);
  const perSubject = options.eventsMaxMsgsPerSubject;
  const common = {
    storage: StorageType.File,
    num_replicas: options.replicas,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
  };
  // Every stream but EVENTS keeps records (alerts, acks, calls, gateway reports) as long as alerts are kept.
  const record = (name: string, streamSubjects: string[], description: string): StreamDefinition => ({
    ...common,
    name,
    subjects: streamSubjects,
    max_age: options.alertsMaxAgeMs * NS_PER_MS,
    duplicate_window: 2 * 60_000 * NS_PER_MS,
    description,
  });
  return [
    {
      ...common,
      name: names.events,
      subjects: [subjects.allEvents],
      max_age: options.eventsMaxAgeMs * NS_PER_MS,
      max_bytes: options.eventsMaxBytes,
      duplicate_window: options.duplicateWindowMs * NS_PER_MS,
      ...(perSubject === undefined ? {} : { max_msgs_per_subject: perSubject }),
      description: 'Agent events: resource samples, check results, log matches',
    },
    record(names.alerts, [subjects.allAlerts], 'Alert transitions published by the collector'),
    record(names.acks, [subjects.allAcks], 'Acknowledgements from phone, CLI and HTTP'),
    record(names.calls, [subjects.allCalls], 'Call records from the telephony gateway'),
    // Kept while the collector is down, so a fallback request still reaches the fallback receivers when it is back.
    record(
      names.gateway,
      [subjects.allFallbacks, subjects.allGatewayEvents],
      'Fallback requests and events from the telephony gateway',
    ),
  ];
}

/** KV buckets and their owners. Names carry the prefix for the same reason as streams. */
export const BUCKETS = {
  alerts: { suffix: 'alerts', history: 5, description: 'Alert state by fingerprint (collector)' },
  silences: { suffix: 'silences', history: 5, description: 'Silences by id' },
  // Entries only matter while an alert can still be re-announced; 90 days keeps the bucket from growing forever.
  nflog: {
    suffix: 'nflog',
    history: 1,
    ttlMs: 90 * DAY_MS,
    description: 'Notification log: fingerprint.generation.receiver (collector)',
  },
  checkpoints: {
    suffix: 'checkpoints',
    history: 1,
    description: 'Collector rule state and the stream sequence it covers',
  },
  // Budget counters cover a day, lockouts minutes, and an escalation marker is written after its alert message, which
  // ALERTS drops after 30 days: nothing here is needed once it has not been rewritten for 30 days.
  gateway: {
    suffix: 'gateway',
    history: 1,
    ttlMs: 30 * DAY_MS,
    description: 'Telephony gateway state: budget counters, escalations, lockouts',
  },
} as const;
export type BucketName = keyof typeof BUCKETS;

export function bucketName(subjects: Subjects, bucket: BucketName): string {
  return `${subjects.prefix}-${BUCKETS[bucket].suffix}`;
}

/** `onCreate`: settings a new stream gets that an existing one keeps as they are unless `requested` names them. */
async function ensureStream(
  jsm: JetStreamManager,
  requested: StreamDefinition,
  onCreate: Partial<StreamConfig> = {},
): Promise<void> {
  try {
    const info = await jsm.streams.info(requested.name);
    // Replicas only go up: a process started with the single-server default must not shrink a stream that the
    // operator made R3 on a cluster (deploy/nats/README.md); that would silently give up the failover.
    const config = { ...requested, num_replicas: Math.max(requested.num_replicas ?? 1, info.config.num_replicas) };
    const drifted = (Object.keys(config) as (keyof StreamConfig)[]).some(
      (key) =>
        key !== 'storage' && key !== 'retention' && JSON.stringify(info.config[key]) !== JSON.stringify(config[key]),
    );
    if (drifted) await jsm.streams.update(config.name, { ...info.config, ...config } as StreamConfig);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add({ ...onCreate, ...requested });
  }
}

/**
 * Creates or updates every stream and KV bucket offhook uses. Safe to call from every process at
 * every start: an existing stream with the same settings is left alone.
 */
export async function ensureStreams(
  nc: NatsConnection,
  subjects: Subjects,
  options: Partial<StreamOptions> = {},
): Promise<void> {
  const resolved = { ...DEFAULT_STREAM_OPTIONS, ...options };
  const jsm = await jetstreamManager(nc);
  const events = streamNames(subjects).events;
  const eventsOnCreate = { max_msgs_per_subject: DEFAULT_EVENTS_MAX_MSGS_PER_SUBJECT };
  for (const definition of streamDefinitions(subjects, resolved)) {
    await ensureStream(jsm, definition, definition.name === events ? eventsOnCreate : {});
  }
  const kvm = new Kvm(nc);
  for (const bucket of Object.keys(BUCKETS) as BucketName[]) {
    const ttlMs = 'ttlMs' in BUCKETS[bucket] ? (BUCKETS[bucket] as { ttlMs: number }).ttlMs : 0;
    await kvm.create(bucketName(subjects, bucket), {
      history: BUCKETS[bucket].history,
      replicas: resolved.replicas,
      description: BUCKETS[bucket].description,
      ...(ttlMs > 0 ? { ttl: ttlMs } : {}),
    });
    await reconcileBucket(jsm, `KV_${bucketName(subjects, bucket)}`, ttlMs, resolved.replicas);
  }
}

/**
 * Kvm.create only opens a bucket that exists, so a TTL added in a later release or an operator's R3 would never
 * reach a bucket made earlier. Like streams, replicas only go up.
 */
async function reconcileBucket(jsm: JetStreamManager, stream: string, ttlMs: number, replicas: number): Promise<void> {
  const info = await jsm.streams.info(stream);
  const maxAge = ttlMs * NS_PER_MS;
  const wantedReplicas = Math.max(replicas, info.config.num_replicas);
  if (info.config.max_age === maxAge && info.config.num_replicas === wantedReplicas) return;
  await jsm.streams.update(stream, { ...info.config, max_age: maxAge, num_replicas: wantedReplicas });
}

export async function openBucket(nc: NatsConnection, subjects: Subjects, bucket: BucketName): Promise<KV> {
  return new Kvm(nc).open(bucketName(subjects, bucket));
}
