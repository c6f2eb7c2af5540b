import assert from 'node:assert/strict';
import { CheckConfig, pluginFor } from '../../agent/index.ts';
import type { CheckOutcome } from '../../agent/checks/index.ts';
import { CheckScheduler, type ScheduledCheck } from '../../agent/core/scheduler.ts';
import { ManualClock, silentLogger, freeTcpPort } from '../../shared/index.ts';
import { AgentConfig } from '../../agent/config.ts';

const RETRY = { interval: 250, attempts: 3 };

function tcpCheck(port: number, extra: Record<string, unknown> = {}): ScheduledCheck {
  const parsed = CheckConfig.parse({ name: 'svc', kind: 'tcp', port, interval: '10s', timeout: '2s', ...extra });
  const config = parsed as unknown as ScheduledCheck['config'];
  return { config, instance: pluginFor('tcp')!.create(config) };
}

describe('agent soft states: retry_interval', () => {
  it('retries a non-OK check at the retry interval until retry_attempts in a row, then its interval; OK resets', () => {
    const check = tcpCheck(1);
    // random 0.5 = no jitter, so the normal delay is exactly the interval.
    const scheduler = new CheckScheduler([check], () => undefined, silentLogger(), { random: () => 0.5, retry: RETRY });
    const statuses = [
      'critical',
      'critical',
      'critical',
      'critical',
      'ok',
      'warning',
      'ok',
      'unknown',
      'unknown',
      'unknown',
    ] as const;
    const delays = statuses.map((s) => scheduler.nextDelay(check, s));
    assert.deepEqual(delays, [250, 250, 10_000, 10_000, 10_000, 250, 10_000, 250, 250, 10_000]);
  });

  it("the config's default check_retry retries at 100 ms twice, then waits the interval", () => {
    const { check_retry } = AgentConfig.parse({ host: 'h1', checks: [] });
    const check = tcpCheck(1);
    const scheduler = new CheckScheduler([check], () => undefined, silentLogger(), {
      random: () => 0.5,
      retry: check_retry,
    });
    assert.deepEqual(
      [1, 2, 3].map(() => scheduler.nextDelay(check, 'critical')),
      [100, 100, 10_000],
    );
  });

  it('per-check retry_interval / retry_attempts override check_retry; one not below the interval is moot', () => {
    const own = tcpCheck(1, { retry_interval: '1s', retry_attempts: 2 });
    const scheduler = new CheckScheduler([own], () => undefined, silentLogger(), { random: () => 0.5, retry: RETRY });
    const critical = (check: ScheduledCheck, on: CheckScheduler): number => on.nextDelay(check, 'critical');
    assert.deepEqual(
      [1, 2, 3].map(() => critical(own, scheduler)),
      [1000, 10_000, 10_000],
    );
    const slow = tcpCheck(1, { retry_interval: '20s' });
    const withRetry = new CheckScheduler([slow], () => undefined, silentLogger(), { random: () => 0.5, retry: RETRY });
    assert.equal(critical(slow, withRetry), 10_000);
    const none = new CheckScheduler([own], () => undefined, silentLogger(), { random: () => 0.5 });
    assert.equal(none.nextDelay(tcpCheck(1), 'critical'), 10_000, 'without check_retry a failure waits the interval');
  });

  it('a real tcp check on a closed port runs at 0, 250, 500 ms, then after its interval (injected clock)', async () => {
    const check = tcpCheck(await freeTcpPort());
    const clock = new ManualClock();
    const start = clock.now();
    const runs: number[] = [];
    let outcomes: CheckOutcome[] = [];
    let settled: (() => void) | null = null;
    const instrumented: ScheduledCheck = {
      config: check.config,
      instance: {
        target: check.instance.target,
        run: (ctx) => {
          runs.push(clock.now() - start);
          return check.instance.run(ctx);
        },
      },
    };
    const scheduler = new CheckScheduler(
      [instrumented],
      (_c, outcome) => {
        outcomes.push(outcome);
        settled?.();
      },
      silentLogger(),
      { random: () => 0, clock, retry: RETRY },
    );
    /** Advances the clock to fire the next run, then waits for its outcome and for the next run to be scheduled. */
    const runAfter = async (ms: number): Promise<void> => {
      const done = new Promise<void>((resolve) => (settled = resolve));
      clock.advance(ms);
      await done;
      await new Promise(setImmediate); // runAndReschedule schedules after the outcome handler returns
    };
    scheduler.start();
    await runAfter(0);
    clock.advance(249);
    assert.equal(runs.length, 1, 'not before the retry interval');
    await runAfter(1);
    await runAfter(250);
    assert.deepEqual(runs, [0, 250, 500]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['critical', 'critical', 'critical'],
    );
    // Hard now (3 attempts): back to the interval, jittered by -10 % with random() = 0.
    clock.advance(8_999);
    assert.equal(runs.length, 3);
    outcomes = [];
    await runAfter(1);
    assert.deepEqual(runs, [0, 250, 500, 9_500]);
    scheduler.stop();
  });
});
