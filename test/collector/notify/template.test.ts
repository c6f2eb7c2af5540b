import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectorConfigFile } from '../../../collector/config.ts';
import { NotificationsConfig } from '../../../collector/notify/config.ts';
import { templateData, templateRenderer } from '../../../collector/notify/template.ts';
import { checkConfigFiles } from '../../../ops/check-config.ts';
import { createRegistry, silentLogger } from '../../../shared/index.ts';
import { batchOf, makeAlert } from './helpers.ts';

describe('notifiers: Liquid templates over the Alertmanager data model', () => {
  it('renders .Status, .Alerts.Firing/.Resolved, .CommonLabels, .GroupLabels and .ExternalURL', () => {
    const registry = createRegistry('test');
    const renderer = templateRenderer('ops', silentLogger(), registry);
    const batch = batchOf([makeAlert(), makeAlert({ host: 'web2' })]);
    const text = renderer.render(
      'subject',
      '{{ Status | upcase }}:{{ Alerts.Firing.size }}/{{ Alerts.Resolved.size }} {{ CommonLabels.alertname }}' +
        ' [{{ GroupLabels | json }}] {% for a in Alerts %}{{ a.Labels.host }}={{ a.Annotations.summary }};' +
        '{% endfor %} {{ ExternalURL }} {{ Receiver }}',
      batch,
      () => 'default',
    );
    const data = templateData(batch) as {
      CommonLabels: Record<string, string>;
      GroupLabels: object;
      ExternalURL: string;
    };
    assert.equal(
      text,
      `FIRING:2/0 ${data.CommonLabels.alertname} [${JSON.stringify(data.GroupLabels)}] ` +
        'web1=disk /var is 97% full;web2=disk /var is 97% full; ' +
        `${data.ExternalURL} ${batch.receiver}`,
    );
  });

  it("the README's example renders a mixed batch without falling back", async () => {
    const readme = readFileSync(new URL('../../../collector/notify/README.md', import.meta.url), 'utf8');
    const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].find((m) => m[1]!.includes('templated'))![1]!;
    const config = NotificationsConfig.parse(parse(block).notifications).receivers[0] as unknown as {
      templates: { subject: string; body: string };
    };
    const registry = createRegistry('test');
    const renderer = templateRenderer('ops', silentLogger(), registry);
    const resolved = makeAlert({ host: 'web2', status: 'resolved', endsAt: 1_700_000_060_000 });
    const batch = batchOf([makeAlert(), resolved]);
    assert.equal(
      renderer.render('subject', config.templates.subject, batch, () => 'x'),
      '[FIRING:1] disk_full',
    );
    const body = renderer.render('body', config.templates.body, batch, () => 'x');
    assert.match(body, /web1: disk \/var is 97% full since \d{4}-/);
    assert.match(body, new RegExp(`Resolved: ${resolved.fingerprint}`));
    const metric = await registry.getSingleMetricAsString('offhook_notification_template_failures_total');
    assert.doesNotMatch(metric, /\} [1-9]/);
  });

  it('a render failure sends the default text, counted per receiver and field', async () => {
    const registry = createRegistry('test');
    const renderer = templateRenderer('ops', silentLogger(), registry);
    const batch = batchOf([makeAlert()]);
    assert.equal(
      renderer.render('body', '{{ CommonLabels.nope }}', batch, () => 'the default'),
      'the default',
    );
    const metric = await registry.getSingleMetricAsString('offhook_notification_template_failures_total');
    assert.match(
      metric,
      /offhook_notification_template_failures_total\{receiver="ops",field="body",process="test"\} 1/,
    );
  });

  it('no prototype or constructor access from an operator template', () => {
    const renderer = templateRenderer('ops', silentLogger(), createRegistry('test'));
    const batch = batchOf([makeAlert()]);
    for (const source of ['{{ constructor }}', '{{ Alerts.constructor.name }}', '{{ Status.__proto__ }}'])
      assert.equal(
        renderer.render('subject', source, batch, () => 'default'),
        'default',
        source,
      );
  });

  it('check-config names the field of a broken template and fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-tmpl-'));
    try {
      const file = join(dir, 'collector.yaml');
      writeFileSync(
        file,
        [
          'nats: { servers: ["nats://127.0.0.1:4222"] }',
          'rules: [{ name: down, kind: host_down }]',
          'notifications:',
          '  receivers:',
          '    - { name: ops, kind: mail, host: smtp.example, from: a@example.com, to: b@example.com,',
          '        templates: { subject: "{{ Status | foo }}" } }',
          '',
        ].join('\n'),
      );
      const result = checkConfigFiles([file], { collector: CollectorConfigFile });
      assert.equal(result.ok, false);
      assert.deepEqual(result.lines, [
        'collector.yaml: notifications.receivers[0].templates.subject: invalid template: ' +
          'undefined filter: foo, line:1, col:1, got "{{ Status | foo }}"',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
