import assert from 'node:assert/strict';
import { ConfigError, ManualClock, parseConfigText } from '../../../shared/index.ts';
import { NotificationsConfig } from '../../../collector/notify/config.ts';
import { RateLimiter } from '../../../collector/notify/rate-limit.ts';
import { attemptOnce, backoffMs, deliverWithRetry } from '../../../collector/notify/retry.ts';
import { createRouter } from '../../../collector/notify/route.ts';
import { ircLines } from '../../../collector/notify/irc.ts';
import { fitBytes } from '../../../collector/notify/irc-client.ts';
import { oneLine } from '../../../collector/notify/text.ts';
import type { Notifier, NotifyOutcome } from '../../../collector/notify/types.ts';
import { batchOf, HOSTILE_SUMMARY, makeAlert } from './helpers.ts';

function configError(yaml: string): string {
  try {
    parseConfigText(yaml, '/etc/offhook/collector.yaml', NotificationsConfig);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  throw new Error('expected a ConfigError');
}

/** A notifier whose answers the test scripts; the stages around it are what is under test. */
function scripted(outcomes: (NotifyOutcome | 'hang')[]): Notifier & { calls: number } {
  const notifier = {
    calls: 0,
    notify(): Promise<NotifyOutcome> {
      const next = outcomes[notifier.calls++] ?? { ok: true };
      return next === 'hang' ? new Promise(() => {}) : Promise.resolve(next);
    },
  };
  return notifier;
}

describe('notifiers: pipeline stages', () => {
  describe('config', () => {
    it('names file, field, expectation and the fix', () => {
      assert.match(
        configError('receivers: [{name: a, kind: pager}]'),
        /collector\.yaml: receivers\[0\]\.kind: expected kind one of webhook, http-get, mail, irc, trac, exec/,
      );
      assert.match(
        configError('receivers: [{name: "a b", kind: exec, command: [x]}]'),
        /receivers\[0\]\.name: expected a receiver name/,
      );
      assert.match(
        configError('receivers: [{name: a, kind: exec, command: []}]'),
        /receivers\[0\]\.command: expected an argument vector/,
      );
      assert.match(
        configError('receivers: [{name: a, kind: webhook, url: "http://x", timeout: soon}]'),
        /receivers\[0\]\.timeout: expected a duration/,
      );
      assert.match(
        configError('receivers: [{name: a, kind: webhook, url: "http://x", colour: red}]'),
        /receivers\[0\]/,
      );
      assert.match(
        configError('receivers: [{name: a, kind: exec, command: [x]}, {name: a, kind: exec, command: [y]}]'),
        /receivers\[1\]\.name: expected a unique receiver name; "a" is also receivers\[0\]/,
      );
      assert.match(
        configError('receivers: [{name: a, kind: exec, command: [x]}]\nroutes: [{receiver: b}]'),
        /routes\[0\]\.receiver: no receiver named "b" \(known receivers: a\)/,
      );
      assert.match(
        configError('receivers: [{name: a, kind: exec, command: [x]}]\nfallback_receivers: [sms]'),
        /fallback_receivers\[0\]: no receiver named "sms"/,
      );
      assert.match(
        configError(
          'routes: [{receiver: a, match: {host: {regex: "("}}}]\nreceivers: [{name: a, kind: exec, command: [x]}]',
        ),
        /routes\[0\]\.match\.host\.regex: expected a valid regular expression/,
      );
      assert.match(
        configError('receivers: [{name: a, kind: irc, host: h, channel: "#ops\\r\\nQUIT"}]'),
        /receivers\[0\]\.channel: expected a channel/,
      );
    });

    it('fills defaults for every receiver', () => {
      const config = NotificationsConfig.parse({
        receivers: [{ name: 'lamp', kind: 'exec', command: ['/usr/bin/lamp'] }],
      });
      assert.deepEqual(config.receivers[0], {
        kind: 'exec',
        name: 'lamp',
        command: ['/usr/bin/lamp'],
        env: {},
        timeout: 10_000,
        retry: { max_attempts: 5, initial_backoff: 1000, max_backoff: 60_000 },
        rate_limit: { max: 20, per: 60_000 },
        send_resolved: true,
        max_queue: 1000,
        max_batch: 50,
      });
      assert.equal(config.external_url, 'http://127.0.0.1:9465');
    });
  });

  describe('route', () => {
    const route = createRouter(
      NotificationsConfig.parse({
        receivers: ['pager', 'db', 'web', 'rest', 'recoveries'].map((name) => ({ name, kind: 'exec', command: ['x'] })),
        routes: [
          { receiver: 'pager', match: { severity: ['critical'], host: ['web1', 'db1'] }, continue: true },
          { receiver: 'db', match: { labels: { team: 'db' } } },
          { receiver: 'web', match: { host: { regex: 'web[0-9]+' }, rule: 'disk_full' }, send_resolved: false },
          { receiver: 'recoveries', match: { reason: 'resolved' } },
          { receiver: 'rest' },
        ],
      }).routes,
    );
    const names = (alert = makeAlert(), reason: 'firing' | 'resolved' = 'firing') =>
      route(alert, reason).map((t) => t.receiver);

    it('first match wins, continue goes on, regexes are anchored, absent labels do not match', () => {
      assert.deepEqual(names(makeAlert({ labels: { team: 'db' } })), ['pager', 'db']);
      assert.deepEqual(names(makeAlert({ host: 'web12' })), ['web']);
      assert.deepEqual(names(makeAlert({ host: 'webmail' })), ['rest']);
      assert.deepEqual(names(makeAlert({ host: 'web1', severity: 'warning' })), ['web']);
      assert.deepEqual(names(makeAlert({ host: 'x', labels: {} }), 'resolved'), ['recoveries']);
      assert.deepEqual(names(makeAlert({ host: 'x', labels: { constructor: 'y' } })), ['rest']);
      assert.equal(route(makeAlert({ host: 'web2' }), 'firing')[0]!.sendResolved, false);
    });

    it("matchers: Alertmanager's syntax on alertname/host/severity/labels; the groupKey lists every matcher", () => {
      const amRoute = createRouter(
        NotificationsConfig.parse({
          receivers: [{ name: 'ops', kind: 'exec', command: ['x'] }],
          routes: [
            {
              receiver: 'ops',
              match: { labels: { team: ['db.1'] } },
              matchers: ['severity=~"critical|warning"', 'host!="db1"', 'alertname="disk_full"'],
              group_by: ['host'],
            },
          ],
        }).routes,
      );
      const team = { team: 'db.1' };
      const [target] = amRoute(makeAlert({ host: 'web1', labels: team }), 'firing');
      assert.deepEqual(target?.group, {
        key: '{}/{alertname="disk_full",host!="db1",severity=~"critical|warning",team=~"db\\\\.1"}:{host="web1"}',
        labels: { host: 'web1' },
      });
      assert.deepEqual(amRoute(makeAlert({ host: 'db1', labels: team }), 'firing'), []);
      assert.deepEqual(amRoute(makeAlert({ host: 'web1', severity: 'info', labels: team }), 'firing'), []);
      assert.deepEqual(amRoute(makeAlert({ host: 'web1', labels: { team: 'dbx1' } }), 'firing'), []);
      assert.match(
        configError(
          'routes: [{ receiver: x, matchers: ["severity=~(a"] }]\nreceivers: [{ name: x, kind: exec, command: [x] }]',
        ),
        /routes\[0\]\.matchers\[0\]: "severity=~\(a": invalid regular expression/,
      );
    });
  });

  describe('retry and timeout', () => {
    it('backs off exponentially up to the cap', () => {
      const policy = { maxAttempts: 10, initialBackoffMs: 1000, maxBackoffMs: 5000 };
      assert.deepEqual(
        [1, 2, 3, 4, 5].map((n) => backoffMs(policy, n)),
        [1000, 2000, 4000, 5000, 5000],
      );
    });

    it('retries retryable failures after the backoff, stops on a permanent one', async () => {
      const clock = new ManualClock();
      const notifier = scripted([
        { ok: false, retry: true, error: 'busy' },
        { ok: false, retry: false, error: 'no such user' },
        { ok: true },
      ]);
      const seen: string[] = [];
      const result = deliverWithRetry(notifier, batchOf([makeAlert()]), {
        policy: { maxAttempts: 5, initialBackoffMs: 1000, maxBackoffMs: 60_000 },
        timeoutMs: 10_000,
        clock,
        cancel: new AbortController().signal,
        onAttempt: (kind) => seen.push(kind),
      });
      await new Promise(setImmediate);
      assert.equal(notifier.calls, 1);
      clock.advance(999);
      await new Promise(setImmediate);
      assert.equal(notifier.calls, 1, 'no retry before the backoff');
      clock.advance(1);
      const { outcome, attempts } = await result;
      assert.deepEqual(outcome, { ok: false, retry: false, error: 'no such user' });
      assert.equal(attempts, 2);
      assert.deepEqual(seen, ['retryable', 'permanent']);
    });

    it('ends an attempt at the deadline even when the notifier ignores its signal, and aborts the signal', async () => {
      const clock = new ManualClock();
      let signal: AbortSignal | undefined;
      const notifier: Notifier = { notify: (_b, s) => ((signal = s), new Promise(() => {})) };
      const attempt = attemptOnce(notifier, batchOf([makeAlert()]), 5000, clock, new AbortController().signal);
      clock.advance(5000);
      assert.deepEqual(await attempt, {
        outcome: { ok: false, retry: true, error: 'timed out after 5000 ms' },
        kind: 'timeout',
      });
      assert.equal(signal!.aborted, true);
    });

    it('a notifier that throws is a retryable failure, not a crash', async () => {
      const notifier: Notifier = { notify: () => Promise.reject(new Error('boom')) };
      const { outcome } = await attemptOnce(
        notifier,
        batchOf([makeAlert()]),
        5000,
        new ManualClock(),
        new AbortController().signal,
      );
      assert.deepEqual(outcome, { ok: false, retry: true, error: 'boom' });
    });
  });

  it('rate limiter: a sliding window of max per period', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(2, 60_000, clock);
    limiter.record();
    clock.advance(10_000);
    limiter.record();
    assert.equal(limiter.waitMs(), 50_000);
    clock.advance(50_000);
    assert.equal(limiter.waitMs(), 0);
    limiter.record();
    assert.equal(limiter.waitMs(), 10_000);
  });

  describe('text', () => {
    it('oneLine removes CR/LF, NUL, IRC codes and escapes, and keeps the words', () => {
      const flat = oneLine(HOSTILE_SUMMARY);
      assert.doesNotMatch(flat, /[\u0000-\u001f\u007f]/);
      assert.match(flat, /^disk "full" it's 'bad' X-Injected: yes PRIVMSG #other :pwned \$\(touch/);
      assert.equal(oneLine('a\u001b[31mred\u001b[0m\u2028b'), 'a [31mred [0m b');
    });

    it('irc lines stay within the byte budget and summarise a storm', () => {
      const alerts = Array.from({ length: 12 }, (_, i) => makeAlert({ rule: `r${i}` }));
      const lines = ircLines(batchOf(alerts), 5);
      assert.equal(lines.length, 5);
      assert.match(lines[4]!, /^\.\.\. and 9 more/);
      const long = fitBytes('é'.repeat(400), 300);
      assert.ok(Buffer.byteLength(long) <= 300);
      assert.ok(long.endsWith('...'));
    });
  });
});
