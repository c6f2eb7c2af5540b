import assert from 'node:assert/strict';
import { ManualClock } from '../../../shared/index.ts';
import { afterAttempt, initialEscalation, resolveTarget } from '../../../telephony-gateway/calls/escalation.ts';
import { CallQueue } from '../../../telephony-gateway/calls/queue.ts';
import { inWindow, mayCall } from '../../../telephony-gateway/calls/schedule.ts';
import { gatewayConfig, makeAlert } from '../helpers.ts';

// 2023-11-14 is a Tuesday; 22:13:20 UTC.
const TUESDAY_2213_UTC = 1_700_000_000_000;

describe('gateway queue', () => {
  it('orders critical before warning, then oldest first, and groups everything due for the same person', () => {
    const config = gatewayConfig();
    const queue = new CallQueue(config.people, config.escalation);
    const now = TUESDAY_2213_UTC;
    const warnOld = makeAlert({ rule: 'disk', severity: 'warning', summary: 'disk 95 %', startsAt: now - 5000 });
    const critNew = makeAlert({ rule: 'http', severity: 'critical', startsAt: now - 10 });
    const critOld = makeAlert({ host: 'db1', rule: 'mysql', severity: 'critical', startsAt: now - 100 });
    for (const alert of [warnOld, critNew, critOld])
      queue.upsert(alert, now, initialEscalation(now, config.escalation));
    const plan = queue.plan(now);
    assert.equal(plan.kind, 'call');
    if (plan.kind !== 'call') return;
    assert.equal(plan.call.person, 0);
    assert.deepEqual(
      plan.call.alerts.map((e) => e.alert.rule),
      ['mysql', 'http', 'disk'],
    );
  });

  it('removes a resolved alert so it is never planned', () => {
    const config = gatewayConfig();
    const queue = new CallQueue(config.people, config.escalation);
    const alert = makeAlert();
    queue.upsert(alert, TUESDAY_2213_UTC, initialEscalation(TUESDAY_2213_UTC, config.escalation));
    queue.remove(alert.fingerprint);
    const plan = queue.plan(TUESDAY_2213_UTC);
    assert.equal(plan.kind, 'idle');
    assert.equal(queue.size, 0);
  });

  it('waits out group_wait before planning a call and says when to wake', () => {
    const config = gatewayConfig({ escalation: { group_wait: '30s' } });
    const queue = new CallQueue(config.people, config.escalation);
    queue.upsert(makeAlert(), TUESDAY_2213_UTC, initialEscalation(TUESDAY_2213_UTC, config.escalation));
    const plan = queue.plan(TUESDAY_2213_UTC + 1000);
    assert.deepEqual(
      { kind: plan.kind, wakeAt: plan.kind === 'idle' ? plan.wakeAt : null },
      { kind: 'idle', wakeAt: TUESDAY_2213_UTC + 30_000 },
    );
    assert.equal(queue.plan(TUESDAY_2213_UTC + 30_000).kind, 'call');
  });
});

describe('gateway escalation', () => {
  const config = gatewayConfig({
    escalation: { attempts_per_person: 2, retry_delay: '1m', round_delay: '5m', max_rounds: 2 },
  });
  const { people, escalation } = config;

  it('retries a person, moves to the next, starts a new round after the delay, and gives up after max rounds', () => {
    const clock = new ManualClock(TUESDAY_2213_UTC);
    let state = initialEscalation(clock.now(), escalation);
    const trail: string[] = [];
    for (let i = 0; i < 30; i++) {
      const target = resolveTarget(state, 'critical', people, escalation, clock.now());
      if ('done' in target) {
        trail.push(`done:${target.reason}`);
        break;
      }
      if (target.kind === 'wait') {
        clock.advance(target.state.nextAt - clock.now());
        continue;
      }
      trail.push(`r${target.state.round}:${people[target.person]!.name}`);
      const next = afterAttempt(target.state, 'unanswered', people, escalation, clock.now());
      if (next.done) {
        trail.push(`done:${next.reason}`);
        break;
      }
      state = next.state;
    }
    assert.deepEqual(trail, [
      'r0:alice',
      'r0:alice',
      'r0:bob',
      'r0:bob',
      'r1:alice',
      'r1:alice',
      'r1:bob',
      'r1:bob',
      'done:nobody_answered',
    ]);
    // alice 0:00 and 1:00, bob 1:00 and 2:00, round delay to 7:00, alice 7:00 and 8:00, bob 8:00 and 9:00.
    assert.equal(clock.now(), TUESDAY_2213_UTC + 9 * 60_000);
  });

  it('stops at once on acknowledge and passes straight on with 2', () => {
    const start = initialEscalation(TUESDAY_2213_UTC, escalation);
    assert.deepEqual(afterAttempt(start, 'acknowledged', people, escalation, TUESDAY_2213_UTC), {
      done: true,
      reason: 'acknowledged',
    });
    const passed = afterAttempt(start, 'passed', people, escalation, TUESDAY_2213_UTC);
    assert.equal(passed.done, false);
    if (!passed.done)
      assert.deepEqual([passed.state.person, passed.state.attempts, passed.state.nextAt], [1, 0, TUESDAY_2213_UTC]);
  });

  it('retries the same person after a line failure without spending an attempt', () => {
    const start = initialEscalation(TUESDAY_2213_UTC, escalation);
    const next = afterAttempt(start, 'line_failure', people, escalation, TUESDAY_2213_UTC);
    assert.equal(next.done, false);
    if (!next.done)
      assert.deepEqual([next.state.person, next.state.attempts, next.state.nextAt], [0, 0, TUESDAY_2213_UTC + 60_000]);
  });
});

describe('gateway schedules', () => {
  it("handles windows that wrap midnight in the person's time zone", () => {
    const night = { days: ['tue' as const], from: '22:00', to: '07:00' };
    assert.equal(inWindow(night, TUESDAY_2213_UTC, 'UTC'), true);
    assert.equal(
      inWindow(night, TUESDAY_2213_UTC + 8 * 3_600_000, 'UTC'),
      true,
      'Wednesday 06:13 still belongs to Tuesday night',
    );
    assert.equal(inWindow(night, TUESDAY_2213_UTC + 9 * 3_600_000, 'UTC'), false);
    // 22:13 UTC is 07:13 Wednesday in Tokyo: outside a Tuesday-night window there.
    assert.equal(inWindow(night, TUESDAY_2213_UTC, 'Asia/Tokyo'), false);
  });

  it('quiet hours let only critical alerts through; off-call people are skipped to the next person', () => {
    const config = gatewayConfig({
      people: [
        { name: 'alice', number: '100', quiet_hours: { from: '22:00', to: '07:00', allow: 'critical' } },
        { name: 'bob', number: '200', on_call: [{ days: ['mon'], from: '09:00', to: '17:00' }] },
        { name: 'carol', number: '300' },
      ],
    });
    const [alice, bob] = config.people;
    assert.deepEqual(mayCall(alice!, 'warning', TUESDAY_2213_UTC), { ok: false, reason: 'quiet_hours' });
    assert.deepEqual(mayCall(alice!, 'critical', TUESDAY_2213_UTC), { ok: true });
    assert.deepEqual(mayCall(bob!, 'critical', TUESDAY_2213_UTC), { ok: false, reason: 'off_call' });
    const start = initialEscalation(TUESDAY_2213_UTC, config.escalation);
    const warning = resolveTarget(start, 'warning', config.people, config.escalation, TUESDAY_2213_UTC);
    assert.equal(
      'done' in warning ? 'done' : warning.kind === 'call' ? config.people[warning.person]!.name : 'wait',
      'carol',
    );
  });

  it('ends with reason quiet_hours when everyone is in quiet hours for that severity', () => {
    const config = gatewayConfig({
      people: [{ name: 'alice', number: '100', quiet_hours: { from: '22:00', to: '07:00' } }],
      escalation: { max_rounds: 1 },
    });
    const target = resolveTarget(
      initialEscalation(TUESDAY_2213_UTC, config.escalation),
      'warning',
      config.people,
      config.escalation,
      TUESDAY_2213_UTC,
    );
    assert.deepEqual(target, { done: true, reason: 'quiet_hours' });
  });
});
