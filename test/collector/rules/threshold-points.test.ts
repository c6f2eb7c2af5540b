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
});
