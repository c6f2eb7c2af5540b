import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ensureStreams,
  jetstreamClient,
  newId,
  publishDurable,
  SCHEMA_VERSION,
  streamNames,
  Subjects,
  type ResourceSample,
} from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { startOffhook, type OffhookProcess } from '../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { untilPolled } from '../helpers/wait.ts';
import { webhookReceiver } from '../../deploy/lib/webhook-receiver.ts';
import { recordFault } from './common.ts';

const PREFIX = 'order';
const subjects = new Subjects(PREFIX);

/**
 * Found by the nats-restart scenario: alerts held back by a receiver's rate limit go out coalesced by
 * reason, and a later "firing" of one alert must not overtake its earlier "resolved" (a receiver
 * keyed by fingerprint would end up showing a firing alert as resolved).
 */
describe('faults: notifications held by a rate limit keep each alert in order', function () {
  this.timeout(120_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  let dir: string;
  let collector: OffhookProcess | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-faults-order-'));
    nc = await connectTo(server);
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    if (collector) await killAndWait(collector.child, 'SIGTERM');
    await nc?.drain();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never delivers a re-fire before the resolution it follows', async () => {
    const hook = await webhookReceiver();
    collector = await startOffhook('collector', dir, 'collector', {
      nats: { servers: [server.url], prefix: PREFIX },
      listen: '127.0.0.1:0',
      evaluation_interval: '200ms',
      defaults: { flapping: { enabled: false } },
      rules: [{ name: 'busy', kind: 'threshold', metric: 'fault_gauge', crit: 50 }],
      notifications: {
        receivers: [{ name: 'hook', kind: 'webhook', url: hook.url, rate_limit: { max: 1, per: '2s' } }],
        routes: [{ receiver: 'hook' }],
      },
    });
    const js = jetstreamClient(nc);
    const seqs = new Map<string, number>();
    const send = async (host: string, value: number): Promise<void> => {
      const seq = (seqs.get(host) ?? 0) + 1;
      seqs.set(host, seq);
      const sample: ResourceSample = {
        v: SCHEMA_VERSION,
        id: newId(),
        host,
        ts: Date.now(),
        seq,
        kind: 'resource',
        intervalMs: 1000,
        metrics: [{ name: 'fault_gauge', type: 'gauge', value }],
      };
      await publishDurable(js, subjects.event(host, 'resource'), sample);
    };
    const alertsStored = async (): Promise<number> =>
      (await (await jetstreamManager(nc)).streams.info(streamNames(subjects).alerts)).state.messages;

    // a fires and is notified at once; that spends the rate limit.
    await send('a', 99);
    await untilPolled(() => hook.alerts.length === 1, 'the first notification', 30_000, 20);
    // Held back together: b fires, a resolves, a fires again.
    await send('b', 99);
    await send('a', 10);
    await send('a', 99);
    await untilPolled(async () => (await alertsStored()) === 4, 'the four transitions published', 30_000, 20);
    await untilPolled(() => hook.alerts.length === 4, 'all four notifications', 60_000, 50);
    const forA = hook.alerts.filter((x) => x.host === 'a').map((x) => x.status);
    await hook.close();
    recordFault({
      scenario: 'notification order under a rate limit',
      tried: 'firing b, resolved a, firing a (re-fire) held by a 1-per-2s rate limit',
      counts: { notifications: hook.alerts.length },
      lost: 0,
    });
    assert.deepEqual(forA, ['firing', 'resolved', 'firing'], 'the receiver last hears that a is firing, as it is');
  });
});
