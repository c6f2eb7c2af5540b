import assert from 'node:assert/strict';
import { NotificationsConfig } from '../../../collector/notify/config.ts';
import { routeMatchNotices } from '../../../collector/notify/route-notices.ts';
import { createRouter } from '../../../collector/notify/route.ts';
import { makeAlert } from './helpers.ts';

const exec = (name: string) => ({ name, kind: 'exec', command: ['/bin/true'] });

function router(routes: unknown[]) {
  const parsed = NotificationsConfig.parse({ receivers: [exec('ops'), exec('db'), exec('disk')], routes });
  return createRouter(parsed.routes);
}

describe("notifiers: nested routes (Alertmanager's route tree)", () => {
  const route = router([
    {
      receiver: 'ops',
      matchers: ['severity="critical"'],
      group_by: ['alertname'],
      group_wait: '30s',
      group_interval: '5m',
      routes: [
        { receiver: 'db', matchers: ['team="db"'] },
        { matchers: ['host="web1"'], continue: true, group_by: ['host'] },
        { receiver: 'disk', matchers: ['alertname="disk_full"'] },
      ],
    },
  ]);
  const summary = (alert: ReturnType<typeof makeAlert>) =>
    route(alert, 'firing').map((t) => `${t.receiver} ${t.group.key} ${t.group.wait} ${t.group.interval}`);

  it('the first matching child wins and inherits receiver, group_by, group_wait and group_interval', () => {
    assert.deepEqual(summary(makeAlert({ host: 'web2', labels: { team: 'db' } })), [
      'db {}/{severity="critical"}/{team="db"}:{alertname="disk_full"} 30000 300000',
    ]);
  });

  it('continue goes on to the next child; the groupKey lists the matchers of the whole path', () => {
    assert.deepEqual(summary(makeAlert({ host: 'web1' })), [
      'ops {}/{severity="critical"}/{host="web1"}:{host="web1"} 30000 300000',
      'disk {}/{severity="critical"}/{alertname="disk_full"}:{alertname="disk_full"} 30000 300000',
    ]);
  });

  it('no child matches: the parent route takes the alert; no route matches: nobody', () => {
    assert.deepEqual(summary(makeAlert({ host: 'web2', rule: 'load' })), [
      'ops {}/{severity="critical"}:{alertname="load"} 30000 300000',
    ]);
    assert.deepEqual(summary(makeAlert({ severity: 'warning' })), []);
  });

  it('a top-level route must name its receiver; a nested one names a known one', () => {
    const parse = (routes: unknown[]) => NotificationsConfig.safeParse({ receivers: [exec('ops')], routes });
    const top = parse([{ matchers: ['a="1"'] }]);
    assert.ok(!top.success);
    assert.deepEqual(top.error.issues[0]!.path, ['routes', 0, 'receiver']);
    const nested = parse([{ receiver: 'ops', routes: [{ receiver: 'nope' }] }]);
    assert.ok(!nested.success);
    assert.deepEqual(nested.error.issues[0]!.path, ['routes', 0, 'routes', 0, 'receiver']);
    assert.match(nested.error.issues[0]!.message, /no receiver named "nope"/);
  });

  it("check-config's match: deprecation notice names a nested route by its path", () => {
    const routes = [{ receiver: 'ops', routes: [{ matchers: ['a="1"'] }, { match: { host: 'db1' } }] }];
    assert.deepEqual(routeMatchNotices({ notifications: { routes } }), [
      'notifications.routes.0.routes.1.match: deprecated; write matchers: [\'host="db1"\'] (Alertmanager syntax)',
    ]);
  });
});
