import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStreams, Subjects } from '../shared/index.ts';
import { startOffhook } from '../deploy/lib/offhook-process.ts';
import { killAndWait } from '../deploy/lib/processes.ts';
import { webhookReceiver } from '../deploy/lib/webhook-receiver.ts';
import { nowMs, percentile, type BenchRow } from './lib.ts';
import { roundTrips } from './e2e-log-baseline.ts';
import { relayLatencies } from './e2e-log-floor.ts';
import { arrival, settle, settleWebhooks, trialLine, trialLogSource, type Arrivals } from './log-trials.ts';

const LOG_TRIALS = Number(process.env.OFFHOOK_BENCH_LOG_TRIALS ?? 50);
const PREFIX = 'e2elog';

/**
 * Log line → webhook with the real agent and collector on loopback, and where the time goes: each matching line
 * is seen by this process as the agent's event (core subscription on the EVENTS subject: the agent's follower,
 * rules and publish), as the collector's alert on ALERTS (the collector's intake, engine, lease fence, KV write and
 * publish) and at the webhook receiver (the dispatcher: notification log, queue, HTTP POST).
 * Each line raises a new alert (label trial=N), so no dedup or coalescing hides a trial.
 * The baseline is the same hops with nothing done at them (bench/log-relay.ts, run after the trials): what this machine
 * and server charge for inotify, a JetStream delivery, a KV round trip and a POST; the ratio is what offhook's work
 * adds. On a 2-core VM each wake-up after idle costs 0.3-0.5 ms, and idle-spaced code runs 2-3x slower than warm.
 * OFFHOOK_BENCH_PARTS=log runs only this; OFFHOOK_BENCH_LOG_TRIALS (default 50) bounds it; OFFHOOK_AGENT_NODE_FLAGS
 * runs the agent with V8 flags (the installed launcher's: AGENT_NODE_FLAGS in deploy/build/layout.ts).
 */
export async function logLatencies(dir: string, server: EmbeddedNatsServer, nc: NatsConnection): Promise<BenchRow[]> {
  const subjects = new Subjects(PREFIX);
  await ensureStreams(nc, subjects);
  const logFile = join(dir, 'app.log');
  writeFileSync(logFile, '');
  const hook = await webhookReceiver();
  const events: Arrivals = new Map();
  const alerts: Arrivals = new Map();
  const webhooks: Arrivals = new Map();
  const stored: Arrivals = new Map();
  const pending: Arrivals = new Map();
  // The collector's KV writes as they reach the server: the alert record (written before anything is told) and the
  // dispatcher's pending mark (written once the record is, beside the POST); the first of each per trial.
  const trialOf = (data: unknown): string | undefined =>
    (data as { alert?: { labels?: Record<string, string> } }).alert?.labels?.trial;
  nc.subscribe(`$KV.${PREFIX}-alerts.>`, { callback: (_err, msg) => settle(stored, trialOf(msg.json()), nowMs()) });
  nc.subscribe(`$KV.${PREFIX}-nflog.pending.>`, {
    callback: (_err, msg) => {
      // The delete after the POST carries no data.
      if (msg.data.length > 0) settle(pending, trialOf(msg.json()), nowMs());
    },
  });
  nc.subscribe(subjects.allEvents, {
    callback: (_err, msg) => {
      const at = nowMs();
      const event = msg.json<{ kind?: string; labels?: Record<string, string> }>();
      if (event.kind === 'log') settle(events, event.labels?.trial, at);
    },
  });
  nc.subscribe(subjects.allAlerts, {
    callback: (_err, msg) => settle(alerts, msg.json<{ labels?: Record<string, string> }>().labels?.trial, nowMs()),
  });
  settleWebhooks(hook, webhooks);
  const nats = { servers: [server.url], prefix: PREFIX };
  const collector = await startOffhook('collector', dir, 'collector-log', {
    nats,
    listen: '127.0.0.1:0',
    defaults: { flapping: { enabled: false } },
    rules: [{ name: 'app_fatal', kind: 'log', log_rule: '^fatal$', count: 1, within: '1h', severity: 'info' }],
    notifications: {
      // No receiver rate limit in the way: every trial raises its own alert.
      receivers: [{ name: 'hook', kind: 'webhook', url: hook.url, rate_limit: { max: 100_000, per: '1m' } }],
      routes: [{ receiver: 'hook' }],
    },
  });
  const agent = await startOffhook('agent', dir, 'agent-log', {
    host: 'bench-log',
    nats,
    state_dir: join(dir, 'agent-log'),
    metrics_listen: '127.0.0.1:0',
    resources: { enabled: false },
    logs: [trialLogSource(logFile)],
  });
  const toEvent: number[] = [];
  const toAlert: number[] = [];
  const toWebhook: number[] = [];
  const toStored: number[] = [];
  const toPending: number[] = [];
  try {
    // Trial 0 warms up (first KV keys, first HTTP connection) and is not counted.
    for (let trial = 0; trial <= LOG_TRIALS; trial++) {
      const key = String(trial);
      const event = arrival(events, key, 'the log event');
      const alert = arrival(alerts, key, 'the alert');
      const webhook = arrival(webhooks, key, 'the webhook');
      const record = arrival(stored, key, 'the alert record in KV');
      const mark = arrival(pending, key, 'the pending notification in KV');
      const writtenAt = nowMs();
      appendFileSync(logFile, `${trialLine(trial)}\n`);
      const [e, a, w, r, m] = await Promise.all([event, alert, webhook, record, mark]);
      if (trial === 0) continue;
      toStored.push(r - writtenAt);
      toPending.push(m - writtenAt);
      toEvent.push(e - writtenAt);
      toAlert.push(a - writtenAt);
      toWebhook.push(w - writtenAt);
      // Trials apart, so each measures one line through an idle path rather than a queue behind the last one.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    for (const p of [agent, collector]) await killAndWait(p.child, 'SIGTERM');
    await hook.close();
  }
  // After the trials, with the agent and collector gone: nothing consumes these messages, nothing competes.
  const floor = await roundTrips(nc, subjects);
  const relay = await relayLatencies(dir, server.url, nc, LOG_TRIALS);
  const ms = (values: number[], p: number): number => percentile(values, p);
  const diff = (a: number[], b: number[]): number[] => a.map((v, i) => v - b[i]!);
  const range = (values: number[]): string =>
    `min/max ${Math.min(...values).toFixed(2)}/${Math.max(...values).toFixed(2)} ms`;
  const breakdown = (what: string, to: number[], from: number[] | undefined): BenchRow[] => {
    const step = from ? diff(to, from) : to;
    return [50, 99].map((p) => ({ name: `breakdown p${p}: ${what}`, value: ms(step, p), unit: 'ms' }));
  };
  return [
    {
      name: `log line -> webhook p50 (${LOG_TRIALS} trials)`,
      value: ms(toWebhook, 50),
      unit: 'ms',
      baseline: { name: 'bare relay, same hops, nothing done at them, p50', value: ms(relay, 50) },
    },
    {
      name: 'log line -> webhook p99',
      value: ms(toWebhook, 99),
      unit: 'ms',
      baseline: { name: 'bare relay p99', value: ms(relay, 99) },
      note:
        `goal p50 <= 5 ms, p99 <= 20 ms; ${range(toWebhook)}; one line per trial, 50 ms apart, each a new alert; ` +
        'times are performance.timeOrigin + performance.now() in the bench process (writer, subscriber and ' +
        'receiver are all here: sub-ms resolution). Bare relay (bench/log-relay.ts): inotify, JetStream publish to ' +
        'an ordered consumer in a second process, KV put beside KV get, node:http POST; same pacing, run after',
    },
    { name: 'JetStream publish, then KV put beside KV get, p50 (bench process)', value: floor.chainP50, unit: 'ms' },
    { name: 'bare JetStream publish -> PubAck p50 (bench process)', value: floor.publishP50, unit: 'ms' },
    { name: 'bare KV put -> ack p50 (bench process)', value: floor.kvPutP50, unit: 'ms' },
    { name: 'log line -> alert on NATS p50', value: ms(toAlert, 50), unit: 'ms' },
    { name: 'log line -> alert on NATS p99', value: ms(toAlert, 99), unit: 'ms' },
    ...breakdown('line -> event on NATS (agent: follower, rules, publish)', toEvent, undefined),
    ...breakdown('event -> alert record in KV (collector: intake, engine, KV put)', toStored, toEvent),
    ...breakdown('alert record in KV -> alert on NATS (KV ack, ALERTS publish)', toAlert, toStored),
    // The dispatcher's log lookup runs beside the record's write; its pending mark beside the POST.
    ...breakdown('alert record in KV -> webhook (KV ack, lease check, queue, HTTP POST)', toWebhook, toStored),
    ...breakdown('alert record in KV -> pending in nflog (KV ack, lease check, KV put)', toPending, toStored),
  ];
}
