import assert from 'node:assert/strict';
import * as z from 'zod';
import { CollectorConfig } from '../../collector/config.ts';
import { WatchdogConfig } from '../../telephony-gateway/watchdog/config.ts';
import { Duration, formatPromDuration, formatZodIssueLines, parseDuration, readDuration } from '../../shared/index.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

/**
 * Golden table: what Prometheus's model.ParseDuration (prometheus/common) accepts, with its value, and what it refuses.
 * The accepted rows include prometheus/common's own TestParseDuration cases, the refused ones its TestParseBadDuration.
 */
const ACCEPTED: ReadonlyArray<readonly [string, number]> = [
  ['0', 0],
  ['0w', 0],
  ['0s', 0],
  ['0ms', 0],
  ['324ms', 324],
  ['3s', 3 * S],
  ['5m', 5 * M],
  ['1h', H],
  ['4d', 4 * D],
  ['4d1h', 4 * D + H],
  ['14d', 14 * D],
  ['3w', 21 * D],
  ['3w2d1h', 21 * D + 2 * D + H],
  ['10y', 3650 * D],
  ['1w', 7 * D],
  ['1h30m', H + 30 * M],
  ['1m30s', M + 30 * S],
  ['1s500ms', 1500],
  ['1y1w1d1h1m1s1ms', 365 * D + 7 * D + D + H + M + S + 1],
  ['90m', 90 * M],
  ['01s', S],
  ['1000ms', S],
  ['292y', 292 * 365 * D],
];

const REFUSED: ReadonlyArray<readonly [string, RegExp]> = [
  ['', /empty/],
  ['1', /has no unit/],
  ['00', /has no unit/],
  ['1y1m1d', /largest to smallest/],
  ['1m1h', /largest to smallest/],
  ['30s1m', /largest to smallest/],
  ['1h1h', /largest to smallest/],
  ['1ms1s', /largest to smallest/],
  ['-1w', /no sign/],
  ['+1h', /no sign/],
  ['1.5d', /no fractions/],
  ['1.5h', /no fractions/],
  ['0.5s', /no fractions/],
  ['.5s', /no fractions/],
  ['1h 30m', /no spaces/],
  [' 1h', /no spaces/],
  ['1h ', /no spaces/],
  ['5 minutes', /no spaces/],
  ['1H', /unknown unit "H"/],
  ['1us', /unknown unit "us"/],
  ['1sec', /unknown unit "sec"/],
  ['2hours', /unknown unit "hours"/],
  ['h', /whole number/],
  ['1e3s', /unknown unit "e"/],
  ['293y', /out of range/],
  ['99999999999999999999999s', /out of range/],
];

describe('durations (Prometheus grammar)', () => {
  for (const [text, ms] of ACCEPTED) {
    it(`accepts ${JSON.stringify(text)} as ${ms} ms`, () => {
      assert.deepEqual(readDuration(text), { ok: true, ms });
      assert.equal(parseDuration(text), ms);
      assert.equal(Duration.parse(text), ms);
    });
  }

  for (const [text, reason] of REFUSED) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      const parsed = readDuration(text);
      assert.equal(parsed.ok, false);
      assert.match((parsed as { problem: string }).problem, reason);
      assert.equal(parseDuration(text), null);
      assert.equal(Duration.safeParse(text).success, false);
    });
  }

  it('names the field, shows examples and the reason in a config error', () => {
    const Schema = z.object({ rules: z.array(z.object({ for: Duration })) });
    const input = { rules: [{ for: '1.5h' }] };
    const result = Schema.safeParse(input);
    assert.equal(result.success, false);
    assert.deepEqual(formatZodIssueLines(result.error!, input), [
      'rules[0].for: expected a duration like "30s", "5m", "1h30m", "1d", "2w" or "0" (whole numbers with units ms, ' +
        's, m, h, d, w, y, largest unit first): no fractions: write "1h30m" rather than "1.5h", "1500ms" rather than ' +
        '"1.5s", got "1.5h"',
    ]);
  });

  it('takes a YAML bare 0 as zero and refuses any other bare number, whose unit would be a guess', () => {
    assert.equal(Duration.parse(0), 0);
    const refused = Duration.safeParse(30);
    assert.equal(refused.success, false);
    assert.match(refused.error!.issues[0]!.message, /a bare number has no unit \(e\.g\. "30s"\)/);
    assert.match(Duration.safeParse(true).error!.issues[0]!.message, /^expected a duration like/);
  });

  it('prints milliseconds back in the same grammar, as Prometheus does', () => {
    assert.equal(formatPromDuration(0), '0s');
    assert.equal(formatPromDuration(250), '250ms');
    assert.equal(formatPromDuration(90 * M), '1h30m');
    assert.equal(formatPromDuration(14 * D), '2w');
    assert.equal(formatPromDuration(366 * D + 1), '1y1d1ms');
    for (const [text, ms] of ACCEPTED) assert.equal(parseDuration(formatPromDuration(ms)), ms, text);
    assert.throws(() => formatPromDuration(1.5), /whole milliseconds/);
  });

  it('refuses 0 for a loop period, which would spin a process, and keeps 0 = off where it is documented', () => {
    const collector = (extra: Record<string, unknown>) => ({ rules: [{ name: 'down', kind: 'host_down' }], ...extra });
    for (const [field, floor] of [
      ['evaluation_interval', '10ms'],
      ['checkpoint_interval', '100ms'],
    ] as const) {
      const input = collector({ [field]: 0 });
      const result = CollectorConfig.safeParse(input);
      assert.equal(result.success, false, field);
      const lines = formatZodIssueLines(result.error!, input);
      assert.deepEqual(lines, [`${field}: expected a duration of at least ${floor}, got 0`]);
    }
    const zeros = { heartbeat_interval: '0s', canary_interval: 0 };
    const watchdog = CollectorConfig.safeParse(collector({ watchdog: zeros }));
    assert.deepEqual(
      watchdog.error?.issues.map((i) => i.path.join('.')),
      ['watchdog.heartbeat_interval'],
    );
    assert.equal(CollectorConfig.parse(collector({ watchdog: { canary_interval: 0 } })).watchdog.canary_interval, 0);
    assert.equal(WatchdogConfig.safeParse({ check_interval: '0s' }).success, false);
    assert.equal(WatchdogConfig.safeParse({ heartbeat_interval: '0s' }).success, false);
    assert.equal(WatchdogConfig.parse({ check_interval: '10ms' }).check_interval, 10);
  });

  it('keeps defaults in milliseconds whether written as prefault text or a number', () => {
    const Schema = z.object({ a: Duration.prefault('1m30s'), b: Duration.default(2000) });
    assert.deepEqual(Schema.parse({}), { a: 90 * S, b: 2000 });
    assert.deepEqual(Schema.parse({ a: '1w', b: '0' }), { a: 7 * D, b: 0 });
  });
});
