import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { HEAD_WAIT_MS, HeadRefresher } from '../../../collector/group/head-refresh.ts';
import { StreamHead } from '../../../collector/intake/index.ts';
import { jetstreamClient, ManualClock, silentLogger } from '../../../shared/index.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { until } from '../../helpers/wait.ts';

/**
 * HeadRefresher.retry() against a real nats-server, on a ManualClock: stream info on a stream that does not exist
 * (yet) fails as a real request; every wait between asks is a timer on the test's clock, so the backoff and the
 * HEAD_WAIT_MS give-up are stepped through without waiting them out.
 */
describe('collector head refresher: stream info retried on the clock until it answers or HEAD_WAIT_MS passes', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  before(async () => {
    nc = await connectTo(server);
  });
  after(async () => {
    await nc.drain();
  });

  /** A refresher of `stream` that notes when (ms since the start, by the clock) each failed ask was counted. */
  const refresherOf = (stream: string) => {
    const clock = new ManualClock();
    const start = clock.monotonic();
    const failedAt: number[] = [];
    const head = new StreamHead(clock);
    const failures = { inc: () => failedAt.push(clock.monotonic() - start) };
    const refresher = new HeadRefresher({ nc, clock, stream, head, logger: silentLogger(), failures });
    return { clock, failedAt, head, refresher };
  };

  /** Resolves once a failed ask has been followed by its wait (the only timer the refresher sets). */
  const waiting = (clock: ManualClock, what: string) => until(() => clock.pendingTimers() === 1, what);

  it('asks on the backoff schedule (250 ms doubling, up to 5 s), gives up before a wait ends past it', async () => {
    const { clock, failedAt, refresher } = refresherOf('HEADREFRESH_NEVER');
    let known: boolean | undefined;
    const retry = refresher
      .retry(HEAD_WAIT_MS, () => false)
      .then((answer) => {
        known = answer;
      });
    for (const [i, delay] of [250, 500, 1000, 2000, 4000, 5000, 5000, 5000, 5000].entries()) {
      await waiting(clock, `the wait after ask ${i + 1}`);
      assert.equal(failedAt.length, i + 1);
      clock.advance(delay - 1);
      assert.equal(clock.pendingTimers(), 1, `ask ${i + 2} not before its ${delay} ms backoff`);
      clock.advance(1);
    }
    // The tenth ask (at 27.75 s) fails too: a further 5 s wait would end past HEAD_WAIT_MS, so it stops waiting.
    await until(() => known !== undefined || clock.pendingTimers() > 0, 'the retry to end or wait again');
    assert.equal(clock.pendingTimers(), 0, 'no wait past HEAD_WAIT_MS');
    await retry;
    assert.equal(known, false);
    assert.deepEqual(failedAt, [0, 250, 750, 1750, 3750, 7750, 12750, 17750, 22750, 27750]);
  });

  it('stops waiting once stream info answers, and the head is then the stream’s', async () => {
    const stream = 'HEADREFRESH_LATE';
    const { clock, failedAt, head, refresher } = refresherOf(stream);
    let known: boolean | undefined;
    const retry = refresher
      .retry(HEAD_WAIT_MS, () => false)
      .then((answer) => {
        known = answer;
      });
    await waiting(clock, 'the wait after the first ask');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: ['headrefresh.late'] });
    const js = jetstreamClient(nc);
    await js.publish('headrefresh.late', 'a');
    const last = await js.publish('headrefresh.late', 'b');
    assert.equal(known, undefined, 'still waiting: nothing asked before the backoff ends');
    clock.advance(250);
    await retry;
    assert.equal(known, true);
    assert.deepEqual(failedAt, [0]);
    assert.equal(head.seq, last.seq);
    assert.equal(clock.pendingTimers(), 0);
    // Answering at once: no wait at all.
    assert.equal(await refresher.retry(HEAD_WAIT_MS, () => false), true);
    assert.equal(clock.pendingTimers(), 0);
    await jsm.streams.delete(stream);
  });

  it('a cancel during a wait ends the retry without asking again', async () => {
    const { clock, failedAt, refresher } = refresherOf('HEADREFRESH_CANCELLED');
    let cancelled = false;
    const retry = refresher.retry(HEAD_WAIT_MS, () => cancelled);
    await waiting(clock, 'the wait after the first ask');
    cancelled = true;
    clock.advance(250);
    assert.equal(await retry, false);
    assert.deepEqual(failedAt, [0]);
  });
});
