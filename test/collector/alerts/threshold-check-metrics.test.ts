import assert from 'node:assert/strict';
import { fingerprint, type CheckResult, type MetricPoint } from '../../../shared/index.ts';
import { engineFor, EventScript } from './engine-harness.ts';

/** A CheckResult as the agent publishes it for a check that measured numbers (nagios perfdata, probes). */
function checkWithMetrics(
  script: EventScript,
  host: string,
  check: string,
  metrics: MetricPoint[],
  labels?: Record<string, string>,
): CheckResult {
  return { ...script.check(host, check, 'ok'), checkKind: 'nagios', metrics, ...(labels ? { labels } : {}) };
}

const responseTime = (value: number): MetricPoint => ({
  name: 'nagios_time',
  type: 'gauge',
  value,
  labels: { check: 'shop-http', label: 'time', unit: 'seconds' },
});

describe('collector engine: threshold rules on check metrics', () => {
  const slow = {
    name: 'shop-slow',
    kind: 'threshold',
    metric: 'nagios_time',
    warn: 1,
    crit: 2,
    summary: '{host}: {labels.check} answers in {value} s ({level} {relation} {threshold} s)',
  };

  it('thresholds a nagios perfdata gauge like a resource gauge: fires, says so, resolves', () => {
    const { engine, clock, output } = engineFor([slow]);
    const script = new EventScript(clock);
    script.feed(engine, checkWithMetrics(script, 'web1', 'shop-http', [responseTime(0.2)], { team: 'shop' }));
    assert.deepEqual(output.take(), []);
    clock.advance(10_000);
    script.feed(engine, checkWithMetrics(script, 'web1', 'shop-http', [responseTime(2.5)], { team: 'shop' }));
    const fired = output.announced.map((e) => e.alert);
    assert.deepEqual(output.take(), ['firing web1 shop-slow critical g1']);
    assert.equal(fired[0]!.summary, 'web1: shop-http answers in 2.5 s (critical above 2 s)');
    assert.deepEqual(fired[0]!.labels, { team: 'shop', check: 'shop-http', label: 'time', unit: 'seconds' });
    assert.equal(
      fired[0]!.fingerprint,
      fingerprint('web1', 'shop-slow', { team: 'shop', check: 'shop-http', label: 'time', unit: 'seconds' }),
    );
    clock.advance(10_000);
    script.feed(engine, checkWithMetrics(script, 'web1', 'shop-http', [responseTime(0.3)], { team: 'shop' }));
    assert.deepEqual(output.take(), ['resolved web1 shop-slow critical g1']);
  });

  it('the same metric from two checks is two series, told apart by the check label; match selects', () => {
    const rule = { name: 'too-few', kind: 'threshold', metric: 'offhook_process_count', comparison: '<', crit: 1 };
    const count = (value: number): MetricPoint => ({ name: 'offhook_process_count', type: 'gauge', value });
    const both = engineFor([rule]);
    const script = new EventScript(both.clock);
    script.feed(both.engine, checkWithMetrics(script, 'web1', 'nginx', [count(0)]));
    script.feed(both.engine, checkWithMetrics(script, 'web1', 'cron', [count(0)]));
    assert.deepEqual(
      both.output.announced.map((e) => e.alert.labels),
      [{ check: 'nginx' }, { check: 'cron' }],
    );
    const onlyNginx = engineFor([{ ...rule, match: ['check=nginx'] }]);
    script.feed(onlyNginx.engine, checkWithMetrics(script, 'web1', 'nginx', [count(0)]));
    script.feed(onlyNginx.engine, checkWithMetrics(script, 'web1', 'cron', [count(0)]));
    assert.deepEqual(onlyNginx.output.take(), ['firing web1 too-few critical g1']);
  });

  it('a check result without metrics, or with other metrics, leaves the rule alone', () => {
    const { engine, clock, output } = engineFor([{ ...slow, for: '0s' }]);
    const script = new EventScript(clock);
    script.feed(engine, { ...script.check('web1', 'shop-http', 'critical'), checkKind: 'nagios' });
    script.feed(
      engine,
      checkWithMetrics(script, 'web1', 'shop-http', [{ name: 'nagios_size', type: 'gauge', value: 1e9 }]),
    );
    assert.deepEqual(output.take(), []);
    script.feed(engine, script.resource('web1', 'nagios_time', 5));
    assert.deepEqual(output.take(), ['firing web1 shop-slow critical g1'], 'resource samples are judged as before');
  });
});
