import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createRegistry, silentLogger } from '../../../shared/index.ts';
import { callTemplate } from '../../../telephony-gateway/calls/call-template.ts';
import { callMessage, sanitizeSpeech } from '../../../telephony-gateway/calls/wording.ts';
import { GatewayConfig } from '../../../telephony-gateway/config.ts';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { assertOneCallAtATime, speechFileOf, startTestGateway, type TestGateway } from '../harness.ts';
import { makeAlert } from '../helpers.ts';

const FAILURES = 'offhook_notification_template_failures_total';
const TEMPLATE =
  '{{ Alerts.Firing.size }} down. {% for a in Alerts.Firing %}{{ a.Labels.host }} says {{ a.Annotations.summary }}. ' +
  '{% endfor %}Worst: {{ CommonLabels.severity | default: "mixed" }}.';

describe('gateway: speech.templates.message, the spoken call text as a Liquid template', () => {
  it('renders the Alertmanager names for the alerts of a call; failing, the built-in text, counted', async () => {
    const registry = createRegistry('test');
    const alerts = [
      makeAlert({ summary: 'HTTP down', severity: 'critical' }),
      makeAlert({ host: 'db1', severity: 'critical' }),
    ];
    const render = callTemplate(TEMPLATE, silentLogger(), registry);
    assert.equal(
      render(alerts, 'built-in'),
      `2 down. web1 says HTTP down. db1 says ${alerts[1]!.summary}. Worst: critical.`,
    );
    assert.match(
      await registry.getSingleMetricAsString(FAILURES),
      /receiver="telephony-gateway",field="speech.message".* 0/,
    );
    assert.equal(callTemplate('{{ CommonLabels.nope }}', silentLogger(), registry)(alerts, 'built-in'), 'built-in');
    assert.match(await registry.getSingleMetricAsString(FAILURES), /field="speech.message".* 1/);
  });

  it('a broken template is a config error naming speech.templates.message', () => {
    const config = parse(readFileSync('deploy/examples/gateway.yaml', 'utf8'));
    config.speech = { ...config.speech, templates: { message: '{{ Status | nope }}' } };
    const result = GatewayConfig.safeParse(config);
    assert.equal(result.success, false);
    const issue = result.error!.issues[0]!;
    assert.deepEqual(
      [issue.path.join('.'), issue.message.split(',')[0]],
      ['speech.templates.message', 'invalid template: undefined filter: nope'],
    );
  });
});

describe('gateway: a templated call is spoken sanitised (sim line, real nats-server)', () => {
  const server = useNatsServer();
  let gw: TestGateway | null = null;
  afterEach(async () => {
    if (gw) assertOneCallAtATime(gw.transcript());
    await gw?.stop();
    gw = null;
  });

  it('plays the rendered text after the speech sanitiser: no markup reaches espeak-ng', async () => {
    gw = await startTestGateway(server, { speech: { templates: { message: TEMPLATE } } }, 'gwtmpl1');
    gw.line.script({
      number: '100',
      answerAfterRings: 1,
      then: [{ waitForPrompt: 'menu', after: 500 }, { press: '1' }],
    });
    const alert = makeAlert({ summary: 'disk <speak>99%</speak> full', severity: 'critical' });
    await gw.publish(alert);
    await gw.waitFor('the acknowledged call', () => gw!.finished.some((f) => f.reason === 'acknowledged'));
    const expected = sanitizeSpeech(
      callTemplate(
        TEMPLATE,
        silentLogger(),
        createRegistry('x'),
      )([alert], callMessage([alert], { maxAlertsSpoken: 3, maxChars: 600 })),
      600,
    );
    assert.equal(expected, '1 down. web1 says disk 99 percent full. Worst: critical.');
    const played = gw.transcript().find((e) => e.event === 'play');
    assert.equal(played?.event === 'play' ? played.file : null, await speechFileOf(expected));
    assert.equal(await gw.metric(FAILURES, { receiver: 'telephony-gateway', field: 'speech.message' }), 0);
  });
});

describe("gateway: the README's spoken text template example", () => {
  it('parses as gateway config and renders', () => {
    const readme = readFileSync(new URL('../../../telephony-gateway/README.md', import.meta.url), 'utf8');
    const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].find((m) => m[1]!.includes('templates:'))![1]!;
    const config = parse(readFileSync('deploy/examples/gateway.yaml', 'utf8'));
    const parsed = GatewayConfig.parse({ ...config, speech: { ...config.speech, ...parse(block).speech } });
    const alerts = [makeAlert({ summary: 'HTTP down' }), makeAlert({ host: 'db1', summary: 'db1 disk full' })];
    const text = callTemplate(parsed.speech.templates!.message!, silentLogger(), createRegistry('t'))(alerts, 'x');
    assert.equal(sanitizeSpeech(text, 600), '2 alerts. web1: HTTP down. db1: db1 disk full.');
  });
});
