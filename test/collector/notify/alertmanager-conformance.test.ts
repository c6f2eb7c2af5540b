import assert from 'node:assert/strict';
import {
  Aggregator,
  type GroupedAlert,
  type GroupOptions,
  groupKeyOf,
  labelSetString,
  routeKey,
} from '../../../collector/notify/aggregation.ts';
import { ALERTMANAGER, type AlertmanagerProcess, startAlertmanager } from '../../helpers/alertmanager.ts';
import { until } from '../../helpers/wait.ts';

/**
 * Feeds the same alert steps to a real Alertmanager (Debian 0.25) and to offhook's aggregation groups, and compares
 * what each sends per step: groupKey, groupLabels, status, and the alerts (labels, status, order). Steps wait on
 * Alertmanager's POSTs, never on a time; offhook's side runs on a simulated clock.
 */
interface Sent {
  groupKey: string;
  groupLabels: Record<string, string>;
  status: string;
  alerts: string[];
}

const options: GroupOptions = {
  groupBy: ['alertname'],
  groupWait: 1000,
  groupInterval: 1000,
  repeatInterval: 4 * 3600 * 1000,
  sendResolved: true,
};

function amConfig(url: string): Record<string, unknown> {
  return {
    route: {
      receiver: 'hook',
      routes: [
        {
          receiver: 'hook',
          matchers: ['team=~"db|web"', 'severity!="info"'],
          group_by: ['alertname'],
          group_wait: '1s',
          group_interval: '1s',
          repeat_interval: '4h',
        },
        {
          receiver: 'hook',
          matchers: ['severity="page"'],
          group_by: ['alertname'],
          group_wait: '1s',
          group_interval: '1s',
          repeat_interval: '4h',
        },
      ],
    },
    receivers: [{ name: 'hook', webhook_configs: [{ url, send_resolved: true }] }],
  };
}

const labels = (alertname: string, host: string) => ({ alertname, host, severity: 'page' });

describe(`grouped notifications against a real Alertmanager (${ALERTMANAGER})`, function () {
  this.timeout(60_000);
  const posts: Sent[] = [];
  let am: AlertmanagerProcess | undefined;

  before(async () => {
    am = await startAlertmanager(
      (hookBase) => amConfig(`${hookBase}/`),
      (_path, p) =>
        posts.push({
          groupKey: p.groupKey,
          groupLabels: p.groupLabels,
          status: p.status,
          alerts: p.alerts.map((a) => `${labelSetString(a.labels)}:${a.status}`),
        }),
    );
  });
  after(async () => {
    await am?.stop();
  });

  it('agrees per step on groupKey, groupLabels, status and the alerts of each POST', async () => {
    const agg = new Aggregator<GroupedAlert>();
    const route = routeKey([[{ name: 'severity', op: '=', value: 'page' }]]);
    const teams = routeKey([
      [
        { name: 'team', op: '=~', value: 'db|web' },
        { name: 'severity', op: '!=', value: 'info' },
      ],
    ]);
    let now = Date.now();
    const ours: Sent[] = [];
    async function step(alerts: { l: Record<string, string>; resolved?: boolean }[], expectPosts: number) {
      const body = alerts.map(({ l, resolved }) =>
        resolved ? { labels: l, endsAt: new Date(Date.now() - 1000).toISOString() } : { labels: l },
      );
      const before = posts.length;
      await am!.postAlerts(body);
      await until(() => posts.length >= before + expectPosts, `${expectPosts} POST(s) from Alertmanager`, 20_000);
      for (const { l, resolved } of alerts)
        agg.insert(
          { fingerprint: labelSetString(l), labels: l, resolved: !!resolved, startsAt: now },
          'hook',
          l.team ? teams : route,
          options,
          now,
        );
      // Offhook's side: flush until this step's notifications came out (bounded), on the simulated clock.
      const mine: Sent[] = [];
      for (let i = 0; i < 10 && mine.length < expectPosts; i++) {
        now = agg.nextDueAt() ?? now;
        for (const n of agg.flush(now))
          mine.push({
            groupKey: n.groupKey,
            groupLabels: n.groupLabels,
            status: n.status,
            alerts: n.alerts.map((a) => `${labelSetString(a.labels)}:${a.resolved ? 'resolved' : 'firing'}`),
          });
      }
      ours.push(...mine);
    }
    await step([{ l: labels('DiskFull', 'b') }, { l: labels('DiskFull', 'a') }, { l: labels('Load', 'x') }], 2);
    await step([{ l: labels('DiskFull', 'c') }], 1);
    await step([{ l: labels('DiskFull', 'a'), resolved: true }], 1);
    await step([{ l: labels('Load', 'x'), resolved: true }], 1);
    await step([{ l: { ...labels('Db', 'd'), team: 'db' } }], 1);
    // Alertmanager flushes groups due at the same time in no fixed order: compare per groupKey, in order.
    const byKey = (list: Sent[]) => {
      const map = new Map<string, Sent[]>();
      for (const s of list) map.set(s.groupKey, [...(map.get(s.groupKey) ?? []), s]);
      return Object.fromEntries([...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    };
    assert.equal(posts.length, 6, 'two first notifications, then one per step');
    assert.deepEqual(byKey(ours), byKey(posts));
    assert.equal(posts[0]?.groupKey.startsWith('{}/{severity="page"}:{alertname='), true);
    assert.equal(posts[5]?.groupKey, '{}/{severity!="info",team=~"db|web"}:{alertname="Db"}');
  });

  it('quotes label values in the groupKey as Alertmanager does (Go strconv.Quote, not JSON)', async () => {
    // Control characters, DEL, printable and non-printable non-ASCII (NBSP, zero-width space, private use, astral).
    const names = ['tab\tbell\u0007vt\u000bnul\u0000del\u007f', 'é ü 日本 🚒 "q" \\', 'nb\u00a0zw\u200bpu\ue000𝄞'];
    const before = posts.length;
    await am!.postAlerts(names.map((alertname) => ({ labels: labels(alertname, 'q') })));
    await until(() => posts.length >= before + names.length, `${names.length} POSTs from Alertmanager`, 20_000);
    const route = routeKey([[{ name: 'severity', op: '=', value: 'page' }]]);
    const theirs = posts.slice(before).map((p) => p.groupKey);
    const ours = names.map((alertname) => groupKeyOf(route, { alertname }));
    assert.deepEqual([...theirs].sort(), [...ours].sort());
  });
});
