import assert from 'node:assert/strict';
import { GroupIntervals } from '../../../collector/notify/group-interval.ts';
import type { NotificationGroup } from '../../../collector/notify/types.ts';
import { makeAlert, resolvedCopy } from './helpers.ts';

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
});
