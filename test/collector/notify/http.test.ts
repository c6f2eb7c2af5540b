import assert from 'node:assert/strict';
import { GO_ZERO_TIME } from '../../../shared/index.ts';
import {
  batchOf,
  createNotifier,
  HOSTILE_SUMMARY,
  HttpSink,
  makeAlert,
  neverAborted,
  resolvedCopy,
} from './helpers.ts';

describe('notifiers: webhook (Alertmanager v4) and http-get against a real HTTP server', () => {
  let sink: HttpSink;
  beforeEach(async () => {
    sink = await HttpSink.start();
  });
  afterEach(async () => {
    await sink.close();
  });

  it('webhook POSTs the Alertmanager v4 payload with every field', async () => {
    const firing = makeAlert({ labels: { mount: '/var', severity: 'spoofed' } });
    const other = makeAlert({ rule: 'load_high', labels: {}, summary: 'load 12', value: 12, severity: 'warning' });
    const notifier = createNotifier('webhook', { url: `${sink.url}/hook?x=1`, headers: { 'X-Team': 'ops' } });
    const outcome = await notifier.notify(batchOf([firing, resolvedCopy(other)]), neverAborted());
    assert.deepEqual(outcome, { ok: true });
    const [request] = sink.requests;
    assert.equal(request!.method, 'POST');
    assert.equal(request!.url.pathname + request!.url.search, '/hook?x=1');
    assert.equal(request!.headers['content-type'], 'application/json');
    assert.equal(request!.headers['x-team'], 'ops');
    const payload = JSON.parse(request!.body);
    assert.deepEqual(Object.keys(payload).sort(), [
      'alerts',
      'commonAnnotations',
      'commonLabels',
      'externalURL',
      'groupKey',
      'groupLabels',
      'receiver',
      'status',
      'truncatedAlerts',
      'version',
    ]);
    assert.equal(payload.version, '4');
    assert.equal(payload.status, 'firing');
    assert.equal(payload.receiver, 'test');
    assert.equal(payload.truncatedAlerts, 0);
    assert.equal(payload.externalURL, 'http://status.example:9470');
    assert.deepEqual(payload.commonLabels, { host: 'web1' });
    assert.deepEqual(payload.groupLabels, { host: 'web1' });
    assert.equal(typeof payload.groupKey, 'string');
    const [a, b] = payload.alerts;
    assert.deepEqual(Object.keys(a).sort(), [
      'annotations',
      'endsAt',
      'fingerprint',
      'generatorURL',
      'labels',
      'startsAt',
      'status',
    ]);
    assert.deepEqual(a.labels, { mount: '/var', alertname: 'disk_full', host: 'web1', severity: 'critical' });
    assert.deepEqual(a.annotations, { summary: 'disk /var is 97% full', value: '97' });
    assert.equal(a.startsAt, '2023-11-14T22:13:20.000Z');
    assert.equal(a.endsAt, GO_ZERO_TIME);
    assert.equal(a.fingerprint, firing.fingerprint);
    assert.equal(a.generatorURL, `http://status.example:9470/alerts/${firing.fingerprint}`);
    assert.equal(b.status, 'resolved');
    assert.equal(b.endsAt, '2023-11-14T22:14:20.000Z');
  });

  it('webhook max_alerts truncates and reports truncatedAlerts', async () => {
    const alerts = [1, 2, 3].map((n) => makeAlert({ rule: `r${n}` }));
    const notifier = createNotifier('webhook', { url: sink.url, max_alerts: 2 });
    assert.deepEqual(await notifier.notify(batchOf(alerts), neverAborted()), { ok: true });
    const payload = JSON.parse(sink.requests[0]!.body);
    assert.equal(payload.alerts.length, 2);
    assert.equal(payload.truncatedAlerts, 1);
  });

  it('webhook: 5xx and 429 are retryable, 4xx is not, a refused connection is', async () => {
    const statuses = [503, 429, 400];
    sink.respond = (_req, index) => statuses[index]!;
    const notifier = createNotifier('webhook', { url: sink.url });
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await notifier.notify(batchOf([makeAlert()]), neverAborted()));
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? 'ok' : o.retry)),
      [true, true, false],
    );
    assert.match((outcomes[2] as { error: string }).error, /HTTP 400/);
    const closed = await HttpSink.start();
    const url = closed.url;
    await closed.close();
    const refused = await createNotifier('webhook', { url }).notify(batchOf([makeAlert()]), neverAborted());
    assert.equal(refused.ok, false);
    assert.equal((refused as { retry: boolean }).retry, true);
  });

  it('webhook: a redirect is not followed (one request, a failure not retried); the connection is reused', async () => {
    sink.respond = (_req, index) => (index === 0 ? 200 : 307);
    const notifier = createNotifier('webhook', { url: sink.url });
    assert.deepEqual(await notifier.notify(batchOf([makeAlert()]), neverAborted()), { ok: true });
    const redirected = await notifier.notify(batchOf([makeAlert()]), neverAborted());
    assert.deepEqual(
      { ok: redirected.ok, retry: (redirected as { retry: boolean }).retry },
      { ok: false, retry: false },
    );
    assert.match((redirected as { error: string }).error, /HTTP 307/);
    assert.equal(sink.requests.length, 2);
    assert.equal(
      sink.requests[0]!.remotePort,
      sink.requests[1]!.remotePort,
      'the second POST used the kept-alive connection',
    );
  });

  it('webhook carries a hostile summary verbatim as JSON and adds no header', async () => {
    const notifier = createNotifier('webhook', { url: sink.url });
    await notifier.notify(batchOf([makeAlert({ summary: HOSTILE_SUMMARY })]), neverAborted());
    const request = sink.requests[0]!;
    assert.equal(JSON.parse(request.body).alerts[0].annotations.summary, HOSTILE_SUMMARY);
    assert.equal(request.headers['x-injected'], undefined);
  });

  it('webhook sends basic auth and bearer tokens read from files', async () => {
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/offhook-webhook-`);
    try {
      writeFileSync(`${dir}/token`, 's3cret\n');
      await createNotifier('webhook', { url: sink.url, bearer_token_file: `${dir}/token` }).notify(
        batchOf([makeAlert()]),
        neverAborted(),
      );
      await createNotifier('webhook', { url: sink.url, basic_auth: { username: 'am', password: 'pw' } }).notify(
        batchOf([makeAlert()]),
        neverAborted(),
      );
      assert.equal(sink.requests[0]!.headers.authorization, 'Bearer s3cret');
      assert.equal(sink.requests[1]!.headers.authorization, `Basic ${Buffer.from('am:pw').toString('base64')}`);
      const missing = await createNotifier('webhook', { url: sink.url, bearer_token_file: `${dir}/absent` }).notify(
        batchOf([makeAlert()]),
        neverAborted(),
      );
      assert.deepEqual({ ok: missing.ok, retry: (missing as { retry: boolean }).retry }, { ok: false, retry: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('http-get sends one GET per alert with the alert as query parameters, hostile text encoded', async () => {
    const alerts = [
      makeAlert({ summary: HOSTILE_SUMMARY }),
      makeAlert({ rule: 'swap', value: null, status: 'resolved', endsAt: 1_700_000_100_000 }),
    ];
    const notifier = createNotifier('http-get', {
      url: `${sink.url}/notify?apikey=k&summary=preset`,
      params: { to: 'ops' },
    });
    assert.deepEqual(await notifier.notify(batchOf(alerts), neverAborted()), { ok: true });
    assert.equal(sink.requests.length, 2);
    const [first, second] = sink.requests.map((r) => r.url.searchParams);
    assert.equal(sink.requests[0]!.method, 'GET');
    assert.equal(first!.get('apikey'), 'k');
    assert.equal(first!.get('to'), 'ops');
    assert.deepEqual(first!.getAll('summary'), [HOSTILE_SUMMARY]);
    assert.equal(first!.get('host'), 'web1');
    assert.equal(first!.get('rule'), 'disk_full');
    assert.equal(first!.get('severity'), 'critical');
    assert.equal(first!.get('status'), 'firing');
    assert.equal(first!.get('reason'), 'firing');
    assert.equal(first!.get('value'), '97');
    assert.equal(first!.get('fingerprint'), alerts[0]!.fingerprint);
    assert.equal(first!.get('url'), `http://status.example:9470/alerts/${alerts[0]!.fingerprint}`);
    assert.equal(first!.get('X-Injected'), null);
    assert.equal(second!.get('status'), 'resolved');
    assert.equal(second!.get('value'), '');
  });

  it('http-get templates.summary renders the summary parameter per alert', async () => {
    const alerts = [makeAlert(), makeAlert({ host: 'web2', status: 'resolved', endsAt: 1_700_000_100_000 })];
    const notifier = createNotifier('http-get', {
      url: `${sink.url}/notify`,
      templates: { summary: '{{ Status | upcase }} {{ CommonLabels.host }}: {{ CommonAnnotations.summary }}' },
    });
    assert.deepEqual(await notifier.notify(batchOf(alerts), neverAborted()), { ok: true });
    assert.deepEqual(
      sink.requests.map((r) => r.url.searchParams.get('summary')),
      ['FIRING web1: disk /var is 97% full', 'RESOLVED web2: disk /var is 97% full'],
    );
  });

  it('http-get stops at the first failure and reports it', async () => {
    sink.respond = () => 502;
    const outcome = await createNotifier('http-get', { url: sink.url }).notify(
      batchOf([makeAlert(), makeAlert({ rule: 'x' })]),
      neverAborted(),
    );
    assert.equal(sink.requests.length, 1);
    assert.deepEqual({ ok: outcome.ok, retry: (outcome as { retry: boolean }).retry }, { ok: false, retry: true });
  });

  it('an aborted request ends promptly with a retryable failure', async () => {
    sink.respond = () => 'hang';
    const controller = new AbortController();
    const pending = createNotifier('webhook', { url: sink.url }).notify(batchOf([makeAlert()]), controller.signal);
    await sink.waitFor(1);
    controller.abort(new Error('timed out'));
    const outcome = await pending;
    assert.equal(outcome.ok, false);
    assert.equal((outcome as { retry: boolean }).retry, true);
  });
});
