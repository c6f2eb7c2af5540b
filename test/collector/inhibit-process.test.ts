import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamClient, publishDurable, Subjects, SCHEMA_VERSION, type ResourceSample } from '../../shared/index.ts';
import { connectTo, startNatsServer, type EmbeddedNatsServer } from '../helpers/nats-server.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { until } from '../helpers/wait.ts';
import { webhookReceiver } from '../../deploy/lib/webhook-receiver.ts';

describe('collector process: inhibit_rules', function () {
  this.timeout(90_000);
  let server: EmbeddedNatsServer;
  let nc: NatsConnection;
  let dir: string;
  before(async () => {
    server = await startNatsServer();
    nc = await connectTo(server);
    dir = mkdtempSync(join(tmpdir(), 'offhook-inhibit-'));
  });
  after(async () => {
    await nc.drain();
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a firing source holds back the target's webhook; once it resolves the target is told", async () => {
    const hook = await webhookReceiver();
    const configFile = join(dir, 'collector.yaml');
    writeFileSync(
      configFile,
      `
nats: { servers: ["${server.url}"] }
listen: "127.0.0.1:0"
evaluation_interval: 100ms
rules:
  - { name: disk, kind: threshold, metric: disk_used, crit: 90 }
  - { name: load, kind: threshold, metric: load, crit: 10 }
inhibit_rules:
  - { source_matchers: ['alertname="disk"'], target_matchers: ['alertname="load"'], equal: [host] }
notifications:
  receivers:
    - { name: hook, kind: webhook, url: "${hook.url}", retry: { initial_backoff: 100ms } }
  routes: [{ receiver: hook }]
`,
    );
    const subjects = new Subjects();
    const js = jetstreamClient(nc);
    const seqs = new Map<string, number>();
    const send = (host: string, metric: string, value: number) => {
      const seq = (seqs.get(host) ?? 0) + 1;
      seqs.set(host, seq);
      const event: ResourceSample = {
        v: SCHEMA_VERSION,
        id: `${host}-${seq}`,
        host,
        ts: Date.now(),
        seq,
        kind: 'resource',
        intervalMs: 10_000,
        metrics: [{ name: metric, type: 'gauge', value }],
      };
      return publishDurable(js, subjects.event(host, 'resource'), event);
    };
    const collector = spawnTracked(process.execPath, ['offhook.mjs', 'collector', '--config', configFile], {
      cwd: process.cwd(),
    });
    try {
      await waitForOutput(collector, /collector listening on/, 30_000);
      await send('web1', 'disk_used', 95);
      await until(() => hook.received.includes('firing disk web1'), 'disk firing notification', 20_000);
      await send('web1', 'load', 50);
      // web2 has no disk alert: its load is told, and it comes after web1's load in the one EVENTS stream.
      await send('web2', 'load', 50);
      await until(() => hook.received.includes('firing load web2'), 'web2 load (not inhibited)', 20_000);
      assert.ok(!hook.received.includes('firing load web1'), 'web1 load is held back while disk fires');

      const cli = spawnTracked(process.execPath, ['offhook.mjs', 'alerts', '--json', '--nats', server.url], {
        cwd: process.cwd(),
      });
      let out = '';
      cli.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      await new Promise((resolve) => cli.once('exit', resolve));
      const alerts = JSON.parse(out) as { host: string; rule: string; inhibited: boolean }[];
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
