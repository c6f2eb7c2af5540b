import assert from 'node:assert/strict';
import { CollectorConfig } from '../../../collector/config.ts';
import { createRegistry, jetstreamClient, publishDurable, Subjects, ManualClock } from '../../../shared/index.ts';
import { ALERTMANAGER, type AlertmanagerProcess, startAlertmanager } from '../../helpers/alertmanager.ts';
import { useCollectorBed } from '../../helpers/collector-bed.ts';
import { until } from '../../helpers/wait.ts';
import { EventScript } from '../alerts/engine-harness.ts';
import { metricValue } from './helpers.ts';

/**
 * The same alerts fired into a real Alertmanager 0.25 (its v2 API) and into the collector's service (agents' resource
 * events on a real nats-server, its rules raising the alerts) with the equivalent route; both webhooks are captured on
 * loopback and compared on what grouping decides: POSTs per group, alerts per POST, groupKey, groupLabels, status,
 * commonLabels. Alertmanager gets the 16 alerts in one request; the collector runs on a simulated clock advanced
 * past group_wait once all 16 wait in its queue, so neither side depends on timing. Then the group changes, one step at
 * a time (each step waits for both sides' POST, so no step's change can fall into another's notification): an alert
 * is added, one resolves, and two are added of which an inhibit rule holds one back. After group_interval both resend
 * the whole group: every firing alert, plus the resolved one once. Last, a nested route takes an alert into a group
 * of its own. Each POST's alerts are compared by host and status.
 */
interface Post {
  groupKey: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  status: string;
  /** `host:status`, sorted: which alerts were sent (and so which were held back). */
  alerts: string[];
}

// A nested route (inheriting receiver and group_wait) takes web20 into a group of its own, keyed by the whole path.
const route = {
  matchers: ['severity="critical"'],
  group_by: ['alertname'],
  group_wait: '2s',
  routes: [{ matchers: ['host="web20"'], group_by: ['host'] }],
};
// Same rule both sides: a firing disk alert on web2 holds back the one on web18 (and nothing else).
const inhibitRules = [
  {
    source_matchers: ['alertname="disk"', 'host="web2"'],
    target_matchers: ['alertname="disk"', 'host="web18"'],
    equal: ['alertname'],
  },
];

describe(`grouping end to end: the collector and a real Alertmanager (${ALERTMANAGER}) agree`, function () {
  this.timeout(60_000);
  const posts: Record<string, Post[]> = { am: [], offhook: [] };
  let am: AlertmanagerProcess | undefined;
  // Shared: each test goes on from the groups the one before it left.
  const bed = useCollectorBed({ shared: true });
  const { server } = bed;
  let clock: ManualClock;
  let script: EventScript;
  let registry: ReturnType<typeof createRegistry>;

  before(async () => {
    am = await startAlertmanager(
      (hookBase) => ({
        route: {
          receiver: 'hook',
          // Real time on Alertmanager's side: each step below waits for its POST, so the length only costs time.
          routes: [{ receiver: 'hook', ...route, group_interval: '2s', repeat_interval: '4h' }],
        },
        inhibit_rules: inhibitRules,
        receivers: [{ name: 'hook', webhook_configs: [{ url: `${hookBase}/am`, send_resolved: true }] }],
      }),
      (path, p) =>
        posts[path === '/am' ? 'am' : 'offhook']!.push({
          groupKey: p.groupKey,
          groupLabels: p.groupLabels,
          commonLabels: p.commonLabels,
          status: p.status,
          alerts: p.alerts.map((a) => `${a.labels.host}:${a.status}`).sort(),
        }),
    );
  });
  after(async () => {
    await am?.stop();
  });

  it('the first notification of each group: same POSTs, alerts per POST, groupKey, labels and status', async () => {
    const config = CollectorConfig.parse({
      nats: { servers: [server.url], prefix: 'ame2e' },
      listen: '127.0.0.1:0',
      rules: [{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }],
      inhibit_rules: inhibitRules,
      notifications: {
        receivers: [{ name: 'hook', kind: 'webhook', url: `${am!.hookBase}/offhook` }],
        routes: [{ receiver: 'hook', ...route, group_interval: '5s', send_resolved: true }],
      },
    });
    // The collector's clock is simulated, so its group_wait ends when all 16 alerts are queued, never by timing.
    // An alert's startsAt is the NATS server's store time (alerts/event-time.ts): the simulated clock, advanced 17 s
    // in all, starts a minute behind it, or the last step's alert would look as if it started group_wait ago and be
    // sent at once (Alertmanager's rule for an old alert, right for a replayed one).
    clock = new ManualClock(Date.now() - 60_000);
    registry = createRegistry('collector');
    const collector = await bed.start(config, { registry, clock });
    const js = jetstreamClient(bed.nc);
    script = new EventScript(clock);
    const hosts = Array.from({ length: 16 }, (_, i) => `web${i + 1}`);
    for (const host of hosts)
      await publishDurable(js, new Subjects('ame2e').event(host, 'resource'), script.resource(host, 'disk_used', 95));
    // Alertmanager gets the same alerts with the labels the collector's webhook carries.
    await am!.postAlerts(hosts.map((host) => ({ labels: { alertname: 'disk', host, severity: 'critical' } })));
    const depth = () => metricValue(registry, 'offhook_notification_queue_depth', { receiver: 'hook' });
    await until(async () => (await depth()) === 16, 'the 16 alerts waiting for their group', 30_000);
    assert.equal(posts.offhook!.length, 0, 'nothing sent before group_wait');
    clock.advance(2_000);
    const alertsIn = (side: Post[]) => side.reduce((n, p) => n + p.alerts.length, 0);
    await until(() => alertsIn(posts.am!) === 16 && alertsIn(posts.offhook!) === 16, '16 alerts on each side', 30_000);
    await collector.idle();
    assert.deepEqual(posts.offhook, posts.am);
    assert.equal(posts.am!.length, 1, 'one POST for the one group');
    assert.equal(posts.am![0]!.groupKey, '{}/{severity="critical"}:{alertname="disk"}');
  });

  /** One change on both sides, then the collector's clock past group_interval; resolves with both sides' new POST. */
  async function step(name: string, hosts: Record<string, number>, queued: number, held = 0): Promise<void> {
    const before = { am: posts.am!.length, offhook: posts.offhook!.length };
    const js = jetstreamClient(bed.nc);
    const inhibited = () => metricValue(registry, 'offhook_alerts_inhibited_total', { rule: 'disk' });
    const heldBefore = held > 0 ? await inhibited() : 0;
    for (const [host, value] of Object.entries(hosts))
      await publishDurable(
        js,
        new Subjects('ame2e').event(host, 'resource'),
        script.resource(host, 'disk_used', value),
      );
    const past = new Date(Date.now() - 1_000).toISOString();
    await am!.postAlerts(
      Object.entries(hosts).map(([host, value]) => ({
        labels: { alertname: 'disk', host, severity: 'critical' },
        ...(value < 90 ? { endsAt: past } : {}),
      })),
    );
    const depth = () => metricValue(registry, 'offhook_notification_queue_depth', { receiver: 'hook' });
    await until(async () => (await depth()) === queued, `${name}: ${queued} queued in the collector`, 30_000);
    if (held > 0) await until(async () => (await inhibited()) >= heldBefore + held, `${name}: inhibited`, 30_000);
    assert.equal(posts.offhook!.length, before.offhook, `${name}: nothing sent before group_interval`);
    clock.advance(5_000);
    await until(
      () => posts.am!.length > before.am && posts.offhook!.length > before.offhook,
      `${name}: a POST on each side`,
      30_000,
    );
    await bed.collector!.idle();
    assert.deepEqual(posts.offhook!.slice(before.offhook), posts.am!.slice(before.am), name);
  }

  it('after group_interval both resend the whole group: an alert added, one resolved, one inhibited', async () => {
    const key = '{}/{severity="critical"}:{alertname="disk"}';
    await step('web17 fires', { web17: 95 }, 1);
    assert.equal(posts.am!.at(-1)!.alerts.length, 17, 'the whole group: 16 + web17');
    await step('web1 resolves', { web1: 50 }, 1);
    assert.equal(posts.am!.at(-1)!.alerts.length, 17, 'web2..web17 firing and web1 resolved');
    assert.ok(posts.am!.at(-1)!.alerts.includes('web1:resolved'));
    await step('web18 (inhibited) and web19 fire', { web18: 95, web19: 95 }, 1, 1);
    assert.ok(!posts.am!.at(-1)!.alerts.some((a) => a.startsWith('web18:')), 'web18 held back');
    assert.equal(posts.am!.at(-1)!.alerts.length, 17, 'web2..web17, web19; web1 left the group');
    assert.deepEqual(posts.offhook, posts.am);
    assert.ok(posts.am!.every((p) => p.groupKey === key && p.status === 'firing'));
  });

  it('a nested route: its own group, the groupKey listing the matchers of the path', async () => {
    await step('web20 fires (nested route)', { web20: 95 }, 1);
    assert.equal(posts.am!.at(-1)!.groupKey, '{}/{severity="critical"}/{host="web20"}:{host="web20"}');
    assert.deepEqual(posts.am!.at(-1)!.alerts, ['web20:firing']);
  });
});
