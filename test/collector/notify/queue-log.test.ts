import assert from 'node:assert/strict';
import { createLogger, createRegistry, ManualClock, type Alert } from '../../../shared/index.ts';
import { notificationMetrics } from '../../../collector/notify/metrics.ts';
import { ReceiverQueue, type QueueItem } from '../../../collector/notify/queue.ts';
import type { NotificationBatch, Notifier } from '../../../collector/notify/types.ts';
import { makeAlert, receiver } from './helpers.ts';

/** A pino destination that keeps every line, so the test reads what an operator would. */
function captureLines(): { lines: Record<string, unknown>[]; write(chunk: string): void } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write: (chunk: string) =>
      void lines.push(
        ...chunk
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      ),
  };
}

describe('notifiers: rate-limit logging', () => {
  it('a burst held by the rate limit is logged once per window with its count; the metric counts each', async () => {
    const clock = new ManualClock();
    const registry = createRegistry('collector');
    const capture = captureLines();
    const logger = createLogger('collector', { level: 'info', destination: capture });
    const sent: NotificationBatch[] = [];
    const notifier: Notifier = { notify: async (batch) => (sent.push(batch), { ok: true }) };
    const delivered: QueueItem[] = [];
    const queue = new ReceiverQueue({
      receiver: receiver('exec', { command: ['/bin/true'], rate_limit: { max: 1, per: '60s' }, max_batch: 500 }),
      notifier,
      externalUrl: 'http://127.0.0.1:9465',
      clock,
      metrics: notificationMetrics(registry),
      logger,
      onDelivered: async (items) => void delivered.push(...items),
      onUndelivered: () => assert.fail('nothing may be dropped'),
    });
    const burst: Alert[] = Array.from({ length: 120 }, (_, i) => makeAlert({ labels: { mount: `/m${i}` } }));
    for (const alert of burst) queue.enqueue({ alert, reason: 'firing', key: alert.fingerprint });
    // The first alert went out at once; the other 119 wait for the window.
    await new Promise<void>((resolve) => setImmediate(resolve));
    clock.advance(60_000);
    await queue.idle();

    assert.equal(delivered.length, 120);
    assert.equal(sent.length, 2, 'one send, then the held alerts coalesced');
    const rateLines = capture.lines.filter((l) => /rate limit/.test(String(l.msg)));
    assert.ok(rateLines.length <= 2, `expected at most 2 rate-limit lines, got ${rateLines.length}`);
    assert.equal(
      rateLines.reduce((sum, l) => sum + Number(l.held), 0),
      119,
      'the lines account for every held alert',
    );
    const metric = (await registry.getSingleMetric('offhook_notifications_rate_limited_total')?.get())?.values.find(
      (v) => v.labels.receiver === 'test',
    );
    assert.equal(metric?.value, 119);
    await queue.close();
  });
});
