import assert from 'node:assert/strict';
import { FloodLimiter, RuleSet } from '../../agent/logs/rules.ts';

const rule = (name: string, pattern: string, extra: Partial<{ ignore_case: boolean; capture: string[] }> = {}) => ({ name, pattern, severity: 'warning' as const, ignore_case: false, ...extra });

describe('agent log rules', () => {
  it('matches every rule a line satisfies, with named groups as labels (same group name in two rules)', () => {
    const rules = new RuleSet([rule('oom', 'Killed process (?<pid>\\d+) \\((?<comm>[^)]+)\\)', { capture: ['comm'] }), rule('any-pid', 'pid=(?<pid>\\d+)'), rule('killed', 'killed', { ignore_case: true })]);
    assert.deepEqual(rules.match('Out of memory: Killed process 4242 (java) pid=7'), [
      { rule: 'oom', severity: 'warning', labels: { comm: 'java' } },
      { rule: 'any-pid', severity: 'warning', labels: { pid: '7' } },
      { rule: 'killed', severity: 'warning' },
    ]);
    assert.deepEqual(rules.match('KILLED by the admin'), [{ rule: 'killed', severity: 'warning' }]);
    assert.deepEqual(rules.match('all quiet'), []);
  });

  it('stays correct with a backreference (no combined prefilter then)', () => {
    const rules = new RuleSet([rule('repeat', '(\\w+) \\1'), rule('err', 'ERROR')]);
    assert.deepEqual(rules.match('the the cat').map((m) => m.rule), ['repeat']);
    assert.deepEqual(rules.match('ERROR once').map((m) => m.rule), ['err']);
  });

  it('flood limiter: burst, then refill at the configured rate', () => {
    let now = 0;
    const limiter = new FloodLimiter(2, 3, () => now);
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.allow('r')), [true, true, true, false]);
    assert.equal(limiter.allow('other'), true, 'buckets are per rule');
    now += 500;
    assert.deepEqual([limiter.allow('r'), limiter.allow('r')], [true, false]);
  });
});
