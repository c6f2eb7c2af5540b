import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ensureStreams,
  fingerprint,
  jetstreamClient,
  newId,
  publishDurable,
  SCHEMA_VERSION,
  Subjects,
  type ResourceSample,
  freeTcpPort,
} from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { startOffhook, type OffhookProcess } from '../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { blackhole } from '../helpers/ports.ts';
import { scrape, sumOf } from '../../deploy/lib/metrics-text.ts';
import { untilPolled } from '../helpers/wait.ts';
import { webhookReceiver } from '../../deploy/lib/webhook-receiver.ts';
import { ackingGatewayConfig, recordCalls, recordFault } from './common.ts';

const PREFIX = 'slownotify';
const subjects = new Subjects(PREFIX);
const HOSTS = ['db1', 'db2', 'db3', 'db4', 'db5'];

describe('faults: slow and dead notifier endpoints', function () {
  this.timeout(180_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  let dir: string;
  const started: OffhookProcess[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-faults-notify-'));
    nc = await connectTo(server);
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    for (const p of started) await killAndWait(p.child, 'SIGTERM');
    await nc?.drain();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an endpoint that accepts and never answers, or refuses, delays neither other receivers nor phone', async () => {
    const good = await webhookReceiver();
    const hanging = await blackhole();
    const refused = await freeTcpPort();
    // Long timeouts: the hanging requests must still be open when everything else has been delivered.
    const slow = { timeout: '120s', retry: { max_attempts: 2, initial_backoff: '100ms' } };
    const collector = await startOffhook('collector', dir, 'collector', {
      nats: { servers: [server.url], prefix: PREFIX },
      listen: '127.0.0.1:0',
      evaluation_interval: '200ms',
      rules: [{ name: 'load_high', kind: 'threshold', metric: 'fault_gauge', crit: 50 }],
      notifications: {
        receivers: [
          { name: 'hanging-webhook', kind: 'webhook', url: `http://127.0.0.1:${hanging.port}/hook`, ...slow },
          {
            name: 'hanging-mail',
            kind: 'mail',
            host: '127.0.0.1',
            port: hanging.port,
            from: 'offhook@example.org',
            to: 'ops@example.org',
            ...slow,
          },
          { name: 'refused-webhook', kind: 'webhook', url: `http://127.0.0.1:${refused}/hook`, ...slow },
          { name: 'refused-http-get', kind: 'http-get', url: `http://127.0.0.1:${refused}/notify`, ...slow },
          { name: 'good', kind: 'webhook', url: good.url },
        ],
        routes: [
          { receiver: 'hanging-webhook', continue: true },
          { receiver: 'hanging-mail', continue: true },
          { receiver: 'refused-webhook', continue: true },
          { receiver: 'refused-http-get', continue: true },
          { receiver: 'good' },
        ],
      },
    });
    started.push(collector);
    const gateway = await startOffhook(
      'gateway',
      dir,
      'gateway',
      ackingGatewayConfig(server.url, PREFIX, HOSTS.length),
    );
    started.push(gateway);
    const calls = recordCalls(nc, subjects);

    const js = jetstreamClient(nc);
    for (const host of HOSTS) {
      const sample: ResourceSample = {
        v: SCHEMA_VERSION,
        id: newId(),
        host,
        ts: Date.now(),
        seq: 1,
        kind: 'resource',
        intervalMs: 1000,
        metrics: [{ name: 'fault_gauge', type: 'gauge', value: 99 }],
      };
      await publishDurable(js, subjects.event(host, 'resource'), sample);
    }
    const fingerprints = HOSTS.map((h) => fingerprint(h, 'load_high', {}));
    await untilPolled(
      () => HOSTS.every((h) => good.received.includes(`firing load_high ${h}`)),
      'the good receiver notified of every alert',
      60_000,
      50,
    );
    const acknowledged = (): Set<string> =>
      new Set(calls.filter((c) => c.outcome === 'acknowledged').flatMap((c) => c.fingerprints));
    await untilPolled(
      () => fingerprints.every((fp) => acknowledged().has(fp)),
      'every alert acknowledged on the phone',
      60_000,
      50,
    );
    // The causal proof: everything above finished while the hanging endpoint had not answered one request.
    await untilPolled(
      () => hanging.open() >= 2,
      'the webhook and the mail notifier both waiting on the hanging endpoint',
      30_000,
      50,
    );
    const stillHanging = hanging.open();
    const metrics = await scrape(collector.metricsUrl);
    const refusedAttempts =
      sumOf(metrics, 'offhook_notification_attempts_total', { receiver: 'refused-webhook' }) +
      sumOf(metrics, 'offhook_notification_attempts_total', { receiver: 'refused-http-get' });
    await untilPolled(
      async () => {
        const m = await scrape(collector.metricsUrl);
        return (
          sumOf(m, 'offhook_notifications_total', { receiver: 'refused-webhook', outcome: 'failed' }) > 0 &&
          sumOf(m, 'offhook_notifications_total', { receiver: 'refused-http-get', outcome: 'failed' }) > 0
        );
      },
      'the refused receivers giving up and counting the failure',
      60_000,
      100,
    );
    const after = await scrape(collector.metricsUrl);

    assert.ok(collector.alive() && gateway.alive());
    assert.ok(stillHanging >= 2, 'requests to the hanging endpoint are still unanswered');
    assert.ok(sumOf(after, 'offhook_notifications_total', { receiver: 'good', outcome: 'sent' }) >= 1);
    assert.ok(sumOf(after, 'offhook_notifications_total', { receiver: 'refused-webhook', outcome: 'failed' }) >= 1);
    assert.equal(
      sumOf(after, 'offhook_notifications_total', { receiver: 'hanging-webhook', outcome: 'sent' }),
      0,
      'nothing can have been delivered to an endpoint that never answers',
    );
    assert.deepEqual([...good.received].sort(), HOSTS.map((h) => `firing load_high ${h}`).sort());
    await good.close();
    await hanging.close();

    recordFault({
      scenario: 'slow and dead notifier endpoints',
      tried:
        `${HOSTS.length} alerts routed to a webhook and a mail receiver on a TCP endpoint that ` +
        `accepts and never answers (120 s timeout), a webhook and an http-get receiver on a refused ` +
        `port, a working webhook, and the phone`,
      counts: {
        good_receiver_alerts: good.received.length,
        acknowledged_by_phone: acknowledged().size,
        hanging_connections_open_when_done: stillHanging,
        refused_attempts: refusedAttempts,
        refused_failed_notifications:
          sumOf(after, 'offhook_notifications_total', { receiver: 'refused-webhook', outcome: 'failed' }) +
          sumOf(after, 'offhook_notifications_total', { receiver: 'refused-http-get', outcome: 'failed' }),
      },
      lost: HOSTS.length - good.received.length + fingerprints.filter((fp) => !acknowledged().has(fp)).length,
    });
  });
});
