import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  CallRecord,
  ensureStreams,
  fingerprint,
  jetstreamClient,
  newId,
  publishDurable,
  SCHEMA_VERSION,
  streamNames,
  Subjects,
  type CheckResult,
  type CheckStatus,
  type Heartbeat,
} from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { startOffhook, type OffhookProcess } from '../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { scrape, sumOf } from '../../deploy/lib/metrics-text.ts';
import { untilPolled } from '../helpers/wait.ts';
import { webhookReceiver } from '../../deploy/lib/webhook-receiver.ts';
import { ackingGatewayConfig, recordFault } from './common.ts';

type Hook = Awaited<ReturnType<typeof webhookReceiver>>;

function checkResult(
  host: string,
  epoch: string | undefined,
  seq: number,
  status: CheckStatus,
  ts = Date.now(),
): CheckResult {
  return {
    v: SCHEMA_VERSION,
    id: newId(),
    host,
    ts,
    seq,
    ...(epoch ? { epoch } : {}),
    kind: 'check',
    check: 'svc',
    checkKind: 'tcp',
    status,
    message: `svc ${status}`,
    latencyMs: 1,
  };
}

function heartbeat(host: string, intervalMs: number): Heartbeat {
  return {
    v: SCHEMA_VERSION,
    id: newId(),
    host,
    ts: Date.now(),
    seq: 0,
    epoch: 'e1',
    kind: 'heartbeat',
    agentVersion: '0.1.0',
    uptimeSec: 1,
    intervalMs,
    spoolDepth: 0,
  };
}

/** Issue 15, findings 2, 3 and 9: what one agent (or one with its credentials) may do to the collector. */
describe('faults: intake limits against the real collector (issue 15)', function () {
  this.timeout(120_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  let dir: string;
  const started: OffhookProcess[] = [];
  const hooks: Hook[] = [];

  before(async () => {
    nc = await connectTo(server);
    dir = mkdtempSync(join(tmpdir(), 'offhook-faults-intake-'));
  });
  after(async () => {
    for (const p of started) await killAndWait(p.child, 'SIGTERM');
    for (const hook of hooks) await hook.close();
    await nc?.drain();
    rmSync(dir, { recursive: true, force: true });
  });

  async function collector(prefix: string, hook: Hook, extra: Record<string, unknown> = {}): Promise<OffhookProcess> {
    const process = await startOffhook('collector', dir, `collector-${prefix}`, {
      nats: { servers: [server.url], prefix },
      listen: '127.0.0.1:0',
      evaluation_interval: '100ms',
      checkpoint_interval: '200ms',
      defaults: { flapping: { enabled: false } },
      rules: [
        { name: 'svc', kind: 'check', max_attempts: 1 },
        { name: 'down', kind: 'host_down', missed_heartbeats: 3 },
      ],
      notifications: { receivers: [{ name: 'hook', kind: 'webhook', url: hook.url }], routes: [{ receiver: 'hook' }] },
      ...extra,
    });
    started.push(process);
    return process;
  }

  async function newHook(): Promise<Hook> {
    const hook = await webhookReceiver();
    hooks.push(hook);
    return hook;
  }

  it('finding 2: a spoofed event (seq 2^53-1, ts in 2100) never silences the host, even after a restart', async () => {
    const prefix = 'intake2';
    const subjects = new Subjects(prefix);
    const hook = await newHook();
    let running = await collector(prefix, hook);
    const js = jetstreamClient(nc);
    const send = (event: CheckResult): Promise<unknown> =>
      publishDurable(js, subjects.event(event.host, 'check'), event);

    await send(checkResult('victim', 'real', 1, 'ok'));
    const year2100 = Date.UTC(2100, 0, 1);
    await send(checkResult('victim', 'real', Number.MAX_SAFE_INTEGER, 'ok', year2100));
    await send(checkResult('victim', undefined, Number.MAX_SAFE_INTEGER, 'ok', year2100));
    await send(checkResult('victim', 'spoofed', Number.MAX_SAFE_INTEGER, 'ok'));
    await send(checkResult('victim', 'real', 2, 'critical'));
    await untilPolled(
      () => hook.received.includes('firing svc victim'),
      'the real critical result of victim notified',
      20_000,
    );

    // The positions are in the checkpoint: after a restart the real agent goes on, the spoof stays refused.
    const checkpointed = async (): Promise<number> =>
      sumOf(await scrape(running.metricsUrl), 'offhook_collector_checkpoint_sequence');
    await untilPolled(async () => (await checkpointed()) >= 5, 'a checkpoint covering the spoof');
    const before = await scrape(running.metricsUrl);
    await killAndWait(running.child, 'SIGTERM');
    running = await collector(prefix, hook);
    await send(checkResult('victim', 'real', Number.MAX_SAFE_INTEGER - 1, 'ok'));
    await send(checkResult('victim', 'real', 3, 'ok'));
    await untilPolled(
      () => hook.received.includes('resolved svc victim'),
      'the real recovery of victim notified after the restart',
      20_000,
    );
    const after = await scrape(running.metricsUrl);

    assert.deepEqual(hook.received, ['firing svc victim', 'resolved svc victim']);
    assert.equal(sumOf(before, 'offhook_collector_rejected_events_total', { reason: 'ts_future' }), 2);
    assert.equal(sumOf(before, 'offhook_collector_rejected_events_total', { reason: 'seq_jump' }), 1);
    assert.equal(
      sumOf(after, 'offhook_collector_rejected_events_total', { reason: 'seq_jump' }),
      1,
      'the spoof after the restart',
    );
    assert.equal(
      sumOf(before, 'offhook_collector_duplicate_events_total') +
        sumOf(after, 'offhook_collector_duplicate_events_total'),
      0,
    );
    assert.match(running.output(), /"host":"victim","reason":"seq_jump"/);
    recordFault({
      scenario: 'spoofed seq/ts (issue 15 #2)',
      tried:
        'check events for victim with seq 2^53-1 and ts 2100 (same epoch, no epoch, fresh epoch), ' +
        'collector restarted between',
      counts: {
        refused_ts_future: sumOf(before, 'offhook_collector_rejected_events_total', { reason: 'ts_future' }),
        refused_seq_jump: sumOf(before, 'offhook_collector_rejected_events_total', { reason: 'seq_jump' }) + 1,
        real_notifications: hook.received.length,
      },
      lost: 2 - hook.received.length,
    });
  });

  it('finding 3: a heartbeat claiming intervalMs 1 is invalid, raises no host_down and rings no phone', async () => {
    const prefix = 'intake3';
    const subjects = new Subjects(prefix);
    const hook = await newHook();
    const running = await collector(prefix, hook);
    const gateway = await startOffhook('gateway', dir, 'gateway-intake3', ackingGatewayConfig(server.url, prefix, 6));
    started.push(gateway);
    const calls: CallRecord[] = [];
    const sub = nc.subscribe(subjects.allCalls, { callback: (_e, m) => void calls.push(CallRecord.parse(m.json())) });
    nc.publish(subjects.heartbeat('steady'), JSON.stringify(heartbeat('steady', 60_000)));
    nc.publish(subjects.heartbeat('steady'), JSON.stringify(heartbeat('steady', 1)));
    // A marker host with the smallest valid interval goes silent: once it is down, many evaluations have
    // passed in which a 1 ms interval would have made `steady` down too.
    nc.publish(subjects.heartbeat('marker'), JSON.stringify(heartbeat('marker', 100)));
    await nc.flush();
    await untilPolled(() => hook.received.includes('firing down marker'), 'host_down for the silent marker', 20_000);
    const markerDown = fingerprint('marker', 'down', {});
    const steadyDown = fingerprint('steady', 'down', {});
    const called = (fp: string): boolean => calls.some((c) => c.fingerprints.includes(fp));
    await untilPolled(() => called(markerDown), 'a call about the marker host being down', 60_000, 100);
    sub.unsubscribe();

    const metrics = await scrape(running.metricsUrl);
    assert.deepEqual(
      hook.received.filter((line) => line.endsWith(' steady')),
      [],
      'no host_down notification for steady',
    );
    assert.equal(called(steadyDown), false, 'no call about steady');
    assert.equal(sumOf(metrics, 'offhook_invalid_messages_total', { subject: 'heartbeat', reason: 'schema' }), 1);
    assert.match(running.output(), /intervalMs[^"]*at least 100/);
    const hosts = (await (await fetch(`${running.url}/api/hosts`)).json()) as { host: string; down: boolean }[];
    assert.equal(hosts.find((h) => h.host === 'steady')?.down, false);
    recordFault({
      scenario: 'heartbeat intervalMs 1 (issue 15 #3)',
      tried: 'one valid heartbeat (60s), then one claiming intervalMs 1, while a marker host went down',
      counts: { invalid_counted: 1, host_down_notifications_for_steady: 0, calls_about_steady: 0, calls: calls.length },
      lost: 0,
    });
  });

  it("finding 9: one host flooding its own subjects does not push another host's events out of EVENTS", async () => {
    const prefix = 'intake9';
    const subjects = new Subjects(prefix);
    const events = streamNames(subjects).events;
    const FLOOD = 1500;
    const STREAM_CAP = 1000;
    const PER_SUBJECT = 200;
    const hook = await newHook();
    // The stream is full at STREAM_CAP messages: a small stand-in for EVENTS' max_bytes being reached.
    await ensureStreams(nc, subjects);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.update(events, { ...(await jsm.streams.info(events)).config, max_msgs: STREAM_CAP });
    const first = await collector(prefix, hook, { intake: { events_max_msgs_per_subject: PER_SUBJECT } });
    // The collector is away (its replay window) while the flood arrives.
    await killAndWait(first.child, 'SIGTERM');

    const js = jetstreamClient(nc);
    await publishDurable(js, subjects.event('quiet', 'check'), checkResult('quiet', 'q', 1, 'critical'));
    let inflight: Promise<unknown>[] = [];
    for (let seq = 1; seq <= FLOOD; seq++) {
      inflight.push(publishDurable(js, subjects.event('loud', 'check'), checkResult('loud', 'l', seq, 'ok')));
      if (inflight.length >= 100) await Promise.all(inflight.splice(0));
    }
    await Promise.all(inflight);
    inflight = [];
    const info = await jsm.streams.info(events, { subjects_filter: '>' });
    const stored = info.state.messages;

    const running = await collector(prefix, hook, { intake: { events_max_msgs_per_subject: PER_SUBJECT } });
    const checkpointed = async (): Promise<number> =>
      sumOf(await scrape(running.metricsUrl), 'offhook_collector_checkpoint_sequence');
    await untilPolled(
      async () => (await checkpointed()) >= info.state.last_seq,
      'the collector read all of EVENTS',
      30_000,
    );
    await untilPolled(() => hook.received.includes('firing svc quiet'), "quiet's critical result notified", 5_000);
    const metrics = await scrape(running.metricsUrl);
    assert.equal(info.state.subjects?.[subjects.event('quiet', 'check')], 1, "quiet's event is still in the stream");
    assert.equal(info.state.subjects?.[subjects.event('loud', 'check')], PER_SUBJECT);
    assert.equal(sumOf(metrics, 'offhook_collector_events_total'), stored);
    recordFault({
      scenario: 'one host floods EVENTS (issue 15 #9)',
      tried:
        `${FLOOD} events from one host on its own subject into an EVENTS stream full at ` +
        `${STREAM_CAP} messages, collector away`,
      counts: {
        stored_loud: info.state.subjects?.[subjects.event('loud', 'check')] ?? 0,
        stored_quiet: info.state.subjects?.[subjects.event('quiet', 'check')] ?? 0,
        evaluated: sumOf(metrics, 'offhook_collector_events_total'),
      },
      lost: 1 - (info.state.subjects?.[subjects.event('quiet', 'check')] ?? 0),
    });
  });
});
