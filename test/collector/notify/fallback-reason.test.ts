import assert from 'node:assert/strict';
import { alertmanagerPayload, FALLBACK_REASON_ANNOTATION } from '../../../collector/notify/alertmanager-payload.ts';
import { execEnvironment } from '../../../collector/notify/exec.ts';
import { ircLines } from '../../../collector/notify/irc.ts';
import { mailBody } from '../../../collector/notify/mail.ts';
import { headline } from '../../../collector/notify/text.ts';
import type { NotificationBatch } from '../../../collector/notify/types.ts';
import { batchOf, makeAlert } from './helpers.ts';

/** A fallback batch as the queue builds it from a FallbackRequest with this reason. */
function fallbackBatch(reason: string | undefined, count = 2): NotificationBatch {
  const alerts = Array.from({ length: count }, (_, i) => makeAlert({ rule: `rule${i}` }));
  return { ...batchOf(alerts, 'fallback'), ...(reason ? { fallbackReason: reason } : {}) };
}

describe('notifiers: a fallback notification says why nobody was phoned', () => {
  it('webhook: offhook_fallback_reason in every alert and in commonAnnotations', () => {
    const payload = alertmanagerPayload(fallbackBatch('budget_exhausted'));
    assert.equal(payload.commonAnnotations[FALLBACK_REASON_ANNOTATION], 'budget_exhausted');
    for (const alert of payload.alerts) assert.equal(alert.annotations[FALLBACK_REASON_ANNOTATION], 'budget_exhausted');
  });

  it('webhook: an ordinary notification carries no such annotation', () => {
    const payload = alertmanagerPayload(batchOf([makeAlert()], 'firing'));
    assert.equal(FALLBACK_REASON_ANNOTATION in payload.commonAnnotations, false);
  });

  it('mail subject (headline), mail body, IRC line and exec environment name the reason', () => {
    const batch = fallbackBatch('per_number_limit');
    assert.match(headline(batch), /^\[FALLBACK:2\] not phoned \(per_number_limit: .*limit is reached\) /);
    assert.match(mailBody(batch), /The gateway did not phone anyone: not phoned \(per_number_limit/);
    assert.match(ircLines(batch, 5)[0]!, /not phoned \(per_number_limit/);
    assert.equal(execEnvironment(batch).OFFHOOK_FALLBACK_REASON, 'per_number_limit');
  });

  it('an unknown or missing reason is still said, never dropped', () => {
    assert.match(headline(fallbackBatch(undefined)), /not phoned \(unspecified\)/);
    assert.match(headline(fallbackBatch('new_reason')), /not phoned \(new_reason\)/);
    const payload = alertmanagerPayload(fallbackBatch(undefined));
    assert.equal(payload.commonAnnotations[FALLBACK_REASON_ANNOTATION], 'unspecified');
  });
});
