import assert from 'node:assert/strict';
import { alertmanagerPayload } from '../../../collector/notify/alertmanager-payload.ts';
import { GO_ZERO_TIME_MS } from '../../../shared/index.ts';
import { parsePayload } from '../../../telephony-gateway/alertmanager/payload.ts';
import { batchOf, makeAlert } from './helpers.ts';

// One schema (shared/schemas/alertmanager.ts) for both ends: what the collector's webhook sends, the gateway's
// Alertmanager bridge accepts field for field.
describe('Alertmanager webhook payload: the collector builds what the gateway validates', () => {
  it('a firing batch with labels and a value passes the gateway’s validation unchanged', () => {
    const alerts = [
      makeAlert({ rule: 'disk_full', labels: { device: 'sda1' }, value: 97.5 }),
      makeAlert({ rule: 'cpu_high' }),
    ];
    const sent = alertmanagerPayload(batchOf(alerts, 'firing'));
    const received = parsePayload(JSON.stringify(sent));
    assert.ok(received.ok, received.ok ? '' : received.problem.detail);
    assert.equal(received.payload.alerts.length, 2);
    assert.equal(received.payload.alerts[0]!.labels.device, 'sda1');
    assert.equal(received.payload.alerts[0]!.annotations.value, '97.5');
    assert.equal(received.payload.alerts[0]!.endsAt, GO_ZERO_TIME_MS, 'a firing alert ends at Go’s zero time');
    assert.equal(received.payload.alerts[0]!.startsAt, alerts[0]!.startsAt);
    assert.deepEqual(received.payload.commonLabels, sent.commonLabels);
  });

  it('a truncated fallback batch keeps its count of left-out alerts', () => {
    const alerts = Array.from({ length: 3 }, (_, i) => makeAlert({ rule: `rule${i}` }));
    const sent = alertmanagerPayload({ ...batchOf(alerts, 'fallback'), fallbackReason: 'budget_exhausted' }, 2);
    const received = parsePayload(JSON.stringify(sent));
    assert.ok(received.ok, received.ok ? '' : received.problem.detail);
    assert.equal(received.payload.truncatedAlerts, 1);
    assert.equal(received.payload.alerts.length, 2);
  });
});
