import assert from 'node:assert/strict';
import { createRegistry, ManualClock, silentLogger } from '../../../shared/index.ts';
import { GroupIntervals } from '../../../collector/notify/group-interval.ts';
import { notificationMetrics } from '../../../collector/notify/metrics.ts';
import { ReceiverQueue } from '../../../collector/notify/queue.ts';
import type { NotificationGroup } from '../../../collector/notify/types.ts';
import { makeAlert, receiver, resolvedCopy } from './helpers.ts';
import { until } from '../../helpers/wait.ts';

const group: NotificationGroup = { key: '{}:{alertname="disk"}', labels: { alertname: 'disk' }, interval: 5_000 };

describe('notifiers: group_interval (group-interval.ts)', () => {
  it('a group not notified yet waits for group_wait, not the grid', () => {
    const intervals = new GroupIntervals();
    assert.equal(intervals.readyAt(group, 1_000), undefined);
    intervals.flushed({ ...group, interval: undefined }, 1_000);
    assert.equal(intervals.readyAt(group, 1_000), undefined, 'no group_interval: nothing to keep');
  });

  it('later changes go on the grid first flush + k × interval, strictly after now', () => {
    const intervals = new GroupIntervals();
    const a = makeAlert({ host: 'web1' });
    intervals.flushed(group, 1_000);
    intervals.delivered(group, [a]);
    assert.equal(intervals.readyAt(group, 1_000), 6_000);
    assert.equal(intervals.readyAt(group, 5_999), 6_000);
    assert.equal(intervals.readyAt(group, 6_000), 11_000, 'the flush at 6s has gone');
    intervals.flushed(group, 6_000);
    assert.equal(intervals.readyAt(group, 7_000), 11_000, 'the grid keeps its first flush');
  });

  it('a notification carries the whole group; resolved alerts leave it, an empty group ends', () => {
    const intervals = new GroupIntervals();
    const a = makeAlert({ host: 'web1' });
    const b = makeAlert({ host: 'web2' });
    const c = makeAlert({ host: 'web3' });
    intervals.flushed(group, 0);
    intervals.delivered(group, [a, b]);
    assert.deepEqual(
      intervals.payload(group, [c]).map((x) => x.host),
      ['web1', 'web2', 'web3'],
    );
    intervals.delivered(group, [c]);
    const gone = resolvedCopy(a);
    assert.deepEqual(
      intervals.payload(group, [gone]).map((x) => `${x.host}:${x.status}`),
      ['web1:resolved', 'web2:firing', 'web3:firing'],
    );
    intervals.delivered(group, [gone]);
    intervals.forget(group, b.fingerprint);
    assert.deepEqual(
      intervals.payload(group, []).map((x) => x.host),
      ['web3'],
      'a resolve not sent still leaves',
    );
    intervals.delivered(group, [resolvedCopy(c)]);
    assert.equal(intervals.readyAt(group, 1_000), undefined, 'all resolved: the next alert starts a new group');
  });

  it('a queued firing whose untold resolve (no send_resolved) came meanwhile does not stay in the group', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const sent: string[][] = [];
    const queue = new ReceiverQueue({
      receiver: receiver('exec', { command: ['/bin/true'] }),
      notifier: {
        notify: (batch) => {
          sent.push(batch.alerts.map((a) => a.host));
          return Promise.resolve({ ok: true });
        },
      },
      externalUrl: 'http://127.0.0.1:9465',
      clock,
      metrics: notificationMetrics(createRegistry('collector')),
      logger: silentLogger(),
      onDelivered: () => Promise.resolve(),
      onUndelivered: () => {},
    });
    const at = clock.now();
    const item = (host: string) => ({
      alert: makeAlert({ host, startsAt: at }),
      reason: 'firing' as const,
      key: host,
      group,
    });
    queue.enqueue(item('web1'));
    await until(() => sent.length === 1, 'the first notification');
    const web2 = item('web2');
    queue.enqueue(web2);
    queue.forget(group, resolvedCopy(web2.alert));
    clock.advance(5_000);
    await until(() => sent.length === 2, 'the second notification');
    queue.enqueue(item('web3'));
    clock.advance(5_000);
    await until(() => sent.length === 3, 'the third notification');
    await queue.close();
    assert.deepEqual(sent, [['web1'], ['web1', 'web2'], ['web1', 'web3']]);
  });
});
