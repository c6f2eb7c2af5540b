import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../shared/index.ts';
import { Budget } from '../../../telephony-gateway/calls/budget.ts';
import { newFirst } from '../../../telephony-gateway/calls/call-script.ts';
import { BudgetConfig } from '../../../telephony-gateway/config.ts';
import { afterAttempt, initialEscalation } from '../../../telephony-gateway/calls/escalation.ts';
import { menuText } from '../../../telephony-gateway/calls/wording.ts';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { speechStateDir, startTestGateway, type TestGateway } from '../harness.ts';
import { gatewayConfig, makeAlert } from '../helpers.ts';

const MINUTE = 60_000;
const limitOne = { max_calls_per_minute: 1, max_calls_per_15m: 100, max_calls_per_hour: 100, max_calls_per_day: 100 };

describe('gateway: no alert waits unseen (max_unannounced, per-number waits, grouped menu)', () => {
  it('numberAllowedAt: when the per-number limits let the number be called again', () => {
    const budget = new Budget(BudgetConfig.parse({ per_number: { max_calls_per_minute: 1, max_calls_per_15m: 2 } }));
    const t0 = 10 * MINUTE;
    assert.equal(budget.numberAllowedAt('100', t0), t0, 'no calls yet: now');
    budget.record({ at: t0, number: '100', durationMs: 0, cost: 0 });
    assert.equal(budget.numberAllowedAt('100', t0 + 1000), t0 + MINUTE + 1, 'one minute after the last call');
    assert.equal(budget.numberAllowedAt('200', t0 + 1000), t0 + 1000, 'another number is free');
    budget.record({ at: t0 + 2 * MINUTE, number: '100', durationMs: 0, cost: 0 });
    assert.equal(budget.numberAllowedAt('100', t0 + 3 * MINUTE), t0 + 15 * MINUTE + 1, 'the 15-minute window decides');
    assert.deepEqual(budget.check('100', t0 + 15 * MINUTE + 1), { ok: true });
  });

  it('a throttled number with nobody else to call waits for the limit, not a round_delay', () => {
    const config = gatewayConfig({ people: [{ name: 'alice', number: '100' }] });
    const start = initialEscalation(0, config.escalation);
    const next = afterAttempt(start, 'number_throttled', config.people, config.escalation, 1000, 61_000);
    assert.deepEqual(next, { done: false, state: { ...start, nextAt: 61_000 } });
    const two = gatewayConfig();
    const passed = afterAttempt(start, 'number_throttled', two.people, two.escalation, 1000, 61_000);
    const toBob = !passed.done && passed.state.person === 1 && passed.state.nextAt === 1000;
    assert.ok(toBob, 'with a second person, the call goes to them at once');
  });

  it("a grouped call's menu says how many alerts 1 acknowledges; a follow-up call names new alerts first", () => {
    assert.match(menuText(22), /^Press 1 to acknowledge all 22 alerts\. Press 2/);
    assert.match(menuText(1), /^Press 1 to acknowledge\. Press 2/);
    const [a, b, c] = ['a', 'b', 'c'].map((host) => makeAlert({ host }));
    assert.deepEqual(
      newFirst([a!, b!, c!], new Set([a!.fingerprint])).map((x) => x.host),
      ['b', 'c', 'a'],
    );
  });

  describe('the sweep, on a running gateway (sim line, real nats-server)', () => {
    const server = useNatsServer();
    let gw: TestGateway | null = null;
    let n = 0;
    afterEach(async () => {
      await gw?.stop();
      gw = null;
    });

    it('an alert held by an escalation wait goes to fallback (reason escalation_wait) and stays queued', async () => {
      gw = await startTestGateway(server, { escalation: { group_wait: '1h' }, max_unannounced: '200ms' }, `gwun${++n}`);
      const alert = makeAlert();
      await gw.publish(alert);
      await gw.waitFor('the fallback', () => gw!.fallbacks.length === 1);
      const [request] = gw.fallbacks;
      const got = [request!.reason, request!.alerts.map((a) => a.fingerprint)];
      assert.deepEqual(got, ['escalation_wait', [alert.fingerprint]]);
      assert.match(gw.fallbacks[0]!.detail, /max_unannounced/);
      assert.equal(gw.gateway.queue.size, 1, 'the escalation goes on');
      assert.equal(await gw.metric('offhook_gateway_unannounced_fallbacks_total', { reason: 'escalation_wait' }), 1);
    });

    it('one person: the next call comes once the per-number limit allows, "acknowledge all two"', async () => {
      const clock = new ManualClock(Date.now());
      const people = [{ name: 'alice', number: '100' }];
      const input = { people, max_unannounced: '10m', budget: { per_number: limitOne } };
      gw = await startTestGateway(server, input, `gwun${++n}`, {}, clock);
      const acks = { number: '100', then: [{ waitForPrompt: 'menu' }, { press: '1' }] };
      gw.line.script(acks);
      const first = makeAlert({ host: 'a' });
      await gw.publish(first);
      await gw.waitFor('the first call', () => gw!.calls.length === 1);
      gw.line.script(acks);
      const [b, c] = ['b', 'c'].map((host) => makeAlert({ host }));
      await gw.publish(b!);
      await gw.publish(c!);
      const throttled = (): Set<string> =>
        new Set(gw!.calls.filter((r) => r.outcome === 'rejected_budget').flatMap((r) => r.fingerprints));
      const held = (): boolean => throttled().has(b!.fingerprint) && throttled().has(c!.fingerprint);
      await gw.waitFor('b and c held by the limit', held);
      // On main the throttled alerts waited for round_delay (5 minutes); now only for the per-number minute.
      clock.advance(61_000);
      await gw.waitFor('the second call', () => gw!.calls.filter((r) => r.outcome === 'acknowledged').length === 2);
      const second = gw.calls.filter((r) => r.outcome === 'acknowledged')[1]!;
      assert.deepEqual(new Set(second.fingerprints), new Set([b!.fingerprint, c!.fingerprint]));
      const menus = gw.transcript().flatMap((e) => (e.event === 'play' && e.file.startsWith('menu') ? [e.file] : []));
      const said = readFileSync(join(speechStateDir, 'speech', `${menus.at(-1)}.txt`), 'utf8');
      assert.match(said, /^Press 1 to acknowledge all two alerts\./);
      assert.equal(gw.fallbacks.length, 0);
    });

    it('an alert held by quiet hours goes to fallback with reason quiet_hours', async () => {
      const allDay = { from: '00:00', to: '00:00', allow: 'critical' as const };
      const people = [{ name: 'alice', number: '100', quiet_hours: allDay }];
      gw = await startTestGateway(server, { people, max_unannounced: '200ms' }, `gwun${++n}`);
      await gw.publish(makeAlert({ severity: 'warning' }));
      await gw.waitFor('the fallback', () => gw!.fallbacks.length === 1);
      assert.equal(gw.fallbacks[0]!.reason, 'quiet_hours');
      assert.equal(gw.transcript().filter((e) => e.event === 'off_hook').length, 0);
    });
  });
});
