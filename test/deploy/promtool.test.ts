import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ackingGatewayConfig } from '../faults/common.ts';
import { parseMetrics } from '../../deploy/lib/metrics-text.ts';
import { useNatsServer } from '../helpers/nats-server.ts';
import { startOffhook, type OffhookProcess } from '../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { untilPolled } from '../helpers/wait.ts';

const PROMTOOL = '/usr/bin/promtool';

/** `promtool check metrics` on one exposition; returns its exit code and the problems it printed. */
function promtool(text: string): { rc: number | null; problems: string } {
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { rc: result.status, problems: `${result.stdout}${result.stderr}`.trim() };
}

/** The HELP/TYPE header of every family in an exposition: name -> type. */
function familyTypes(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Whether the exposition has a 0 sample of `name` with (at least) these labels. */
function zeroIn(text: string): (name: string, labels: Record<string, string>) => boolean {
  const samples = parseMetrics(text);
  return (name, labels) =>
    samples.some(
      (s) => s.name === name && s.value === 0 && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
}

describe('live /metrics of agent, collector and gateway pass promtool check metrics (issue 18)', function () {
  this.timeout(120_000);
  const server = useNatsServer();
  let dir: string;
  const live: OffhookProcess[] = [];

  before(async function () {
    if (spawnSync(PROMTOOL, ['--version']).status !== 0)
      throw new Error(`${PROMTOOL} missing: apt-get install prometheus`);
    dir = mkdtempSync(join(tmpdir(), 'offhook-promtool-'));
  });
  after(async () => {
    for (const p of live) await killAndWait(p.child, 'SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const scrapeText = async (p: OffhookProcess): Promise<string> => (await fetch(p.metricsUrl)).text();

  it('the agent, once it has published a resource sample', async () => {
    const agent = await startOffhook('agent', dir, 'agent', {
      host: 'promtool1',
      nats: { servers: [server.url], prefix: 'pt1' },
      state_dir: join(dir, 'agent-state'),
      metrics_listen: '127.0.0.1:0',
      resources: { interval: '200ms', inventory_interval: '10m' },
    });
    live.push(agent);
    let text = '';
    // Ratios and rates need two samples; by then a pre-computed rate would be there too.
    await untilPolled(
      async () => {
        text = await scrapeText(agent);
        return parseMetrics(text).some((s) => s.name === 'offhook_cpu_usage_ratio');
      },
      'host counters on the agent /metrics',
      30_000,
      200,
    );
    const { rc, problems } = promtool(text);
    assert.equal(problems, '', 'promtool problems');
    assert.equal(rc, 0);
    const types = familyTypes(text);
    for (const [name, type] of types) {
      if (name.endsWith('_total')) assert.equal(type, 'counter', `${name} is typed ${type}`);
    }
    assert.equal(types.get('node_cpu_seconds_total'), 'counter');
    assert.ok(![...types.keys()].some((n) => n.endsWith('_per_second')), 'no pre-computed rates');
    assert.equal(types.get('offhook_memory_available_bytes'), 'gauge');
    const zero = zeroIn(text);
    assert.ok(zero('offhook_agent_publish_errors_total', { reason: 'timeout' }), 'publish errors start at 0');
    assert.ok(zero('offhook_agent_events_published_total', { kind: 'log' }), 'published logs start at 0');
  });

  it('the collector', async () => {
    const collector = await startOffhook('collector', dir, 'collector', {
      nats: { servers: [server.url], prefix: 'pt2' },
      listen: '127.0.0.1:0',
      rules: [{ name: 'cpu', kind: 'threshold', metric: 'cpu_usage_percent', crit: 95 }],
      notifications: {
        receivers: [{ name: 'hook', kind: 'webhook', url: 'http://127.0.0.1:9/' }],
        routes: [],
        fallback_receivers: ['hook'],
      },
    });
    live.push(collector);
    const text = await scrapeText(collector);
    const { rc, problems } = promtool(text);
    assert.equal(problems, '', 'promtool problems');
    assert.equal(rc, 0);
    const zero = zeroIn(text);
    assert.ok(zero('offhook_collector_events_total', { kind: 'resource' }), 'events start at 0');
    assert.ok(
      zero('offhook_alert_announcements_total', { status: 'firing', severity: 'critical' }),
      'announcements start at 0',
    );
    assert.ok(zero('offhook_notifications_total', { receiver: 'hook', outcome: 'failed' }), 'notifications start at 0');
  });

  it('the gateway on the simulated line, with every counter at 0 before its first call', async () => {
    const gateway = await startOffhook('gateway', dir, 'gateway', ackingGatewayConfig(server.url, 'pt3', 1));
    live.push(gateway);
    const text = await scrapeText(gateway);
    const { rc, problems } = promtool(text);
    assert.equal(problems, '', 'promtool problems');
    assert.equal(rc, 0);
    const types = familyTypes(text);
    const budget = ['calls', 'seconds', 'currency'].map((unit) => `offhook_gateway_budget_remaining_${unit}`);
    for (const name of budget) assert.equal(types.get(name), 'gauge', name);
    assert.equal(types.get('offhook_gateway_budget_remaining'), undefined, 'no family mixing units');
    const zero = zeroIn(text);
    assert.ok(
      zero('offhook_gateway_calls_total', { direction: 'outbound', outcome: 'acknowledged' }),
      'calls start at 0',
    );
    assert.ok(zero('offhook_gateway_estimated_cost_currency_total', { currency: 'EUR' }), 'cost starts at 0');
    assert.ok(zero('offhook_gateway_fallbacks_total', { reason: 'line_down' }), 'fallbacks start at 0');
    assert.ok(
      zero('offhook_gateway_budget_exhausted_total', { scope: 'total', limit: 'calls_per_hour' }),
      'exhausted starts at 0',
    );
  });
});
