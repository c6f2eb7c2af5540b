import assert from 'node:assert/strict';
import { Budget } from '../../../telephony-gateway/calls/budget.ts';
import { BudgetConfig } from '../../../telephony-gateway/config.ts';
import { sameNumber } from '../../../telephony-gateway/inbound/inbound.ts';
import { callMessage, sanitizeSpeech } from '../../../telephony-gateway/calls/wording.ts';
import { makeAlert } from '../helpers.ts';

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

describe('gateway budget', () => {
  it('refuses the fourth call in an hour with max_calls_per_hour 3, and allows it an hour later', () => {
    const budget = new Budget(
      BudgetConfig.parse({
        max_calls_per_hour: 3,
        per_number: { max_calls_per_minute: 10, max_calls_per_15m: 10, max_calls_per_hour: 10 },
      }),
    );
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(budget.check('100', T0 + i * MINUTE), { ok: true });
      budget.record({ at: T0 + i * MINUTE, number: '100', durationMs: 30_000, cost: 0 });
    }
    const fourth = budget.check('200', T0 + 3 * MINUTE);
    assert.equal(fourth.ok, false);
    if (!fourth.ok) assert.deepEqual([fourth.scope, fourth.limit], ['total', 'calls_per_hour']);
    assert.equal(budget.remaining(T0 + 3 * MINUTE).calls_per_hour, 0);
    assert.deepEqual(budget.check('200', T0 + 61 * MINUTE), { ok: true });
  });

  it('throttles one number (GoAlert defaults: 1 a minute) while others may still be called', () => {
    const budget = new Budget(BudgetConfig.parse({}));
    budget.record({ at: T0, number: '100', durationMs: 0, cost: 0 });
    const again = budget.check('100', T0 + 30_000);
    assert.equal(again.ok, false);
    if (!again.ok) assert.deepEqual([again.scope, again.limit], ['number', 'number_calls_per_minute']);
    assert.deepEqual(budget.check('200', T0 + 30_000), { ok: true });
    assert.deepEqual(budget.check('100', T0 + MINUTE + 1), { ok: true });
  });

  it('bills started minutes at the longest matching prefix and caps minutes and cost per day', () => {
    const budget = new Budget(
      BudgetConfig.parse({
        max_call_minutes_per_day: 3,
        max_cost_per_day: 1,
        cost_per_minute: [
          { prefix: '0', cost: 0.1 },
          { prefix: '04', cost: 0.3 },
        ],
      }),
    );
    budget.record({ at: T0, number: '0412', durationMs: 0, cost: 0 });
    assert.equal(budget.finish(T0, '0412', 61_000), 0.6);
    assert.equal(budget.estimateCost('0299', 10_000), 0.1);
    assert.deepEqual(budget.check('0299', T0 + 2 * MINUTE), { ok: true });
    budget.record({ at: T0 + 2 * MINUTE, number: '0299', durationMs: 0, cost: 0 });
    budget.finish(T0 + 2 * MINUTE, '0299', 60_000);
    const limited = budget.check('0399', T0 + 4 * MINUTE);
    assert.equal(limited.ok, false);
    if (!limited.ok) assert.equal(limited.limit, 'call_minutes_per_day');
  });

  it('survives a restart through its snapshot', () => {
    const config = BudgetConfig.parse({ max_calls_per_hour: 1 });
    const before = new Budget(config);
    before.record({ at: T0, number: '100', durationMs: 0, cost: 0 });
    const after = new Budget(config);
    after.load(JSON.parse(JSON.stringify(before.snapshot(T0))));
    assert.equal(after.check('200', T0 + 1000).ok, false);
  });
});

describe('gateway wording', () => {
  it('strips markup, SSML, entities and control characters and caps the length', () => {
    const hostile =
      '<speak><prosody rate="x-slow">disk</prosody></speak> 95% full\u0007\u001b[31m &amp; ' +
      '<audio src="http://evil/x.wav"/>';
    const clean = sanitizeSpeech(hostile, 600);
    assert.equal(/[<>&\u0000-\u001f]/.test(clean), false, clean);
    assert.match(clean, /disk 95 percent full/);
    assert.ok(sanitizeSpeech('word '.repeat(500), 100).length <= 100);
  });

  it('names the count and the worst alerts first in a grouped call', () => {
    const alerts = [
      makeAlert({ host: 'web1', rule: 'http', summary: 'HTTP down' }),
      makeAlert({ host: 'web1', rule: 'disk', severity: 'warning', summary: 'disk 95 %' }),
      makeAlert({ host: 'db1', rule: 'mysql', severity: 'warning', summary: 'MySQL not answering' }),
    ];
    assert.equal(
      callMessage(alerts, { maxAlertsSpoken: 3, maxChars: 600 }),
      'This is offhook with three alerts. critical, web1, HTTP down. web1, disk 95 percent. db1, MySQL not answering.',
    );
    const storm = Array.from({ length: 100 }, (_, i) => makeAlert({ host: `web${i}`, summary: 'HTTP down' }));
    assert.match(
      callMessage(storm, { maxAlertsSpoken: 3, maxChars: 600 }),
      /^This is offhook with 100 alerts\. .*web2, HTTP down\. And 97 more\.$/,
    );
  });
});

describe('gateway caller ID matching', () => {
  it('matches national and international forms of the same number, and nothing shorter by accident', () => {
    assert.equal(sameNumber('+61412345678', '0412 345 678'), true);
    assert.equal(sameNumber('0412345678', '+61-412-345-678'), true);
    assert.equal(sameNumber('100', '100'), true);
    assert.equal(sameNumber('100', '2100'), false);
    assert.equal(sameNumber('+61412345678', '0412345679'), false);
    assert.equal(sameNumber('100', ''), false);
  });
});
