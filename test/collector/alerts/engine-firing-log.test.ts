import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ManualClock } from '../../../shared/index.ts';
import type { AlertRecord } from '../../../collector/alerts/alert-record.ts';
import { AlertEngine } from '../../../collector/alerts/engine.ts';
import { buildRules } from '../../../collector/alerts/engine-rules.ts';
import { CollectorConfig } from '../../../collector/config.ts';
import { EventScript } from './engine-harness.ts';

describe('collector engine: the "alert firing" log line', () => {
  it('is written after the alert is committed, not on its way to the commit', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const config = CollectorConfig.parse({
      rules: [{ name: 'app_fatal', kind: 'log', log_rule: '^fatal$', count: 1, within: '1h', severity: 'critical' }],
    });
    const firingLogged = (): boolean => lines.some((line) => line.includes('"msg":"alert firing"'));
    const loggedAtCommit: boolean[] = [];
    const clock = new ManualClock();
    const engine = new AlertEngine({
      rules: buildRules(config.rules, config.defaults),
      clock,
      output: { commit: (_record: AlertRecord) => loggedAtCommit.push(firingLogged()) },
      logger,
    });
    const script = new EventScript(clock);
    assert.equal(engine.handleEvent(script.log('web1', 'fatal', 'FATAL out of widgets'), 1, clock.now()), true);
    assert.deepEqual(loggedAtCommit, [false]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(firingLogged(), true, 'still logged, once the commit is under way');
  });
});
