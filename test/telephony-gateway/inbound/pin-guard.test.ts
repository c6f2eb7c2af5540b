import assert from 'node:assert/strict';
import type { TranscriptEntry } from '../../../native/line.ts';
import { LockoutState, PinGuard } from '../../../telephony-gateway/inbound/pin-guard.ts';
import { pinMasker } from '../../../telephony-gateway/inbound/transcript-mask.ts';

const MINUTE = 60_000;

describe('gateway PIN guard (lockout rules, no line)', () => {
  let now: number;
  const guard = (maxAttemptsPerHour = 100): PinGuard =>
    new PinGuard({ maxPinTries: 3, personTries: 6, lockoutMs: 10 * MINUTE, maxAttemptsPerHour }, () => now);
  beforeEach(() => (now = 1_000_000_000));

  it('locks the caller ID after max tries; each lockout in a row lasts twice as long', () => {
    const g = guard();
    assert.deepEqual([g.wrong('100', 'alice'), g.wrong('100', 'alice'), g.wrong('100', 'alice')], [[], [], ['caller']]);
    assert.deepEqual(g.refusal('100', 'alice'), { scope: 'caller', until: now + 10 * MINUTE });
    now += 10 * MINUTE;
    assert.equal(g.refusal('100', 'alice'), null, 'the first lockout ran out');
    g.wrong('100', 'alice');
    g.wrong('100', 'alice');
    assert.deepEqual(g.wrong('100', 'alice'), ['caller', 'person'], 'six wrong PINs for alice lock alice too');
    assert.deepEqual(g.refusal('100', 'alice'), { scope: 'caller', until: now + 20 * MINUTE });
    assert.equal(g.refusal('999', 'alice')?.scope, 'person', 'another caller ID claiming alice is refused as well');
    assert.equal(g.refusal('999', 'bob'), null, 'bob is not affected');
  });

  it('a right PIN clears the strikes of that caller and person', () => {
    const g = guard();
    g.wrong('100', 'alice');
    g.wrong('100', 'alice');
    g.right('100', 'alice');
    assert.deepEqual(g.wrong('100', 'alice'), []);
    assert.deepEqual(g.snapshot().callers['100']?.failures, 1);
  });

  it('caps PIN attempts per hour over all callers', () => {
    const g = guard(2);
    g.attempt();
    g.attempt();
    assert.deepEqual(g.refusal('300', 'carol'), { scope: 'global', until: now + 60 * MINUTE });
    now += 60 * MINUTE + 1;
    assert.equal(g.refusal('300', 'carol'), null);
  });

  it('the persisted state round-trips through its schema and holds no PIN', () => {
    const g = guard();
    g.attempt();
    g.wrong('100', 'alice');
    const state = LockoutState.parse(JSON.parse(JSON.stringify(g.snapshot())));
    const restored = guard();
    restored.load(state);
    restored.wrong('100', 'alice');
    assert.deepEqual(restored.wrong('100', 'alice'), ['caller'], 'strikes from before the restart count');
    assert.doesNotMatch(JSON.stringify(state), /1234/);
  });

  it('the transcript masker hides keys pressed during the PIN prompt, not the menu keys after it', () => {
    const mask = pinMasker();
    const entries: TranscriptEntry[] = [
      { t: 1, event: 'play', file: 'enter-pin-abc.wav', durationMs: 100, playedMs: 10, interruptedBy: '1' },
      { t: 2, event: 'press', digit: '1234#' },
      { t: 3, event: 'collect', digits: '1234#', reason: 'term_key' },
      { t: 4, event: 'play', file: 'inbound-intro-abc.wav', durationMs: 100, playedMs: 100, interruptedBy: null },
      { t: 5, event: 'press', digit: '1' },
    ];
    const keys = (e: TranscriptEntry): string | null =>
      'digit' in e ? e.digit : 'digits' in e ? e.digits : 'interruptedBy' in e ? e.interruptedBy : null;
    assert.deepEqual(entries.map(mask).map(keys), ['x', 'xxxx#', 'xxxx#', null, '1']);
  });
});
