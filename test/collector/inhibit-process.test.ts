import assert from 'node:assert/strict';
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

describe('collector process: inhibit_rules', function () {
  this.timeout(90_000);
  const bed = useProcessTestBed();

  it("a firing source holds back the target's webhook; once it resolves the target is told", async () => {
    const { server, nc, dir } = bed;
    const hook = await webhookReceiver();
    const yaml = collectorYaml({
      nats: `{ servers: ["${server.url}"] }`,
      hookUrl: hook.url,
      body: `
rules:
  - { name: disk, kind: threshold, metric: disk_used, crit: 90 }
  - { name: load, kind: threshold, metric: load, crit: 10 }
inhibit_rules:
  - { source_matchers: ['alertname="disk"'], target_matchers: ['alertname="load"'], equal: [host] }
`,
    });
    const send = eventSender(nc);
    const collector = (await startCollectorWith(dir, 'collector', yaml)).child;
    try {
      await send('web1', 'disk_used', 95);
      await until(() => hook.received.includes('firing disk web1'), 'disk firing notification', 20_000);
      await send('web1', 'load', 50);
      // web2 has no disk alert: its load is told, and it comes after web1's load in the one EVENTS stream.
      await send('web2', 'load', 50);
      await until(() => hook.received.includes('firing load web2'), 'web2 load (not inhibited)', 20_000);
      assert.ok(!hook.received.includes('firing load web1'), 'web1 load is held back while disk fires');

      const alerts = await alertsFromCli<{ host: string; rule: string; inhibited: boolean }>(server.url);
      assert.equal(alerts.find((a) => a.host === 'web1' && a.rule === 'load')?.inhibited, true);

      await send('web1', 'disk_used', 10);
      await until(() => hook.received.includes('firing load web1'), 'web1 load told once disk resolved', 20_000);
      assert.deepEqual([...hook.received].sort(), [
        'firing disk web1',
        'firing load web1',
        'firing load web2',
        'resolved disk web1',
      ]);
    } finally {
      await killAndWait(collector, 'SIGTERM');
      hook.server.close();
    }
  });
});
