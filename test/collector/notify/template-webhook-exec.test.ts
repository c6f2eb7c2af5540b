import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotificationsConfig } from '../../../collector/notify/config.ts';
import { parse } from 'yaml';
import { templateRenderer } from '../../../collector/notify/template.ts';
import { createRegistry, silentLogger } from '../../../shared/index.ts';
import { batchOf, createNotifier, HttpSink, makeAlert, metricValue, neverAborted } from './helpers.ts';

const FAILURES = 'offhook_notification_template_failures_total';

describe('notifiers: webhook annotation templates and the exec text template', () => {
  let sink: HttpSink;
  let dir: string;
  beforeEach(async () => {
    sink = await HttpSink.start();
    dir = mkdtempSync(join(tmpdir(), 'offhook-tmpl-exec-'));
  });
  afterEach(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('webhook templates.annotations renders each annotation per alert; commonAnnotations follows', async () => {
    const resolved = makeAlert({ host: 'web2', status: 'resolved', endsAt: 1_700_000_100_000 });
    const notifier = createNotifier('webhook', {
      url: sink.url,
      templates: {
        annotations: {
          summary: '{{ Alerts[0].Labels.host }} {{ Status }}: {{ Alerts[0].Annotations.summary }}',
          runbook: 'https://wiki.example/{{ CommonLabels.alertname }}',
        },
      },
    });
    assert.deepEqual(await notifier.notify(batchOf([makeAlert(), resolved]), neverAborted()), { ok: true });
    const payload = JSON.parse(sink.requests[0]!.body);
    assert.deepEqual(
      payload.alerts.map((a: { annotations: Record<string, string> }) => [
        a.annotations.summary,
        a.annotations.runbook,
      ]),
      [
        ['web1 firing: disk /var is 97% full', 'https://wiki.example/disk_full'],
        ['web2 resolved: disk /var is 97% full', 'https://wiki.example/disk_full'],
      ],
    );
    assert.equal(payload.commonAnnotations.runbook, 'https://wiki.example/disk_full');
    assert.equal(payload.commonAnnotations.summary, undefined);
  });

  it('a failing annotation template keeps the built-in annotation and is counted by field', async () => {
    const registry = createRegistry('test');
    const notifier = createNotifier(
      'webhook',
      { url: sink.url, templates: { annotations: { summary: '{{ CommonLabels.nope }}', extra: '{{ nope }}' } } },
      registry,
    );
    assert.deepEqual(await notifier.notify(batchOf([makeAlert()]), neverAborted()), { ok: true });
    const annotations = JSON.parse(sink.requests[0]!.body).alerts[0].annotations;
    assert.equal(annotations.summary, 'disk /var is 97% full');
    assert.equal(annotations.extra, '');
    assert.equal(await metricValue(registry, FAILURES, { receiver: 'test', field: 'annotations.summary' }), 1);
    assert.equal(await metricValue(registry, FAILURES, { receiver: 'test', field: 'annotations.extra' }), 1);
  });

  it('check-config refuses an annotation offhook writes itself, naming the field', () => {
    const parsed = NotificationsConfig.safeParse({
      receivers: [
        {
          name: 'hook',
          kind: 'webhook',
          url: 'http://127.0.0.1:1/',
          templates: { annotations: { offhook_notification_key: 'x' } },
        },
      ],
    });
    assert.equal(parsed.success, false);
    assert.match(JSON.stringify(parsed.error!.issues), /written by offhook/);
  });

  it('exec templates.text is passed as OFFHOOK_TEXT and as text on stdin; unset, neither appears', async () => {
    const run = async (options: Record<string, unknown>, name: string) => {
      const out = join(dir, `${name}.json`);
      const env = join(dir, `${name}.env`);
      const command = ['/bin/sh', '-c', 'cat > "$1"; printf %s "${OFFHOOK_TEXT-unset}" > "$2"', 'x', out, env];
      const notifier = createNotifier('exec', { command, ...options });
      assert.deepEqual(await notifier.notify(batchOf([makeAlert(), makeAlert({ host: 'web2' })]), neverAborted()), {
        ok: true,
      });
      return { stdin: JSON.parse(readFileSync(out, 'utf8')), env: readFileSync(env, 'utf8') };
    };
    const templated = await run(
      { templates: { text: '{{ Alerts.Firing.size }} firing\n{% for a in Alerts %}{{ a.Labels.host }} {% endfor %}' } },
      'templated',
    );
    assert.equal(templated.env, '2 firing\nweb1 web2 ');
    assert.equal(templated.stdin.text, '2 firing\nweb1 web2 ');
    const plain = await run({}, 'plain');
    assert.equal(plain.env, 'unset');
    assert.equal('text' in plain.stdin, false);
  });
});

describe('notifiers: the README examples of webhook and exec templates', () => {
  it('parse and render without falling back', async () => {
    const readme = readFileSync(new URL('../../../collector/notify/README.md', import.meta.url), 'utf8');
    const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].find((m) => m[1]!.includes('chat-hook'))![1]!;
    const [hook, vfd] = NotificationsConfig.parse(parse(block).notifications).receivers as unknown as [
      { templates: { annotations: Record<string, string> } },
      { templates: { text: string } },
    ];
    const registry = createRegistry('test');
    const renderer = templateRenderer('ops', silentLogger(), registry);
    const batch = batchOf([makeAlert()]);
    assert.equal(
      renderer.render('s', hook.templates.annotations.summary, batch, () => 'x'),
      'web1: disk /var is 97% full',
    );
    assert.match(
      renderer.render('d', hook.templates.annotations.description, batch, () => 'x'),
      /^disk_full is firing since \d{4}-/,
    );
    const two = batchOf([makeAlert(), makeAlert({ host: 'web2', rule: 'load_high' })]);
    assert.equal(
      renderer.render('t', vfd.templates.text, two, () => 'x'),
      '2 FIRING disk_full\nweb1 web2 ',
    );
    assert.equal(await metricValue(registry, FAILURES, {}), 0);
  });
});

describe('notifiers: offhook_notification_template_failures_total starts at 0 for each configured field', () => {
  it('has a 0 sample per receiver and configured template field before any notification', async () => {
    const registry = createRegistry('test');
    createNotifier(
      'webhook',
      { url: 'http://127.0.0.1:9/', templates: { annotations: { summary: '{{ Status }}' } } },
      registry,
    );
    createNotifier('exec', { command: ['/bin/true'], templates: { text: '{{ Status }}' } }, registry);
    createNotifier('exec', { command: ['/bin/true'] }, registry);
    const text = await registry.getSingleMetricAsString(FAILURES);
    const samples = text.split('\n').filter((line) => line.startsWith(`${FAILURES}{`));
    assert.deepEqual(samples, [
      `${FAILURES}{receiver="test",field="annotations.summary",process="test"} 0`,
      `${FAILURES}{receiver="test",field="text",process="test"} 0`,
    ]);
  });
});
