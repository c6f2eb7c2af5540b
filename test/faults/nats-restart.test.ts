import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStreams, streamNames, Subjects, type Alert } from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { startOffhook, type OffhookProcess } from '../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { scrape, scrapeSum, sumOf } from '../../deploy/lib/metrics-text.ts';
import { untilPolled } from '../helpers/wait.ts';
import { webhookReceiver } from '../../deploy/lib/webhook-receiver.ts';
import { InProcessAgent } from './agent-publishers.ts';
import { readStream, recordFault } from './common.ts';

const PREFIX = 'restart';
const subjects = new Subjects(PREFIX);
const SIMULATED_HOSTS = 50;
const REAL_AGENTS = 2;
const ROUNDS = 200;
const RESTART_AT_ROUND = 70;
/** fault_gauge crosses the line at these seqs and drops back at the next: two fires and two resolves per host. */
const HIGH_AT = new Set([50, 150]);

describe('faults: nats-server restarted (same store) while 50 agents publish', function () {
  this.timeout(240_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  let dir: string;
  const processes: OffhookProcess[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-faults-restart-'));
    nc = await connectTo(server, { maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    for (const p of processes) await killAndWait(p.child, 'SIGTERM');
    await nc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every per-host seq once with no gap, and the collector acts on each event once', async () => {
    const hook = await webhookReceiver();
    const collector = await startOffhook('collector', dir, 'collector', {
      nats: { servers: [server.url], prefix: PREFIX },
      listen: '127.0.0.1:0',
      evaluation_interval: '200ms',
      checkpoint_interval: '1s',
      defaults: { flapping: { enabled: false } },
      rules: [{ name: 'fault_high', kind: 'threshold', metric: 'fault_gauge', crit: 50 }],
      notifications: {
        receivers: [
          {
            name: 'hook',
            kind: 'webhook',
            url: hook.url,
            retry: { initial_backoff: '100ms' },
            rate_limit: { max: 10000, per: '1m' },
          },
        ],
        routes: [{ receiver: 'hook' }],
      },
    });
    processes.push(collector);
    const realAgents: OffhookProcess[] = [];
    for (let i = 0; i < REAL_AGENTS; i++) {
      realAgents.push(
        await startOffhook('agent', dir, `agent-real${i}`, {
          host: `real${i}`,
          nats: { servers: [server.url], prefix: PREFIX },
          state_dir: join(dir, `real${i}`),
          metrics_listen: '127.0.0.1:0',
          heartbeat_interval: '1s',
          publish_timeout: '2s',
          resources: { interval: '250ms', processes: false, inventory_interval: '10m' },
        }),
      );
    }
    processes.push(...realAgents);

    const agents = Array.from(
      { length: SIMULATED_HOSTS },
      (_, i) => new InProcessAgent(`sim${String(i).padStart(2, '0')}`, join(dir, `sim${i}`), server.url, subjects),
    );
    await Promise.all(agents.map((a) => a.connect()));
    // Events that went through the disk spool: every rise of a spool's depth is one appended event.
    let spooled = 0;
    for (const agent of agents) {
      let last = 0;
      agent.publisher.on('spool', (depth) => {
        if (depth > last) spooled += depth - last;
        last = depth;
      });
    }
    const phase = (what: string): void =>
      void (process.env.OFFHOOK_TEST_LOG && process.stderr.write(`${new Date().toISOString()} ${what}\n`));

    let restarted: Promise<void> | null = null;
    for (let round = 1; round <= ROUNDS; round++) {
      // Each submit resolves once JetStream acknowledged the event or it is on disk in the spool.
      await Promise.all(agents.map((a) => a.gauge('fault_gauge', HIGH_AT.has(round) ? 99 : 10)));
      if (round === RESTART_AT_ROUND) restarted = server.restart();
      // Pacing like a sampling interval (load shape only; nothing waits on it for correctness).
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    phase('publishing done');
    await restarted;
    await untilPolled(
      () => agents.every((a) => a.publisher.spoolDepth === 0),
      'every simulated agent draining its spool',
      120_000,
      100,
    );
    for (const agent of realAgents)
      await untilPolled(
        async () => (await scrapeSum(agent.metricsUrl, 'offhook_agent_spool_depth')) === 0,
        `${agent.configFile} draining its spool`,
        60_000,
        200,
      );
    phase('spools drained');
    const failedPublishes = (await Promise.all(agents.map(publishFailures))).reduce((a, b) => a + b, 0);
    for (const agent of realAgents) await killAndWait(agent.child, 'SIGTERM');
    await Promise.all(agents.map((a) => a.stop()));

    const names = streamNames(subjects);
    const jsm = await jetstreamManager(nc);
    const stored = (await jsm.streams.info(names.events)).state.messages;
    const events = await readStream<{ host: string; seq: number; id: string }>(nc, names.events, stored, 60_000);
    assert.equal(events.length, stored);
    const seqsByHost = new Map<string, number[]>();
    for (const e of events) seqsByHost.set(e.data.host, [...(seqsByHost.get(e.data.host) ?? []), e.data.seq]);
    let gaps = 0;
    let duplicates = 0;
    for (const [host, seqs] of seqsByHost) {
      const sorted = [...seqs].sort((a, b) => a - b);
      duplicates += sorted.length - new Set(sorted).size;
      const distinct = [...new Set(sorted)];
      gaps += distinct[distinct.length - 1]! - distinct.length;
      if (host.startsWith('sim'))
        assert.deepEqual(
          distinct,
          Array.from({ length: ROUNDS }, (_, i) => i + 1),
          `${host}: seq 1..${ROUNDS}`,
        );
    }
    assert.equal(seqsByHost.size, SIMULATED_HOSTS + REAL_AGENTS, 'every host published');
    assert.equal(gaps, 0, 'no gap in any host seq');
    assert.equal(duplicates, 0, 'no event stored twice');

    phase('stream read');
    await untilPolled(
      async () => (await scrapeSum(collector.metricsUrl, 'offhook_collector_events_total')) >= stored,
      'the collector evaluating every stored event',
      120_000,
      200,
    );
    const expectedTransitions = SIMULATED_HOSTS * HIGH_AT.size * 2;
    await untilPolled(
      () => hook.alerts.length >= expectedTransitions,
      `${expectedTransitions} notifications`,
      60_000,
      100,
    );
    phase('notified');
    const alertsStored = (await jsm.streams.info(names.alerts)).state.messages;
    const alerts = await readStream<Alert>(nc, names.alerts, alertsStored, 30_000);
    const metrics = await scrape(collector.metricsUrl);
    assert.ok(collector.alive());
    assert.equal(sumOf(metrics, 'offhook_collector_events_total'), stored, 'each stored event evaluated exactly once');
    assert.equal(alerts.length, expectedTransitions, 'one ALERTS message per transition: nothing acted on twice');
    const perTransition = new Set(alerts.map((a) => `${a.data.fingerprint} ${a.data.generation} ${a.data.status}`));
    assert.equal(perTransition.size, expectedTransitions);
    assert.equal(hook.alerts.length, expectedTransitions, 'one notification per transition');
    for (const host of agents.map((a) => a.host)) {
      assert.deepEqual(
        hook.alerts.filter((a) => a.host === host).map((a) => a.status),
        ['firing', 'resolved', 'firing', 'resolved'],
        host,
      );
    }
    await hook.close();

    recordFault({
      scenario: 'nats-server restart under load',
      tried:
        `${SIMULATED_HOSTS} in-process agents (real EventPublisher + DiskSpool + ` +
        `SequenceCounter, one NATS connection each) x ${ROUNDS} events + ${REAL_AGENTS} real agent ` +
        `processes at 250 ms sampling; nats-server SIGTERM-restarted on the same port and store ` +
        `at round ${RESTART_AT_ROUND}`,
      counts: {
        events_stored: stored,
        events_through_spool: spooled,
        failed_publishes_retried: failedPublishes,
        seq_gaps: gaps,
        duplicates_stored: duplicates,
        collector_events_evaluated: sumOf(metrics, 'offhook_collector_events_total'),
        collector_duplicates_skipped: sumOf(metrics, 'offhook_collector_duplicate_events_total'),
        alert_transitions: alerts.length,
        notifications: hook.alerts.length,
      },
      lost: SIMULATED_HOSTS * ROUNDS - events.filter((e) => e.data.host.startsWith('sim')).length + gaps,
    });
  });
});

/**
 * Failed publishes of an in-process agent (each sent the event to the spool, from which it must still have arrived).
 */
async function publishFailures(agent: InProcessAgent): Promise<number> {
  return (await agent.metrics.publishErrors.get()).values.reduce((sum, v) => sum + v.value, 0);
}
