import assert from 'node:assert/strict';
import { FloodLimiter, RuleSet } from '../../agent/logs/rules.ts';

const rule = (name: string, pattern: string, extra: Partial<{ ignore_case: boolean; capture: string[] }> = {}) => ({
  name,
  pattern,
  severity: 'warning' as const,
  ignore_case: false,
  ...extra,
});

describe('agent log rules', () => {
  it('matches every rule a line satisfies, with named groups as labels (same group name in two rules)', () => {
    const rules = new RuleSet([
      rule('oom', 'Killed process (?<pid>\\d+) \\((?<comm>[^)]+)\\)', { capture: ['comm'] }),
      rule('any-pid', 'pid=(?<pid>\\d+)'),
      rule('killed', 'killed', { ignore_case: true }),
    ]);
    assert.deepEqual(rules.match('Out of memory: Killed process 4242 (java) pid=7'), [
      { rule: 'oom', severity: 'warning', labels: { comm: 'java' } },
      { rule: 'any-pid', severity: 'warning', labels: { pid: '7' } },
      { rule: 'killed', severity: 'warning' },
    ]);
    assert.deepEqual(rules.match('KILLED by the admin'), [{ rule: 'killed', severity: 'warning' }]);
    assert.deepEqual(rules.match('all quiet'), []);
  });

  it('refuses a backreference, naming the rule field (the linear-time fallback cannot run it)', () => {
    assert.throws(
      () => new RuleSet([rule('err', 'ERROR'), rule('repeat', '(\\w+) \\1')], 'logs[0].rules'),
      /^UnsafeRegexError: logs\[0\]\.rules\[1\]\.pattern: backreferences are not supported/,
    );
  });

  it('catastrophic patterns finish on long near-miss lines, alone and in the combined prefilter', () => {
    const near = `${'a'.repeat(5000)}!`;
    const words = `${'word '.repeat(3000)}!`;
    const rules = new RuleSet([
      rule('alt', '^(a|aa)+$'),
      rule('nested', '(a+)+$'),
      rule('words', '^(\\w+\\s?)*$'),
      rule('err', 'ERROR'),
    ]);
    assert.deepEqual(
      rules.match(near).map((m) => m.rule),
      [],
    );
    assert.deepEqual(
      rules.match(words).map((m) => m.rule),
      [],
    );
    assert.deepEqual(
      rules.match('a'.repeat(5000)).map((m) => m.rule),
      ['alt', 'nested', 'words'],
    );
    assert.deepEqual(
      rules.match(`ERROR ${near}`).map((m) => m.rule),
      ['err'],
    );
    assert.deepEqual(
      rules.match('aaaa!b').map((m) => m.rule),
      [],
    );
  });

  it('flood limiter: burst, then refill at the configured rate', () => {
    let now = 0;
    const limiter = new FloodLimiter(2, 3, () => now);
    assert.deepEqual(
      [1, 2, 3, 4].map(() => limiter.allow('r')),
      [true, true, true, false],
    );
    assert.equal(limiter.allow('other'), true, 'buckets are per rule');
    now += 500;
    assert.deepEqual([limiter.allow('r'), limiter.allow('r')], [true, false]);
  });
});
