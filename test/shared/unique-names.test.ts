import assert from 'node:assert/strict';
import * as z from 'zod';
import { CollectorConfig } from '../../collector/config.ts';
import { refineUniqueNames } from '../../shared/index.ts';

describe('refineUniqueNames: one duplicate-name rule for every config list', () => {
  it('names the second entry and the first one that has the name; returns every name with its first index', () => {
    let seen = new Map<string, number>();
    const Schema = z.object({ people: z.array(z.object({ name: z.string() })) }).superRefine((config, ctx) => {
      seen = refineUniqueNames(
        ctx,
        'people',
        config.people.map((p) => p.name),
        'person name',
      );
    });
    const result = Schema.safeParse({ people: [{ name: 'alice' }, { name: 'bob' }, { name: 'alice' }] });
    assert.equal(result.success, false);
    assert.deepEqual(
      result.error!.issues.map((i) => [i.path.join('.'), i.message]),
      [['people.2.name', 'expected a unique person name; "alice" is also people[0]']],
    );
    assert.deepEqual(
      [...seen],
      [
        ['alice', 0],
        ['bob', 1],
      ],
    );
  });

  it('the collector refuses two rules of one name', () => {
    const rule = { name: 'cpu', kind: 'threshold', metric: 'cpu_usage_percent', crit: 95 };
    const result = CollectorConfig.safeParse({ rules: [rule, rule] });
    assert.equal(result.success, false);
    assert.ok(
      result.error!.issues.some(
        (i) =>
          i.path.join('.') === 'rules.1.name' && i.message === 'expected a unique rule name; "cpu" is also rules[0]',
      ),
      JSON.stringify(result.error!.issues),
    );
  });
});
