import assert from 'node:assert/strict';
import { createRule, RuleConfig } from '../../../collector/rules/index.ts';
import type { ResourceSample } from '../../../shared/index.ts';

function rule(name: string, metric: string) {
  return createRule(RuleConfig.parse({ name, kind: 'threshold', metric, crit: 10 }));
}

const event: ResourceSample = {
  v: 1,
  id: 'web1-1',
  host: 'web1',
  ts: 1_764_000_000_000,
  seq: 1,
  kind: 'resource',
  intervalMs: 10_000,
  metrics: [
    { name: 'used_a', type: 'gauge', value: 20, labels: { mountpoint: '/' } },
    { name: 'unread', type: 'gauge', value: 99 },
    { name: 'used_b', type: 'gauge', value: 5 },
    { name: 'used_a', type: 'gauge', value: 1, labels: { mountpoint: '/var' } },
  ],
};

/*
 * Threshold rules share one index of an event's points, holding only the names some rule reads: every rule must
 * still see each of its points, also a rule created after the index of that very event was built.
 */
describe('threshold rules: the shared index of an event points', () => {
  it('each rule judges exactly the points of its metric, with their series keys', () => {
    const a = rule('a', 'used_a');
    const verdicts = a.onEvent!(event, 0);
    assert.deepEqual(
      verdicts.map((v) => [v.severity, v.value, v.key]),
      [
        ['critical', 20, 'web1|mountpoint=/'],
        [null, 1, 'web1|mountpoint=/var'],
      ],
    );
    const late = rule('late', 'used_b');
    assert.deepEqual(
      late.onEvent!(event, 0).map((v) => [v.severity, v.value]),
      [[null, 5]],
      'a rule made after the index was built',
    );
    assert.equal(rule('none', 'absent').onEvent!(event, 0).length, 0);
  });

  it('another sample with its points in another order is indexed by its own names', () => {
    const a = rule('a2', 'used_a');
    assert.equal(a.onEvent!(event, 0).length, 2);
    const reordered = { ...event, seq: 2, metrics: [...event.metrics].reverse() };
    reordered.metrics[0] = { name: 'unread', type: 'gauge', value: 30 };
    assert.deepEqual(
      a.onEvent!(reordered, 0).map((v) => v.value),
      [20],
      'the /var point at position 0 was replaced by an unread name',
    );
    const b = rule('b2', 'used_b');
    assert.deepEqual(
      b.onEvent!(reordered, 0).map((v) => v.value),
      [5],
    );
  });
});
