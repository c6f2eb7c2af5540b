import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPluginOutput } from '../../agent/checks/nagios/interpret.ts';
import { MetricPoint } from '../../shared/index.ts';

const FIXTURES = new URL('../fixtures/perfdata/', import.meta.url).pathname;

/**
 * Golden files: test/fixtures/perfdata/<case>/input.txt is a plugin's stdout, expected.json what
 * the agent makes of it. OFFHOOK_UPDATE_GOLDEN=1 rewrites expected.json (review the diff).
 */
describe('nagios plugin output and perfdata (golden files)', () => {
  for (const name of readdirSync(FIXTURES).sort()) {
    it(name, () => {
      const input = readFileSync(join(FIXTURES, name, 'input.txt'), 'utf8');
      const actual = readPluginOutput(input, 'golden');
      for (const point of actual.metrics)
        assert.ok(MetricPoint.safeParse(point).success, `${point.name} is a valid MetricPoint`);
      assert.ok(actual.metrics.length <= 200, 'fits in one CheckResult');
      const expectedFile = join(FIXTURES, name, 'expected.json');
      if (process.env.OFFHOOK_UPDATE_GOLDEN === '1')
        writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
      assert.ok(existsSync(expectedFile), `${name}/expected.json is missing: OFFHOOK_UPDATE_GOLDEN=1 writes it`);
      assert.deepEqual(actual, JSON.parse(readFileSync(expectedFile, 'utf8')));
    });
  }
});
