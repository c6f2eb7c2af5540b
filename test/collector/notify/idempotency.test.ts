import assert from 'node:assert/strict';
import { createRegistry, silentLogger } from '../../../shared/index.ts';
import { execEnvironment } from '../../../collector/notify/exec.ts';
import { httpGetPlugin } from '../../../collector/notify/http-get.ts';
import { batchKey, messageId } from '../../../collector/notify/idempotency.ts';
import type { NotificationBatch } from '../../../collector/notify/types.ts';
import { hook as webhook, useDispatcherFixture } from './dispatcher-fixture.ts';
import { makeAlert, type RecordedRequest } from './helpers.ts';

/**
 * Idempotency keys: delivery is at-least-once, so each accepted notification carries a key that a resend from the
 * pending log repeats, and that a second, separate acceptance of the same notification does not.
 */
describe('notifiers: idempotency keys (real nats-server, real HTTP receivers)', () => {
  const { sink, dispatcher } = useDispatcherFixture();
  const hook = (url: string, extra: Record<string, unknown> = {}) => webhook('ops', url, extra);
  const header = (r: RecordedRequest): string | undefined => r.headers['idempotency-key'] as string | undefined;
  const annotation = (r: RecordedRequest): string =>
    JSON.parse(r.body).alerts[0].annotations.offhook_notification_key as string;

  it('a resend from the pending log carries the key of the first send (header and annotation)', async () => {
    const [stuck, healthy] = [await sink(), await sink()];
    stuck.respond = () => 'hang';
    const alert = makeAlert();
    const first = await dispatcher({ receivers: [hook(stuck.url, { timeout: '1h' })], routes: [{ receiver: 'ops' }] });
    await first.submit(alert, 'firing');
    await stuck.waitFor(1);
    await first.close(0); // the receiver got it, the "sent" record was never written: a kill in that window

    const second = await dispatcher({ receivers: [hook(healthy.url)], routes: [{ receiver: 'ops' }] });
    await second.idle();
    const [sent, resent] = [stuck.requests[0]!, healthy.requests[0]!];
    assert.match(annotation(sent), new RegExp(`^${alert.fingerprint}\\.1\\.ops\\.firing/[0-9a-f]{16}$`));
    assert.equal(header(sent), `"${annotation(sent)}"`, 'the draft names it and quotes it (sf-string)');
    assert.equal(annotation(resent), annotation(sent));
    assert.equal(header(resent), header(sent));
  });

  it('a later, separate acceptance of the same notification gets a new key', async () => {
    const s = await sink();
    s.respond = (_req, index) => (index === 0 ? 400 : 200); // 400: given up at once
    const d = await dispatcher({ receivers: [hook(s.url)], routes: [{ receiver: 'ops' }] });
    const alert = makeAlert();
    await d.submit(alert, 'firing');
    await d.idle();
    await d.submit(alert, 'firing');
    await d.idle();
    assert.equal(s.requests.length, 2);
    assert.notEqual(annotation(s.requests[1]!), annotation(s.requests[0]!));
    assert.notEqual(header(s.requests[1]!), header(s.requests[0]!));
  });

  it('a batch key: its one alert key, or a hash of all (same alerts in any order, same key); mail and exec', () => {
    const [a, b] = [makeAlert({ host: 'a' }), makeAlert({ host: 'b' })];
    const batch = (keys: string[], alerts = [a, b]): NotificationBatch => ({
      receiver: 'ops',
      reason: 'firing',
      status: 'firing',
      alerts,
      externalUrl: 'http://status.example',
      idempotencyKeys: keys,
    });
    assert.equal(batchKey(batch(['k1'], [a])), 'k1');
    assert.equal(batchKey(batch(['k1', 'k2'])), batchKey(batch(['k2', 'k1'], [b, a])));
    assert.notEqual(batchKey(batch(['k1', 'k2'])), batchKey(batch(['k1', 'k3'])));
    assert.equal(batchKey({ ...batch([]), idempotencyKeys: undefined }), undefined);
    assert.match(messageId(batch(['k1'], [a]))!, /^<[0-9a-f]{32}@offhook>$/);
    assert.equal(messageId(batch(['k1'], [a])), messageId(batch(['k1'], [a])));
    assert.equal(execEnvironment(batch(['k1'], [a])).OFFHOOK_IDEMPOTENCY_KEY, 'k1');
  });

  it('http-get: one request per alert, each with its own alert key', async () => {
    const s = await sink();
    const config = httpGetPlugin.configSchema.parse({ url: s.url });
    const notifier = httpGetPlugin.create(config, { logger: silentLogger(), registry: createRegistry('collector') });
    const alerts = [makeAlert({ host: 'a' }), makeAlert({ host: 'b' })];
    const batch = { receiver: 'ops', reason: 'firing', status: 'firing', alerts, externalUrl: 'http://x' } as const;
    const outcome = await notifier.notify({ ...batch, idempotencyKeys: ['ka', 'kb'] }, new AbortController().signal);
    assert.deepEqual(outcome, { ok: true });
    assert.deepEqual(
      s.requests.map((r) => [r.url.searchParams.get('host'), header(r)]),
      [
        ['a', '"ka"'],
        ['b', '"kb"'],
      ],
    );
  });
});
