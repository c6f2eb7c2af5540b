import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { webhookReceiver } from '../../deploy/lib/webhook-receiver.ts';
import { collectorYaml, eventSender, startCollectorWith, useProcessTestBed } from '../helpers/collector-process.ts';
import { hangUp, reloadMetrics } from '../helpers/reload.ts';
import { until } from '../helpers/wait.ts';

describe('collector: config reload on SIGHUP (real collector process, shared/reload-service.ts)', function () {
  this.timeout(60_000);
  const bed = useProcessTestBed();

  it('keeps its rules on a broken edit, ignores no change, applies a new rule in the same process', async () => {
    const { server, nc, dir } = bed;
    const hook = await webhookReceiver();
    const yaml = (rules: string) =>
      collectorYaml({ nats: `{ servers: ["${server.url}"] }`, hookUrl: hook.url, body: `rules:\n${rules}` });
    const disk = '  - { name: disk, kind: threshold, metric: disk_used, crit: 90 }\n';
    const load = '  - { name: load, kind: threshold, metric: load, crit: 10 }\n';
    const send = eventSender(nc);
    const collector = await startCollectorWith(dir, 'collector', yaml(disk));
    const { child } = collector;
    const pid = child.pid;
    const file = join(dir, 'collector.yaml');
    try {
      await send('web1', 'disk_used', 95);
      await until(() => hook.received.includes('firing disk web1'), 'disk firing notification', 20_000);

      writeFileSync(file, yaml(`${disk}  - { name: load, kind: threshold, metric: load, crit: high }\n`));
      const [invalid] = await hangUp(child, /config reload failed/);
      assert.match(invalid!.input, /collector\.yaml/);
      assert.match(invalid!.input, /rules\[1\]\.crit/, invalid!.input);
      let m = await reloadMetrics(`${collector.url}/metrics`);
      assert.equal(m.outcome('invalid'), 1);
      assert.equal(m.successful, 0);
      // Still running on the old rules: a load this high is no alert.
      await send('web1', 'load', 50);
      await send('web1', 'disk_used', 10);
      await until(() => hook.received.includes('resolved disk web1'), 'disk resolved on the old rules', 20_000);
      assert.ok(!hook.received.some((n) => n.includes('load')));

      writeFileSync(file, yaml(disk));
      await hangUp(child, /config unchanged: nothing to reload/);
      m = await reloadMetrics(`${collector.url}/metrics`);
      assert.equal(m.outcome('unchanged'), 1);
      assert.equal(m.successful, 1);

      writeFileSync(file, yaml(disk + load));
      const [listening] = await hangUp(child, /collector listening on (\S+)/, /"msg":"config reloaded/);
      const url = listening![1]!.replace(/\/$/, '');
      await send('web1', 'load', 60);
      await until(() => hook.received.includes('firing load web1'), 'the new rule fires', 20_000);
      assert.equal(child.pid, pid);
      assert.equal(child.exitCode, null);
      m = await reloadMetrics(`${url}/metrics`);
      assert.equal(m.outcome('applied'), 1);
      assert.equal(m.outcome('invalid'), 1, 'the counts outlive the in-process restart');
      assert.equal(m.successful, 1);
    } finally {
      await killAndWait(child, 'SIGTERM');
      hook.server.close();
    }
  });
});
