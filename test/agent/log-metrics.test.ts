import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogFileConfig } from '../../agent/index.ts';
import { createAgentMetrics } from '../../agent/core/metrics.ts';
import { LogSource } from '../../agent/logs/log-source.ts';
import { createRegistry, silentLogger } from '../../shared/index.ts';
import { tempDir } from './helpers.ts';

/** The per-line counts are kept as plain numbers and reach the counters when the registry is read. */
describe('agent log files: line, match, suppression and truncation counters (real file)', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    dir.remove();
  });

  it('a scrape shows every line read since the start, per file and rule, counted once', async () => {
    const path = join(dir.path, 'app.log');
    writeFileSync(path, '');
    const config: LogFileConfig = {
      path,
      rules: [
        { name: 'error', pattern: 'ERROR', severity: 'warning', ignore_case: false },
        { name: 'fatal', pattern: 'FATAL', severity: 'critical', ignore_case: false },
      ],
      start_at: 'beginning',
      max_line_chars: 40,
      // Two errors pass, the third is held back; the test is over long before a token comes back.
      rate_limit: { per_second: 0.001, burst: 2 },
      poll_interval: 60_000,
    };
    const registry = createRegistry('agent');
    const metrics = createAgentMetrics(registry);
    const submitted: string[] = [];
    const source = new LogSource(config, {
      host: 'h1',
      stateDir: dir.path,
      submit: async (body) => {
        submitted.push('rule' in body ? body.rule : body.kind);
      },
      metrics,
      logger: silentLogger(),
    });
    const value = async (name: string, labels: Record<string, string>): Promise<number | undefined> => {
      const metric = registry.getSingleMetric(name);
      const { values } = await metric!.get();
      return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
    };
    await source.start();
    try {
      appendFileSync(path, `ERROR one\nnothing\nFATAL ${'x'.repeat(60)}\nERROR two\n`);
      await source.poll();
      assert.equal(await value('offhook_agent_log_lines_total', { file: path }), 4);
      assert.equal(await value('offhook_agent_log_matches_total', { file: path, rule: 'error' }), 2);
      assert.equal(await value('offhook_agent_log_matches_total', { file: path, rule: 'fatal' }), 1);
      assert.equal(await value('offhook_agent_log_truncated_lines_total', { file: path }), 1);
      assert.equal(await value('offhook_agent_log_suppressed_total', { file: path, rule: 'error' }), undefined);

      appendFileSync(path, 'ERROR three\nplain\n');
      await source.poll();
      const text = await registry.metrics();
      assert.match(text, /offhook_agent_log_lines_total\{[^}]*\} 6\n/);
      assert.equal(await value('offhook_agent_log_lines_total', { file: path }), 6, 'read twice, counted once');
      assert.equal(await value('offhook_agent_log_matches_total', { file: path, rule: 'error' }), 3);
      assert.equal(await value('offhook_agent_log_suppressed_total', { file: path, rule: 'error' }), 1);
      assert.deepEqual(submitted, ['error', 'fatal', 'error']);
    } finally {
      await source.stop();
    }
  });
});
