import assert from 'node:assert/strict';
import { request } from 'node:http';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { startTestGateway, type TestGateway } from '../harness.ts';

const TOKEN = 'webhook-test-token';

/** A notification as Alertmanager 0.25 sends it (see fixtures/alertmanager-0.25-firing.json). */
function notification(
  status: 'firing' | 'resolved',
  alerts: Array<{ labels: Record<string, string>; status?: 'firing' | 'resolved'; summary?: string }>,
) {
  return {
    receiver: 'offhook',
    status,
    alerts: alerts.map((a) => ({
      status: a.status ?? status,
      labels: a.labels,
      annotations: a.summary ? { summary: a.summary } : {},
      startsAt: '2026-11-25T10:00:00.5Z',
      endsAt: (a.status ?? status) === 'resolved' ? '2026-11-25T10:05:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: 'da8cf2af1b19f6b1',
    })),
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    version: '4',
    groupKey: '{}:{}',
    truncatedAlerts: 0,
  };
}

describe('gateway Alertmanager webhook (real nats-server, sim line)', function () {
  const server = useNatsServer();
  let gw: TestGateway | null = null;
  let suite = 0;

  afterEach(async () => {
    await gw?.stop();
    gw = null;
  });

  /** A gateway whose calls wait an hour (group_wait), so queued alerts stay queued for the test to look at. */
  async function start(extra: Record<string, unknown> = {}): Promise<TestGateway> {
    return startTestGateway(
      server,
      {
        escalation: { group_wait: '1h' },
        alertmanager: { listen: '127.0.0.1:0', auth: { bearer_token: TOKEN }, max_body_bytes: 4096, ...extra } as never,
      },
      `gwam${++suite}`,
    );
  }

  function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(gw!.gateway.alertmanager!.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  it('queues each alert once however often Alertmanager retries, and a resolve removes the queued call', async () => {
    gw = await start();
    const firing = notification('firing', [
      {
        labels: { alertname: 'DiskFull', instance: 'db1.example.com:9100', severity: 'critical' },
        summary: 'Disk almost full',
      },
      { labels: { alertname: 'DiskFull', instance: 'db2.example.com:9100', severity: 'warning' } },
    ]);
    const first = await post(firing);
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { status: 'ok', queued: 2, duplicates: 0 });
    // A retry after a lost response, and two at once (Alertmanager HA peers both notifying).
    const retries = await Promise.all([post(firing), post(firing), post(firing)]);
    for (const response of retries) assert.deepEqual(await response.json(), { status: 'ok', queued: 0, duplicates: 2 });
    await gw.waitFor('both alerts queued', () => gw!.gateway.queue.size === 2 && gw!.handled.length === 2);
    const queued = gw.gateway.queue.all().map((entry) => entry.alert);
    assert.deepEqual(
      queued.map((a) => [a.host, a.severity, a.ruleKind, a.summary]),
      [
        ['db1_example_com', 'critical', 'external', 'Disk almost full'],
        ['db2_example_com', 'warning', 'external', 'DiskFull on db2 example com'],
      ],
    );
    assert.equal(
      await gw.metric('offhook_gateway_alertmanager_alerts_total', { status: 'firing', result: 'queued' }),
      2,
    );
    assert.equal(
      await gw.metric('offhook_gateway_alertmanager_alerts_total', { status: 'firing', result: 'duplicate' }),
      6,
    );

    const resolved = notification('resolved', [
      { labels: { alertname: 'DiskFull', instance: 'db1.example.com:9100', severity: 'critical' } },
    ]);
    assert.equal((await post(resolved)).status, 200);
    await gw.waitFor(
      'the resolved alert leaving the queue',
      () => gw!.finished.some((f) => f.reason === 'resolved') && gw!.handled.length >= 3,
    );
    assert.deepEqual(
      gw.gateway.queue.all().map((e) => e.alert.host),
      ['db2_example_com'],
    );
    assert.equal(gw.handled.length, 3, 'two firings and one resolve reached the gateway, no retry did');
    assert.equal(
      gw.transcript().filter((e) => e.event === 'off_hook').length,
      0,
      'nobody was called while group_wait ran',
    );
  });

  it('refuses hostile and broken requests with a clear 4xx, counts them, and keeps serving', async () => {
    gw = await start();
    const valid = notification('firing', [{ labels: { alertname: 'Up', instance: 'web1:9100' } }]);
    const expectError = async (response: Response, status: number, pattern: RegExp): Promise<void> => {
      const text = await response.text();
      assert.equal(response.status, status, text);
      assert.match(text, pattern);
    };
    await expectError(
      await post(valid, { Authorization: '' }),
      401,
      /missing or wrong credentials: set http_config\.authorization\.credentials/,
    );
    await expectError(await post(valid, { Authorization: 'Bearer wrong-token-here' }), 401, /credentials/);
    await expectError(
      await fetch(gw.gateway.alertmanager!.url, { headers: { Authorization: `Bearer ${TOKEN}` } }),
      405,
      /expected POST/,
    );
    await expectError(
      await fetch(gw.gateway.alertmanager!.url.replace(/alertmanager$/, 'other'), { method: 'POST' }),
      404,
      /posts to \/alertmanager/,
    );
    await expectError(
      await post(JSON.stringify(valid), { 'Content-Type': 'text/plain' }),
      415,
      /expected Content-Type application\/json, got \\"text\/plain\\"/,
    );
    await expectError(await post('x'.repeat(5000)), 413, /larger than 4096 bytes/);
    await expectError(await post('{"version": "4", "alerts": [tru'), 400, /"reason":"not_json"/);
    await expectError(
      await post(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1'), {}),
      400,
      /not_json|not_utf8/,
    );
    await expectError(
      await post('{"__proto__": {"isAdmin": true}, "version": "4"}'),
      400,
      /__proto__: the key \\"__proto__\\" is not allowed/,
    );
    await expectError(await post({ ...valid, version: '3' }), 400, /version: expected \\"4\\"/);
    await expectError(
      await post({ ...valid, alerts: [{ ...valid.alerts[0], status: 'pending' }] }),
      400,
      /alerts\[0\]\.status: expected one of \\"firing\\", \\"resolved\\"/,
    );

    // A body that only turns out too large while streaming (no Content-Length).
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(
        gw!.gateway.alertmanager!.url,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Authorization: `Bearer ${TOKEN}`,
            'Transfer-Encoding': 'chunked',
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1000));
      req.end();
    });
    assert.equal(chunked, 413);

    const ok = await post(valid);
    assert.equal(ok.status, 200, 'the endpoint still works after all that');
    await gw.waitFor('the valid alert queued', () => gw!.gateway.queue.size === 1);
    const outcome = (name: string): Promise<number> =>
      gw!.metric('offhook_gateway_alertmanager_requests_total', { outcome: name });
    assert.deepEqual(
      await Promise.all(
        [
          'unauthorized',
          'method_not_allowed',
          'not_found',
          'unsupported_media_type',
          'too_large',
          'invalid_payload',
          'accepted',
        ].map(outcome),
      ),
      [2, 1, 1, 1, 2, 5, 1],
    );
    const reason = (name: string): Promise<number> =>
      gw!.metric('offhook_gateway_alertmanager_invalid_payloads_total', { reason: name });
    assert.deepEqual(
      await Promise.all(['prototype_key', 'unsupported_version', 'invalid_field'].map(reason)),
      [1, 1, 1],
    );
    assert.equal((await reason('not_json')) + (await reason('not_utf8')), 2);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
  });

  it('answers 503 while NATS is down, so Alertmanager retries; takes the retry once NATS is back', async function () {
    this.timeout(120_000);
    gw = await start();
    await server.stop();
    try {
      const refused = await post(notification('firing', [{ labels: { alertname: 'Down', instance: 'web9' } }]));
      assert.equal(refused.status, 503);
      assert.match(await refused.text(), /retry later/);
    } finally {
      await server.restart();
    }
    let retried: Response | null = null;
    // The gateway's NATS client reconnects on its own; Alertmanager keeps retrying until a 2xx, as this loop does.
    for (let attempt = 0; attempt < 15 && retried?.status !== 200; attempt++)
      retried = await post(notification('firing', [{ labels: { alertname: 'Down', instance: 'web9' } }]));
    assert.equal(retried!.status, 200);
    await gw.waitFor('the retry queued', () => gw!.gateway.queue.size === 1);
    assert.equal(
      (await gw.metric('offhook_gateway_alertmanager_requests_total', { outcome: 'unavailable' })) >= 1,
      true,
    );
  });
});
