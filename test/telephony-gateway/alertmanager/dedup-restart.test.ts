import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { ensureStreams, openBucket, silentLogger, streamNames, Subjects } from '../../../shared/index.ts';
import { AcceptedNotifications } from '../../../telephony-gateway/alertmanager/dedup.ts';
import { BridgeStore } from '../../../telephony-gateway/alertmanager/store.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { startTestGateway, type TestGateway } from '../harness.ts';

const TOKEN = 'dedup-test-token';
const LABELS = { alertname: 'DiskFull', instance: 'db3.example.com:9100', severity: 'critical' };

/** One alert of Alertmanager's webhook payload, firing since `startsAt` or resolved. */
function notification(status: 'firing' | 'resolved', startsAt: string) {
  return {
    receiver: 'offhook',
    status,
    alerts: [
      {
        status,
        labels: LABELS,
        annotations: { summary: 'Disk almost full' },
        startsAt,
        endsAt: status === 'resolved' ? '2026-11-25T11:00:00Z' : '0001-01-01T00:00:00Z',
        generatorURL: '',
        fingerprint: 'da8cf2af1b19f6b1',
      },
    ],
    groupLabels: { alertname: 'DiskFull' },
    commonLabels: LABELS,
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    version: '4',
    groupKey: '{}:{alertname="DiskFull"}',
    truncatedAlerts: 0,
  };
}

/**
 * Alertmanager re-sends a notification it already delivered (group_interval when another alert of the group changes,
 * repeat_interval, retries): a gateway restarted in between must still drop it, not phone again. Nobody answers in
 * these tests, so an escalation ends unanswered, the one kind the intake would start again on a new ALERTS message.
 */
describe('gateway Alertmanager webhook: repeats dropped across a restart (real nats-server, sim line)', function () {
  this.timeout(60_000);
  const server = useNatsServer();
  let gw: TestGateway | null = null;
  let suite = 0;

  afterEach(async () => {
    await gw?.stop();
    gw = null;
  });

  async function start(prefix: string, alertmanager: object = {}): Promise<TestGateway> {
    return startTestGateway(
      server,
      {
        escalation: { max_rounds: 1 },
        alertmanager: { listen: '127.0.0.1:0', auth: { bearer_token: TOKEN }, ...alertmanager } as never,
      },
      prefix,
    );
  }

  /**
   * JetStream's own 2-minute Nats-Msg-Id window would hide a repeat in a test; a re-send minutes later (what
   * Alertmanager does) is past it. A window of 100 ms (the least nats-server takes), set while the first notification
   * is stored, has passed by the time its escalation has ended and the gateway restarted.
   */
  async function shortMsgIdWindow(): Promise<void> {
    const jsm = await jetstreamManager(gw!.nc);
    const alerts = streamNames(gw!.subjects).alerts;
    const info = await jsm.streams.info(alerts);
    await jsm.streams.update(alerts, { ...info.config, duplicate_window: 100_000_000 });
  }

  async function post(body: unknown): Promise<unknown> {
    const response = await fetch(gw!.gateway.alertmanager!.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200, 'a 2xx, so Alertmanager stops retrying');
    return response.json();
  }

  const offHooks = (): number => gw!.transcript().filter((e) => e.event === 'off_hook').length;
  const dropped = (reason: string): Promise<number> =>
    gw!.metric('offhook_gateway_alertmanager_dropped_total', { reason });

  it('a re-send after a restart is dropped; a new firing (new startsAt) calls; an older one is dropped', async () => {
    const prefix = `gwamdedup${++suite}`;
    gw = await start(prefix);
    await shortMsgIdWindow();

    const first = notification('firing', '2026-11-25T10:00:00.5Z');
    assert.deepEqual(await post(first), { status: 'ok', queued: 1, duplicates: 0 });
    await gw.waitFor('the escalation ending unanswered', () =>
      gw!.finished.some((f) => f.reason === 'nobody_answered'),
    );
    assert.equal(offHooks(), 2, 'alice and bob were called once each');

    await gw.stop();
    gw = await start(prefix);
    assert.deepEqual(await post(first), { status: 'ok', queued: 0, duplicates: 1 }, 'the same notification again');
    assert.equal(await dropped('duplicate'), 1);

    // A new firing of the same alert (new startsAt) is a new problem: it rings. ALERTS keeps order, so once it has
    // been handled, a repeat handed over before it would have been handled too.
    const refired = notification('firing', '2026-11-25T12:00:00Z');
    assert.deepEqual(await post(refired), { status: 'ok', queued: 1, duplicates: 0 });
    await gw.waitFor('the new firing ending unanswered', () =>
      gw!.finished.some((f) => f.reason === 'nobody_answered'),
    );
    assert.equal(gw.handled.length, 1, 'only the new firing reached the intake after the restart');
    assert.equal(offHooks(), 2, 'called about the new firing only');

    // Late retries of the earlier firing and its resolve (out of order): older than what was accepted.
    assert.deepEqual(await post(first), { status: 'ok', queued: 0, duplicates: 1 });
    assert.deepEqual(await post(notification('resolved', '2026-11-25T10:00:00.5Z')), {
      status: 'ok',
      queued: 0,
      duplicates: 1,
    });
    assert.deepEqual([await dropped('duplicate'), await dropped('superseded')], [1, 2]);
    assert.equal(gw.handled.length, 1);
    assert.equal(
      await gw.metric('offhook_gateway_alertmanager_alerts_total', { status: 'firing', result: 'duplicate' }),
      2,
    );
  });

  it('a repeat_interval re-send after dedup_window of an acknowledged firing passes, and does not ring', async () => {
    const prefix = `gwamdedup${++suite}`;
    // Every re-send is past this window: what a repeat_interval of hours is against the default hour.
    gw = await start(prefix, { dedup_window: '1ms' });
    await shortMsgIdWindow();
    gw.line.script({ number: '100', answerAfterRings: 1, then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    const firing = notification('firing', '2026-11-25T10:00:00.5Z');
    assert.deepEqual(await post(firing), { status: 'ok', queued: 1, duplicates: 0 });
    await gw.waitFor('alice acknowledging', () => gw!.finished.some((f) => f.reason === 'acknowledged'));
    assert.equal(offHooks(), 1);

    await gw.stop();
    gw = await start(prefix, { dedup_window: '1ms' });
    assert.deepEqual(await post(firing), { status: 'ok', queued: 1, duplicates: 0 }, 'past dedup_window');
    await gw.waitFor('the re-send reaching the intake', () => gw!.handled.length === 1);
    assert.equal(gw.gateway.queue.size, 0, 'the intake knows the firing was acknowledged');
    assert.equal(offHooks(), 0, 'nobody called again');
  });

  it('the window: a repeat inside dedup_window is dropped, after it passes; KV outlives the process', async () => {
    const nc = await connectTo(server);
    const subjects = new Subjects(`gwamwindow${++suite}`);
    await ensureStreams(nc, subjects);
    const store = new BridgeStore(await openBucket(nc, subjects, 'gateway'), silentLogger());
    let now = 1_000_000;
    const fingerprint = '00000000000000aa';
    const firing = { status: 'firing' as const, startsAt: 5000 };
    const first = new AcceptedNotifications(store, 1000, () => now, silentLogger(), 1);
    assert.equal(await first.dropReason(fingerprint, firing), null);
    await first.accepted(fingerprint, firing);
    // Memory holds one alert here: this pushes the first out, so the answers below come from KV.
    await first.accepted('00000000000000bb', firing);
    now += 999;
    const restarted = new AcceptedNotifications(store, 1000, () => now, silentLogger());
    assert.equal(await first.dropReason(fingerprint, firing), 'duplicate');
    assert.equal(await restarted.dropReason(fingerprint, firing), 'duplicate', 'a new process reads it from KV');
    assert.equal(await restarted.dropReason(fingerprint, { status: 'resolved', startsAt: 5000 }), null);
    assert.equal(await restarted.dropReason(fingerprint, { status: 'firing', startsAt: 6000 }), null);
    assert.equal(await restarted.dropReason(fingerprint, { status: 'firing', startsAt: 4000 }), 'superseded');
    now += 2;
    assert.equal(await restarted.dropReason(fingerprint, firing), null, 'after dedup_window: handed over again');
    assert.equal(await restarted.dropReason(fingerprint, { status: 'firing', startsAt: 4000 }), 'superseded');
    await nc.drain();
  });
});
