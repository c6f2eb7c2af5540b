import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { openBucket, streamNames, Subjects } from '../../shared/index.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import {
  alertsFromCli,
  collectorYaml,
  eventSender,
  startCollectorWith,
  useProcessTestBed,
} from '../helpers/collector-process.ts';
import { until } from '../helpers/wait.ts';
import { webhookReceiver } from '../../deploy/lib/webhook-receiver.ts';

describe('collector process: SIGKILL and restart mid-incident', function () {
  this.timeout(90_000);
  const bed = useProcessTestBed();

  it('loses no alert, re-announces nothing, resumes `for` timers, ends announcements the kill cut off', async () => {
    const { server, nc, dir } = bed;
    const hook = await webhookReceiver();
    const yaml = collectorYaml({
      nats: `{ servers: ["${server.url}"] }`,
      hookUrl: hook.url,
      body: `
checkpoint_interval: 200ms
rules:
  - { name: disk, kind: threshold, metric: disk_used, crit: 90 }
  - { name: load, kind: threshold, metric: load, crit: 10, for: 3s }
  - { name: marker, kind: threshold, metric: marker, crit: 0 }
`,
    });
    const subjects = new Subjects();
    const send = eventSender(nc, subjects);
    const start = async () => (await startCollectorWith(dir, 'collector', yaml)).child;
    // The collector creates the bucket; if it is not there yet it is opened again after the first alert.
    const checkpoints = await openBucket(nc, subjects, 'checkpoints').catch(() => null);

    let collector = await start();
    await send('web1', 'disk_used', 95);
    await until(() => hook.received.includes('firing disk web1'), 'disk firing notification', 20_000);
    await send('web1', 'load', 50);
    const bucket = checkpoints ?? (await openBucket(nc, subjects, 'checkpoints'));
    await until(
      async () => ((await bucket.get('collector.engine'))?.json<{ streamSeq: number }>().streamSeq ?? 0) >= 2,
      'a checkpoint covering the load event',
      20_000,
    );
    // Cut off whatever the next transition was doing.
    await send('web2', 'disk_used', 99);
    const killedAt = Date.now();
    await killAndWait(collector, 'SIGKILL');

    await send('web1', 'disk_used', 97);
    collector = await start();
    await until(() => hook.received.includes('firing load web1'), 'load firing once its `for` elapsed', 20_000);
    await send('web1', 'disk_used', 50);
    await until(() => hook.received.includes('resolved disk web1'), 'disk resolved', 20_000);
    // A last alert marks the end: anything duplicated would have arrived before it.
    await send('web3', 'marker', 1);
    await until(() => hook.received.includes('firing marker web3'), 'the marker', 20_000);
    // Asked while the collector runs: `offhook alerts` refuses to answer from stored state alone.
    // The restarted collector continued the stored incident (same start, generation 1) rather than re-detecting it.
    const alerts = await alertsFromCli<{
      host: string;
      rule: string;
      status: string;
      generation: number;
      startsAt: number;
    }>(server.url, ['--all']);
    const disk = alerts.find((a) => a.host === 'web1' && a.rule === 'disk')!;
    assert.equal(disk.status, 'resolved');
    assert.equal(disk.generation, 1);
    assert.ok(disk.startsAt < killedAt, 'fired before the kill, not re-fired after it');
    await killAndWait(collector, 'SIGTERM');
    hook.server.close();

    assert.deepEqual([...hook.received].sort(), [
      'firing disk web1',
      'firing disk web2',
      'firing load web1',
      'firing marker web3',
      'resolved disk web1',
    ]);
    const info = await (await jetstreamManager(nc)).streams.info(streamNames(subjects).alerts);
    assert.equal(info.state.messages, 5, 'one ALERTS message per transition');
  });
});
