import assert from 'node:assert/strict';
import {
  Aggregator,
  compareAlerts,
  type GroupedAlert,
  type GroupOptions,
  groupKeyOf,
  labelSetString,
  routeKey,
} from '../../../collector/notify/aggregation.ts';

const S = 1000;
const opts: GroupOptions = {
  groupBy: ['alertname'],
  groupWait: 30 * S,
  groupInterval: 300 * S,
  repeatInterval: 4 * 3600 * S,
  sendResolved: true,
};
const T0 = 1_000_000_000_000;
const ROUTE = routeKey([[{ name: 'severity', op: '=', value: 'page' }]]);

function alert(name: string, host: string, resolved = false, startsAt = T0): GroupedAlert {
  return { fingerprint: `${name}/${host}`, labels: { alertname: name, host }, resolved, startsAt };
}

function summary(agg: Aggregator<GroupedAlert>, now: number) {
  return agg.flush(now).map((n) => ({
    key: n.groupKey,
    status: n.status,
    alerts: n.alerts.map((a) => `${a.fingerprint}${a.resolved ? ':resolved' : ''}`),
  }));
}

describe('aggregation groups (Alertmanager dispatch semantics)', () => {
  it('prints route keys and group keys as Alertmanager does', () => {
    assert.equal(routeKey([]), '{}');
    assert.equal(
      routeKey([
        [
          { name: 'team', op: '=~', value: 'db|web' },
          { name: 'severity', op: '!=', value: 'info' },
        ],
        [],
      ]),
      '{}/{severity!="info",team=~"db|web"}/{}',
    );
    assert.equal(labelSetString({ host: 'b', alertname: 'Disk "full"' }), '{alertname="Disk \\"full\\"", host="b"}');
    assert.equal(groupKeyOf(ROUTE, { alertname: 'DiskFull' }), '{}/{severity="page"}:{alertname="DiskFull"}');
  });

  it('waits group_wait for a new group, then sends all its alerts in one notification', () => {
    const agg = new Aggregator<GroupedAlert>();
    agg.insert(alert('DiskFull', 'b'), 'hook', ROUTE, opts, T0);
    agg.insert(alert('DiskFull', 'a'), 'hook', ROUTE, opts, T0 + S);
    agg.insert(alert('Load', 'a'), 'hook', ROUTE, opts, T0 + 2 * S);
    assert.equal(agg.nextDueAt(), T0 + 30 * S);
    assert.deepEqual(summary(agg, T0 + 29 * S), []);
    assert.deepEqual(summary(agg, T0 + 30 * S), [
      {
        key: '{}/{severity="page"}:{alertname="DiskFull"}',
        status: 'firing',
        alerts: ['DiskFull/a', 'DiskFull/b'],
      },
    ]);
    assert.deepEqual(summary(agg, T0 + 32 * S), [
      { key: '{}/{severity="page"}:{alertname="Load"}', status: 'firing', alerts: ['Load/a'] },
    ]);
  });

  it('flushes at once an alert older than group_wait in a group not yet flushed', () => {
    const agg = new Aggregator<GroupedAlert>();
    agg.insert(alert('DiskFull', 'a', false, T0 - 60 * S), 'hook', ROUTE, opts, T0);
    assert.equal(agg.nextDueAt(), T0);
  });

  it('a change waits for group_interval; nothing new sends nothing until repeat_interval', () => {
    const agg = new Aggregator<GroupedAlert>();
    agg.insert(alert('DiskFull', 'a'), 'hook', ROUTE, opts, T0);
    assert.equal(summary(agg, T0 + 30 * S).length, 1);
    agg.insert(alert('DiskFull', 'b'), 'hook', ROUTE, opts, T0 + 40 * S);
    assert.equal(agg.nextDueAt(), T0 + 330 * S, 'group_interval after the first flush, not group_wait');
    assert.deepEqual(summary(agg, T0 + 330 * S)[0]?.alerts, ['DiskFull/a', 'DiskFull/b']);
    let now = T0 + 330 * S;
    let flushes = 0;
    while (now < T0 + 330 * S + opts.repeatInterval - 1) {
      now += opts.groupInterval;
      if (now >= T0 + 330 * S + opts.repeatInterval) break;
      assert.deepEqual(summary(agg, now), [], 'unchanged group before repeat_interval');
      flushes++;
    }
    assert.ok(flushes > 0);
    assert.equal(summary(agg, T0 + 330 * S + opts.repeatInterval).length, 1, 'repeat after repeat_interval');
  });

  it('a resolve goes out with the still-firing alerts, then the group forgets it; all resolved is "resolved"', () => {
    const agg = new Aggregator<GroupedAlert>();
    agg.insert(alert('DiskFull', 'a'), 'hook', ROUTE, opts, T0);
    agg.insert(alert('DiskFull', 'b'), 'hook', ROUTE, opts, T0);
    summary(agg, T0 + 30 * S);
    agg.insert(alert('DiskFull', 'a', true), 'hook', ROUTE, opts, T0 + 60 * S);
    assert.deepEqual(summary(agg, T0 + 330 * S), [
      {
        key: '{}/{severity="page"}:{alertname="DiskFull"}',
        status: 'firing',
        alerts: ['DiskFull/a:resolved', 'DiskFull/b'],
      },
    ]);
    agg.insert(alert('DiskFull', 'b', true), 'hook', ROUTE, opts, T0 + 400 * S);
    assert.deepEqual(summary(agg, T0 + 630 * S)[0], {
      key: '{}/{severity="page"}:{alertname="DiskFull"}',
      status: 'resolved',
      alerts: ['DiskFull/b:resolved'],
    });
    assert.equal(agg.nextDueAt(), undefined, 'an empty group is dropped');
  });

  it('without send_resolved a partial resolve sends nothing, all resolved clears silently', () => {
    const quiet = { ...opts, sendResolved: false };
    const agg = new Aggregator<GroupedAlert>();
    agg.insert(alert('DiskFull', 'a'), 'hook', ROUTE, quiet, T0);
    agg.insert(alert('DiskFull', 'b'), 'hook', ROUTE, quiet, T0);
    summary(agg, T0 + 30 * S);
    agg.insert(alert('DiskFull', 'a', true), 'hook', ROUTE, quiet, T0 + 60 * S);
    assert.deepEqual(summary(agg, T0 + 330 * S), []);
    agg.insert(alert('DiskFull', 'b', true), 'hook', ROUTE, quiet, T0 + 400 * S);
    assert.deepEqual(summary(agg, T0 + 630 * S), []);
    // Fired again after the group emptied: new group, group_wait, told again (the log's firing set was cleared).
    agg.insert(alert('DiskFull', 'b'), 'hook', ROUTE, quiet, T0 + 700 * S);
    assert.deepEqual(summary(agg, T0 + 730 * S)[0]?.alerts, ['DiskFull/b']);
  });

  it("group_by ['...'] groups by every label; receivers keep separate groups", () => {
    const agg = new Aggregator<GroupedAlert>();
    const key = agg.insert(alert('DiskFull', 'a'), 'hook', '{}', { ...opts, groupBy: 'all' }, T0);
    assert.equal(key, '{}:{alertname="DiskFull", host="a"}');
    agg.insert(alert('DiskFull', 'a'), 'mail', '{}', { ...opts, groupBy: 'all' }, T0);
    assert.deepEqual(
      agg.flush(T0 + 30 * S).map((n) => n.receiver),
      ['hook', 'mail'],
    );
  });

  it('orders alerts by job, instance, then labels', () => {
    const a = (labels: Record<string, string>): GroupedAlert => ({
      fingerprint: '',
      labels,
      resolved: false,
      startsAt: 0,
    });
    const sorted = [a({ x: '1' }), a({ job: 'b' }), a({ job: 'a', instance: 'z' }), a({ job: 'a', instance: 'y' })]
      .sort(compareAlerts)
      .map((x) => labelSetString(x.labels));
    assert.deepEqual(sorted, ['{instance="y", job="a"}', '{instance="z", job="a"}', '{job="b"}', '{x="1"}']);
  });
});
