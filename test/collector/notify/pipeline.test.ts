import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createRegistry, ManualClock, newId, silentLogger, type Alert, type Registry } from '../../../shared/index.ts';
import { NotificationsConfig } from '../../../collector/notify/config.ts';
import { DedupStage } from '../../../collector/notify/dedup.ts';
import { groupStage } from '../../../collector/notify/group-stage.ts';
import { notificationMetrics } from '../../../collector/notify/metrics.ts';
import { muteStage } from '../../../collector/notify/mute-stage.ts';
import { NotificationLog } from '../../../collector/notify/nflog.ts';
import { ReceiverQueue } from '../../../collector/notify/queue.ts';
import { createRouter, FALLBACK_GROUP, routeStage } from '../../../collector/notify/route.ts';
import { runStages, type Notification, type NotifyStage, type ReceiverEntry } from '../../../collector/notify/stage.ts';
import type { NotificationReason, SubmitContext } from '../../../collector/notify/types.ts';
import { useDispatcherFixture } from './dispatcher-fixture.ts';
import { makeAlert, metricValue, resolvedCopy } from './helpers.ts';

/** Receivers as the dispatcher builds them; their queues are never fed here (nothing is sent). */
function receiversOf(config: unknown, registry: Registry): Map<string, ReceiverEntry> {
  const parsed = NotificationsConfig.parse(config) as NotificationsConfig;
  const metrics = notificationMetrics(registry);
  const entries = new Map<string, ReceiverEntry>();
  for (const receiver of parsed.receivers) {
    const queue = new ReceiverQueue({
      receiver,
      notifier: { notify: () => Promise.resolve({ ok: true }) },
      externalUrl: parsed.external_url,
      clock: new ManualClock(),
      metrics,
      logger: silentLogger(),
      onDelivered: () => Promise.resolve(),
      onUndelivered: () => {},
    });
    entries.set(receiver.name, { config: receiver, queue });
  }
  return entries;
}

const exec = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  kind: 'exec',
  command: ['true'],
  ...extra,
});
const names = (items: Notification[]) => items.map((n) => `${n.receiver.config.name}:${n.reason}`);

describe('notifiers: the notification pipeline, stage by stage', () => {
  let registry: Registry;
  beforeEach(() => {
    registry = createRegistry('collector');
  });

  describe('route', () => {
    function route(
      config: { receivers: unknown[]; routes?: unknown[]; fallback_receivers?: string[] },
      fallbackReceivers?: string[],
    ) {
      const parsed = NotificationsConfig.parse(config) as NotificationsConfig;
      return routeStage({
        route: createRouter(parsed.routes),
        fallbackReceivers: fallbackReceivers ?? parsed.fallback_receivers,
        receivers: receiversOf(config, registry),
        metrics: notificationMetrics(registry),
      });
    }
    const sub = (alert: Alert, reason: NotificationReason, context: SubmitContext = {}) => ({ alert, reason, context });

    it('one notification per routed receiver; a fallback goes to the fallback receivers only', () => {
      const stage = route({
        receivers: [exec('ops'), exec('db'), exec('pager')],
        routes: [
          { receiver: 'ops', continue: true },
          { receiver: 'db', match: { labels: { team: 'db' } } },
        ],
        fallback_receivers: ['pager'],
      });
      assert.deepEqual(names(stage(sub(makeAlert({ labels: { team: 'db' } }), 'firing'))), ['ops:firing', 'db:firing']);
      assert.deepEqual(names(stage(sub(makeAlert(), 'fallback', { fallbackReason: 'line_down' }))), ['pager:fallback']);
    });

    it('a resolve also goes to fallback receivers, and only where send_resolved says so', () => {
      const stage = route({
        receivers: [exec('ops'), exec('quiet', { send_resolved: false }), exec('pager')],
        routes: [{ receiver: 'ops', continue: true }, { receiver: 'quiet' }],
        fallback_receivers: ['pager'],
      });
      assert.deepEqual(names(stage(sub(resolvedCopy(makeAlert()), 'resolved'))), ['ops:resolved', 'pager:resolved']);
    });

    it('an unknown receiver (config validation refuses one; kept as a guard) is counted and skipped', async () => {
      const stage = route({ receivers: [exec('ops')], routes: [{ receiver: 'ops' }] }, ['gone']);
      assert.deepEqual(names(stage(sub(makeAlert(), 'fallback'))), []);
      const dropped = { receiver: 'gone', reason: 'unknown_receiver' };
      assert.equal(await metricValue(registry, 'offhook_notifications_dropped_total', dropped), 1);
    });
  });

  describe('mute', () => {
    it('holds back inhibited firings and acknowledged repeats, never a resolve or fallback; counts each', async () => {
      const ops = receiversOf({ receivers: [exec('ops')] }, registry).get('ops')!;
      const stage = muteStage({ metrics: notificationMetrics(registry), clock: new ManualClock() });
      const item = (overrides: Partial<Alert>, reason: NotificationReason): Notification => ({
        alert: makeAlert(overrides),
        reason,
        context: {},
        group: FALLBACK_GROUP,
        receiver: ops,
      });
      const passed = await stage.run(
        [
          item({ inhibited: true }, 'firing'),
          item({ inhibited: true }, 'repeat'),
          item({ inhibited: true }, 'flapping'),
          item({ inhibited: true, status: 'resolved' }, 'resolved'),
          item({ inhibited: true }, 'fallback'),
          item({ acknowledged: true }, 'repeat'),
          item({ acknowledged: true }, 'firing'),
          item({}, 'repeat'),
        ],
        () => Promise.resolve(),
      );
      assert.deepEqual(names(passed), ['ops:resolved', 'ops:fallback', 'ops:firing', 'ops:repeat']);
      const count = (reason: string) =>
        metricValue(registry, 'offhook_notifications_dropped_total', { receiver: 'ops', reason });
      assert.equal(await count('inhibited'), 3);
      assert.equal(await count('acknowledged'), 1);
    });
  });

  describe('group (the seam for issue #18) and runStages', () => {
    it('group passes everything on at once', async () => {
      const ops = receiversOf({ receivers: [exec('ops')] }, registry).get('ops')!;
      const items: Notification[] = [
        { alert: makeAlert(), reason: 'firing', context: {}, receiver: ops, group: FALLBACK_GROUP },
      ];
      assert.deepEqual(await groupStage().run(items, () => Promise.resolve()), items);
    });

    it('a stage may hold notifications and send them later: only the stages after it run, then delivery', async () => {
      const ops = receiversOf({ receivers: [exec('ops')] }, registry).get('ops')!;
      const seen: string[] = [];
      const tap = (name: string): NotifyStage => ({
        name,
        run: (items) => {
          seen.push(`${name}:${items.length}`);
          return items;
        },
      });
      let release: (() => Promise<void>) | undefined;
      const holding: NotifyStage = {
        name: 'hold',
        run: (items, later) => {
          release = () => later(items);
          return [];
        },
      };
      const delivered: Notification[][] = [];
      const items: Notification[] = [
        { alert: makeAlert(), reason: 'firing', context: {}, receiver: ops, group: FALLBACK_GROUP },
      ];
      await runStages([tap('before'), holding, tap('after')], items, (out) => delivered.push(out));
      assert.deepEqual(seen, ['before:1']);
      assert.equal(delivered.length, 0, 'held: nothing delivered yet');
      await release!();
      assert.deepEqual(seen, ['before:1', 'after:1']);
      assert.equal(delivered.length, 1);
    });
  });

  describe('dedup via the notification log (real nats-server)', () => {
    const fixture = useDispatcherFixture();

    async function setup() {
      const nflog = new NotificationLog(
        await new Kvm(fixture.nc).create(`nflog-${newId().replace(/[^A-Za-z0-9]/g, '')}`),
      );
      const dedup = new DedupStage({
        nflog,
        metrics: notificationMetrics(registry),
        logger: silentLogger(),
        clock: new ManualClock(),
        owner: { member: 'm1', run: 'r1' },
      });
      const ops = receiversOf({ receivers: [exec('ops')] }, registry).get('ops')!;
      const admit = (alert: Alert, reason: NotificationReason, context: SubmitContext = {}) =>
        dedup.run([{ alert, reason, context, receiver: ops, group: FALLBACK_GROUP }]);
      // As the dispatcher does: each admitted notification into its queue, then its pending entry written.
      const run = async (alert: Alert, reason: NotificationReason, context: SubmitContext = {}) => {
        const admitted = await admit(alert, reason, context);
        for (const { key } of admitted) dedup.handedOff(key!, true);
        await Promise.all(admitted.map(({ key }) => dedup.marks.get(key!)));
        return admitted.map((n) => n.key!.split('.').slice(2).join('.'));
      };
      return { nflog, dedup, admit, run };
    }
    const deduplicated = () => metricValue(registry, 'offhook_notifications_deduplicated_total', { receiver: 'ops' });

    it('gives each notification its log key and a pending entry; the same one in flight is dropped', async () => {
      const { nflog, dedup, admit, run } = await setup();
      const alert = makeAlert();
      const key = NotificationLog.key(alert, 'ops', 'firing');
      assert.deepEqual(
        (await admit(alert, 'firing')).map((n) => n.key),
        [key],
      );
      // Written once it is in its queue (the dispatcher's hand-off), not when the stage lets it on.
      assert.deepEqual(await nflog.pending(), []);
      dedup.handedOff(key, true);
      assert.equal(await dedup.marked(key), true);
      const [pending] = await nflog.pending();
      assert.equal(pending?.key, NotificationLog.key(alert, 'ops', 'firing'));
      assert.equal(pending?.notification?.member, 'm1');
      assert.deepEqual(await run(alert, 'firing'), [], 'in flight');
      assert.equal(await deduplicated(), 1);
    });

    it('what the log says was sent is dropped, and no pending entry is written for it', async () => {
      const { nflog, dedup, run } = await setup();
      const alert = makeAlert();
      const key = NotificationLog.key(alert, 'ops', 'firing');
      await nflog.record(key, { sentAt: 1, receiver: 'ops', reason: 'firing', attempts: 1 });
      assert.deepEqual(await run(alert, 'firing'), []);
      assert.equal(dedup.inFlight.size, 0);
      assert.deepEqual(await nflog.pending(), []);
      assert.equal(await deduplicated(), 1);
    });

    it('a resolve goes only where the firing was told; repeats are numbered; a fallback keys its reason', async () => {
      const { nflog, run } = await setup();
      const alert = makeAlert();
      assert.deepEqual(await run(resolvedCopy(alert), 'resolved'), [], 'never told it fired');
      assert.deepEqual(await run(alert, 'firing'), ['ops.firing']);
      assert.deepEqual(await run(alert, 'repeat'), ['ops.repeat-1']);
      assert.deepEqual(await run(alert, 'repeat'), ['ops.repeat-2']);
      assert.deepEqual(await run(alert, 'repeat', { repeat: 2 }), [], 'repeat 2 is in flight');
      assert.deepEqual(await run(resolvedCopy(alert), 'resolved'), ['ops.resolved']);
      assert.deepEqual(await run(alert, 'fallback', { fallbackReason: 'line down!' }), ['ops.fallback-line_down_']);
      const fallback = (await nflog.pending()).find((p) => p.key.endsWith('fallback-line_down_'));
      assert.equal(fallback?.notification?.fallbackReason, 'line down!');
    });

    it('a resolve goes out when the log cannot be read: it may have been told, silence leaves it firing', async () => {
      const bucket = `nflog-${newId().replace(/[^A-Za-z0-9]/g, '')}`;
      const nflog = new NotificationLog(await new Kvm(fixture.nc).create(bucket));
      const dedup = new DedupStage({
        nflog,
        metrics: notificationMetrics(registry),
        logger: silentLogger(),
        clock: new ManualClock(),
      });
      const ops = receiversOf({ receivers: [exec('ops')] }, registry).get('ops')!;
      const alert = makeAlert();
      // The log's stream gone: every read of it fails, as while NATS restarts (seen in test/faults/nats-restart).
      await (await jetstreamManager(fixture.nc)).streams.delete(`KV_${bucket}`);
      const admitted = await dedup.run([
        { alert: resolvedCopy(alert), reason: 'resolved', context: {}, receiver: ops, group: FALLBACK_GROUP },
      ]);
      assert.deepEqual(
        admitted.map((n) => n.key!.split('.').slice(2).join('.')),
        ['ops.resolved'],
      );
    });
  });
});
