import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Alert } from '../../../shared/index.ts';
import { AlertmanagerBridgeConfig } from '../../../telephony-gateway/alertmanager/config.ts';
import {
  alertmanagerFingerprint,
  hostFor,
  severityFor,
  speakable,
  toOffhookAlert,
} from '../../../telephony-gateway/alertmanager/mapping.ts';
import type { AlertmanagerPayload } from '../../../shared/index.ts';
import { parsePayload } from '../../../telephony-gateway/alertmanager/payload.ts';
import { silenceEnd, silenceFor } from '../../../telephony-gateway/alertmanager/silencer.ts';
import { isAuthorized, resolveAuth } from '../../../telephony-gateway/alertmanager/auth.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const config = AlertmanagerBridgeConfig.parse({ auth: { bearer_token: 'a-long-secret' } });

function parsed(body: string): AlertmanagerPayload {
  const result = parsePayload(body);
  if (!result.ok) throw new Error(`${result.problem.reason}: ${result.problem.detail}`);
  return result.payload;
}

describe('alertmanager bridge: payload and mapping', () => {
  it('reads the payload a real Alertmanager 0.25 sent, field for field', () => {
    const payload = parsed(fixture('alertmanager-0.25-firing.json'));
    assert.equal(payload.receiver, 'gw');
    assert.equal(payload.truncatedAlerts, 0);
    const [source] = payload.alerts;
    assert.equal(source!.startsAt, Date.parse('2026-11-25T15:18:01.663Z'));
    assert.equal(source!.endsAt, Date.parse('0001-01-01T00:00:00Z'));
    const alert = toOffhookAlert(source!, config, 1000);
    assert.deepEqual(Alert.parse(alert), alert);
    assert.deepEqual(
      {
        host: alert.host,
        rule: alert.rule,
        severity: alert.severity,
        summary: alert.summary,
        status: alert.status,
        kind: alert.ruleKind,
        endsAt: alert.endsAt,
        generation: alert.generation,
      },
      {
        host: 'db1_example_com',
        rule: 'DiskFull',
        severity: 'critical',
        summary: 'Disk almost full',
        status: 'firing',
        kind: 'external',
        endsAt: 0,
        generation: source!.startsAt,
      },
    );
    assert.deepEqual(alert.labels, { alertname: 'DiskFull', instance: 'db1.example.com:9100', severity: 'critical' });
    assert.match(alert.fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(alert.id, `am-${alert.fingerprint}-firing-${source!.startsAt}`, 'a retry carries the same message id');
  });

  it('maps a mixed group: URL and IPv6 instances, severity aliases, hostile annotation text, a resolved alert', () => {
    const payload = parsed(fixture('prometheus-group-mixed.json'));
    const [probe, resolved] = payload.alerts.map((a) => toOffhookAlert(a, config, 5));
    assert.equal(probe!.host, 'shop_example_com');
    assert.equal(probe!.severity, 'critical', '"page" means critical');
    assert.equal(probe!.summary, 'Probe of https://shop.example.com/health failed for 5 minutes');
    assert.equal(resolved!.host, '2001_db8_1');
    assert.equal(resolved!.status, 'resolved');
    assert.equal(resolved!.severity, 'warning', 'no severity label → default_severity');
    assert.equal(resolved!.endsAt, Date.parse('2024-05-01T07:30:00Z'));
    assert.equal(
      resolved!.summary,
      'ProbeFailure on 2001 db8 1',
      'without annotations the summary names the rule and host',
    );
  });

  it('fingerprints the label set (order-independent) and never collides with the collector namespace', () => {
    assert.equal(alertmanagerFingerprint({ a: '1', b: '2' }), alertmanagerFingerprint({ b: '2', a: '1' }));
    assert.notEqual(alertmanagerFingerprint({ a: '1' }), alertmanagerFingerprint({ a: '2' }));
  });

  it('host: first usable host label, then default_host; severity: map, overrides and default', () => {
    assert.equal(hostFor({ job: 'node', instance: '10.0.0.7:9100' }, config), '10_0_0_7');
    assert.equal(hostFor({ host: 'Web-1.Example.com.' }, config), 'web-1_example_com');
    assert.equal(hostFor({ instance: 'weird host/name!' }, config), 'weird_host_name');
    assert.equal(hostFor({ alertname: 'x' }, config), 'alertmanager');
    assert.equal(
      hostFor(
        { instance: '!!!' },
        AlertmanagerBridgeConfig.parse({ auth: { bearer_token: 'a-long-secret' }, default_host: 'prom.example.com' }),
      ),
      'prom_example_com',
    );
    const custom = AlertmanagerBridgeConfig.parse({
      auth: { bearer_token: 'a-long-secret' },
      severity_map: { sev2: 'critical', error: 'critical' },
      default_severity: 'info',
    });
    assert.equal(severityFor({ severity: 'SEV2' }, custom), 'critical');
    assert.equal(severityFor({ severity: 'error' }, custom), 'critical', 'severity_map overrides the built-in alias');
    assert.equal(severityFor({ severity: 'error' }, config), 'warning');
    assert.equal(severityFor({ severity: 'bogus' }, custom), 'info');
    assert.equal(severityFor({}, config), 'warning');
  });

  it('speakable text: no control or format characters, no markup, capped at a word boundary', () => {
    assert.equal(speakable('a\u0000b\u202Ec\r\nd <script>x</script>'), 'a b c d x');
    const long = speakable('word '.repeat(200));
    assert.ok(long.length <= 300 && long.endsWith('…'), long);
  });

  const problem = (body: string) => {
    const result = parsePayload(body);
    assert.equal(result.ok, false, 'expected a rejection');
    return (result as { ok: false; problem: { reason: string; detail: string } }).problem;
  };

  it('rejects garbage, prototype keys, the wrong version and bad fields, naming the field', () => {
    assert.equal(problem('{"version":').reason, 'not_json');
    const proto = problem('{"version":"4","alerts":[{"labels":{"__proto__":{"polluted":"yes"}}}]}');
    assert.deepEqual(
      [proto.reason, proto.detail],
      ['prototype_key', 'alerts[0].labels.__proto__: the key "__proto__" is not allowed'],
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(problem('{"constructor":{"prototype":{}}}').reason, 'prototype_key');
    const grafana = problem(fixture('grafana-extended.json'));
    assert.equal(grafana.reason, 'unsupported_version');
    assert.match(grafana.detail, /^version: expected "4" .*got "1"/);
    const body = JSON.parse(fixture('prometheus-group-mixed.json')) as { alerts: Array<Record<string, unknown>> };
    body.alerts[1]!.startsAt = 'yesterday';
    body.alerts[0]!.labels = { 'bad-name': 'x' };
    const bad = problem(JSON.stringify(body));
    assert.equal(bad.reason, 'invalid_field');
    assert.match(bad.detail, /alerts\[1\]\.startsAt: expected an RFC 3339 time/);
    assert.match(bad.detail, /alerts\[0\]\.labels\.bad-name: label names must match/);
    assert.match(problem('[]').detail, /expected object/);
  });

  it('tolerates fields a newer Alertmanager or Grafana adds, and an older one that lacks truncatedAlerts', () => {
    const body = JSON.parse(fixture('prometheus-group-mixed.json')) as Record<string, unknown>;
    delete body.truncatedAlerts;
    body.orgId = 1;
    assert.equal(parsed(JSON.stringify(body)).truncatedAlerts, 0);
  });

  it('silence: exact matchers on every label, ends at the first of alert end, ack expiry, silence_max', () => {
    const alert = {
      labels: { alertname: 'DiskFull', instance: 'db1:9100' },
      generation: 5,
      endsAt: 0,
      externalURL: '',
    };
    const ack = {
      v: 1 as const,
      id: 'x',
      host: 'db1',
      ts: 0,
      fingerprint: '00000000000000aa',
      by: 'alice',
      method: 'dtmf' as const,
      until: 0,
    };
    const silence = silenceFor(alert, ack, 1_000_000, { maxMs: 3_600_000, createdBy: 'offhook' });
    assert.deepEqual(silence.matchers, [
      { name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true },
      { name: 'instance', value: 'db1:9100', isRegex: false, isEqual: true },
    ]);
    assert.equal(silence.endsAt, new Date(4_600_000).toISOString());
    assert.match(silence.comment, /alice \(phone\)/);
    assert.equal(silenceEnd(0, { endsAt: 600_000 }, { until: 0 }, 3_600_000), 600_000);
    assert.equal(silenceEnd(0, { endsAt: 0 }, { until: 120_000 }, 3_600_000), 120_000);
    assert.equal(silenceEnd(0, { endsAt: 5 }, { until: 0 }, 3_600_000), 60_000, 'never shorter than a minute');
  });

  it('auth: bearer and basic compare the whole credential, scheme case-insensitively', () => {
    const bearer = resolveAuth({ bearer_token: 'a-long-secret' }, 'auth');
    assert.ok(isAuthorized('Bearer a-long-secret', bearer));
    assert.ok(isAuthorized('bearer a-long-secret', bearer));
    assert.ok(!isAuthorized('Bearer a-long-secre', bearer));
    assert.ok(!isAuthorized('Basic a-long-secret', bearer));
    assert.ok(!isAuthorized(undefined, bearer));
    const basic = resolveAuth({ basic: { username: 'am', password: 'hunter2hunter2' } }, 'auth');
    assert.ok(isAuthorized(`Basic ${Buffer.from('am:hunter2hunter2').toString('base64')}`, basic));
    assert.ok(!isAuthorized(`Basic ${Buffer.from('am:hunter2').toString('base64')}`, basic));
    assert.throws(
      () => resolveAuth({ bearer_token_file: '/nonexistent/token' }, 'auth'),
      /alertmanager\.auth\.bearer_token_file: cannot read \/nonexistent\/token \(ENOENT\)/,
    );
  });

  it('config: auth is required and exactly one kind', () => {
    assert.throws(() => AlertmanagerBridgeConfig.parse({}), /auth/);
    assert.throws(
      () =>
        AlertmanagerBridgeConfig.parse({
          auth: { bearer_token: 'a-long-secret', basic: { username: 'a', password: 'b-long-secret' } },
        }),
      /exactly one/,
    );
    assert.throws(() => AlertmanagerBridgeConfig.parse({ auth: { bearer_token: 'short' } }), /at least 8/);
  });
});
