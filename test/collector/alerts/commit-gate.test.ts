import assert from 'node:assert/strict';
import type { KV } from '@nats-io/kv';
import {
  bucketName,
  jetstreamClient,
  openBucket,
  silentLogger,
  systemClock,
  type Alert,
} from '../../../shared/index.ts';
import { AlertStore, CommitQueue } from '../../../collector/alerts/index.ts';
import type { AlertRecord } from '../../../collector/alerts/alert-record.ts';
import { collectorMetrics } from '../../../collector/metrics.ts';
import { until } from '../../helpers/wait.ts';
import { alertsIn, hook, useDispatcherFixture } from '../notify/dispatcher-fixture.ts';
import { makeAlert } from '../notify/helpers.ts';

/** The real store, whose write of a record with an outbox waits until the test lets it go. */
class HeldStore extends AlertStore {
  holding = false;
  release: () => void = () => undefined;
  private readonly held = new Promise<void>((resolve) => (this.release = resolve));

  constructor(
    kv: KV,
    private readonly events: string[],
  ) {
    super(kv, silentLogger());
  }

  override async put(record: AlertRecord): Promise<void> {
    const announcing = record.outbox.length > 0;
    if (announcing) {
      this.holding = true;
      await this.held;
    }
    await super.put(record);
    this.events.push(announcing ? `stored ${record.alert.rule}` : `outbox cleared ${record.alert.rule}`);
  }
}

function announcing(alert: Alert): AlertRecord {
  return {
    alert,
    seq: 1,
    announced: { generation: alert.generation, status: 'firing', severity: alert.severity },
    lastNotifiedAt: alert.startsAt,
    ack: null,
    outbox: [{ reason: 'firing', publish: true, alert }],
    updatedAt: alert.startsAt,
    quiet: false,
  };
}

describe('commit queue and dispatcher: admission overlaps the record write; the send waits for it', () => {
  // Before the fixture's hooks, so a failing test's held write is let go before its dispatcher closes.
  const stores: HeldStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) store.release();
  });
  const fx = useDispatcherFixture();

  async function setup(fence?: () => Promise<boolean>) {
    const receiver = await fx.sink();
    const events: string[] = [];
    receiver.respond = (request) => {
      for (const alert of JSON.parse(request.body).alerts as { labels: { alertname: string } }[])
        events.push(`POST ${alert.labels.alertname}`);
      return 200;
    };
    const dispatcher = await fx.dispatcher({ receivers: [hook('ops', receiver.url)], routes: [{ receiver: 'ops' }] });
    const nflog = await openBucket(fx.nc, fx.subjects, 'nflog');
    // The dispatcher's notification-log lookups, as the server sees them requested (direct or stream get).
    const stream = `KV_${bucketName(fx.subjects, 'nflog')}`;
    for (const subject of [`$JS.API.DIRECT.GET.${stream}.>`, `$JS.API.STREAM.MSG.GET.${stream}`])
      fx.nc.subscribe(subject, { callback: () => void events.push('lookup') });
    await fx.nc.flush();
    const store = new HeldStore(await openBucket(fx.nc, fx.subjects, 'alerts'), events);
    stores.push(store);
    const queue = new CommitQueue({
      store,
      js: jetstreamClient(fx.nc),
      subjects: fx.subjects,
      sink: dispatcher,
      logger: silentLogger(),
      metrics: collectorMetrics(fx.registry, { records: () => [], hostStates: () => [] }),
      clock: systemClock,
      ...(fence ? { fence } : {}),
    });
    const pendingOf = async (alert: Alert): Promise<string[]> => {
      const keys: string[] = [];
      for await (const key of await nflog.keys(`pending.${alert.fingerprint}.>`)) keys.push(key);
      return keys;
    };
    /**
     * An ungated notification to the same receiver, admitted after everything submitted so far: once it has arrived,
     * whatever had been queued before it has been sent too (one queue, in order).
     */
    const afterEverything = async (): Promise<void> => {
      const count = receiver.requests.length;
      await dispatcher.submit(makeAlert({ rule: 'later' }), 'firing');
      await receiver.waitFor(count + 1);
    };
    return { receiver, dispatcher, store, queue, events, pendingOf, afterEverything };
  }

  it('nothing is sent, nor marked pending, before the record is in KV; then it is sent once', async () => {
    const { receiver, dispatcher, store, queue, events, pendingOf, afterEverything } = await setup();
    const alert = makeAlert({ rule: 'gated' });
    queue.commit(announcing(alert));
    await until(() => store.holding && events.includes('lookup'), 'the record write held, the lookup made');
    await afterEverything();
    assert.deepEqual(
      events.filter((e) => e.startsWith('POST')),
      ['POST later'],
      'the notification waits for its record',
    );
    // A crash now leaves nothing a restart would resume: no pending entry for a transition KV does not hold.
    assert.deepEqual(await pendingOf(alert), []);

    store.release();
    await queue.idle();
    await dispatcher.idle();
    assert.equal(alertsIn(receiver).filter((a) => a.fingerprint === alert.fingerprint).length, 1, 'sent once');
    const told = events.filter((e) => e.endsWith(' gated'));
    assert.deepEqual(told, ['stored gated', 'POST gated', 'outbox cleared gated']);
    assert.deepEqual(await pendingOf(alert), [], 'delivered: its pending entry cleared');
  });

  it("admission's log lookup is made while the record write is still under way", async () => {
    const { store, queue, events } = await setup();
    queue.commit(announcing(makeAlert({ rule: 'overlap' })));
    await until(() => events.includes('lookup'), 'the notification-log lookup before the record is written');
    assert.equal(store.holding, true);
    assert.deepEqual(events, ['lookup'], 'the record is not stored yet');
    store.release();
    await queue.idle();
    assert.deepEqual(events.slice(0, 2), ['lookup', 'stored overlap']);
  });

  it('fenced off after the write: nothing told, no pending entry, the outbox left for the next holder', async () => {
    let checks = 0;
    const { store, queue, events, pendingOf, afterEverything } = await setup(async () => ++checks === 1);
    const alert = makeAlert({ rule: 'fenced' });
    queue.commit(announcing(alert));
    store.release();
    await queue.idle();
    await afterEverything();
    assert.deepEqual(
      events.filter((e) => e.startsWith('POST')),
      ['POST later'],
    );
    assert.deepEqual(await pendingOf(alert), []);
    assert.equal(checks, 2);
    assert.equal((await store.get(alert.fingerprint))?.outbox.length, 1, 'the outbox stays for the redo');
  });
});
