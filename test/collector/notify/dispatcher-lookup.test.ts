import assert from 'node:assert/strict';
import { bucketName, openBucket } from '../../../shared/index.ts';
import { until } from '../../helpers/wait.ts';
import { makeAlert } from './helpers.ts';
import { alertsIn, hook, useDispatcherFixture } from './dispatcher-fixture.ts';

describe('notifiers: the notification-log lookup leaves with the record write (real nats-server)', () => {
  const fx = useDispatcherFixture();

  it('with nothing ahead, submit() has the lookup on the wire before a write the submitter makes next', async () => {
    // The engine's commit submits, then puts the alert record; the POST waits for both answers. Looked up a microtask
    // later, behind the put, the lookup left 0.6-2 ms after it (bench e2e-log, issue #17).
    const s = await fx.sink();
    const d = await fx.dispatcher({ receivers: [hook('ops', s.url)], routes: [{ receiver: 'ops' }] });
    const records = await openBucket(fx.nc, fx.subjects, 'alerts');
    const seen: string[] = [];
    // One connection for the dispatcher, the put and these subscriptions: the server hands them back in wire order.
    const nflog = `KV_${bucketName(fx.subjects, 'nflog')}`;
    const lookup = { callback: (): void => void seen.push('lookup') };
    const gets = [
      fx.nc.subscribe(`$JS.API.STREAM.MSG.GET.${nflog}`, lookup),
      fx.nc.subscribe(`$JS.API.DIRECT.GET.${nflog}.>`, lookup),
    ];
    const puts = fx.nc.subscribe(`$KV.${bucketName(fx.subjects, 'alerts')}.>`, {
      callback: (): void => void seen.push('put'),
    });
    await fx.nc.flush();
    let open: (told: boolean) => void = () => undefined;
    const gate = new Promise<boolean>((resolve) => (open = resolve));
    const alert = makeAlert();
    const accepted = d.submit(alert, 'firing', { gate });
    const written = records.put(alert.fingerprint, '{}');
    await until(() => seen.length >= 2, 'the lookup and the put on the wire');
    assert.deepEqual(seen, ['lookup', 'put']);
    await written;
    open(true);
    await accepted;
    await d.idle();
    assert.deepEqual(
      alertsIn(s).map((a) => a.fingerprint),
      [alert.fingerprint],
    );
    for (const sub of [...gets, puts]) sub.unsubscribe();
  });
});
