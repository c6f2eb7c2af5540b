import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import {
  ensureStreams,
  jetstreamClient,
  newId,
  publishDurable,
  Subjects,
  type Alert,
  type CheckResult,
  type Heartbeat,
} from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';

const run = promisify(execFile);

describe('offhook status (asks the running collector and gateway over NATS)', function () {
  this.timeout(90_000);
  const server = useNatsServer();
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-status-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function status(...args: string[]): Promise<{ code: number; stdout: string }> {
    try {
      const { stdout } = await run('node', ['offhook.mjs', 'status', '--nats', server.url, ...args]);
      return { code: 0, stdout };
    } catch (err) {
      const failed = err as { code: number; stdout: string };
      return { code: failed.code, stdout: failed.stdout };
    }
  }

  it('says what is missing when nothing runs, then shows hosts, firing alerts, line and budget', async () => {
    const empty = await status();
    assert.equal(empty.code, 1, 'a missing component is a failure (1); 2 is for usage and config errors');
    assert.match(empty.stdout, /WARNING: no collector answered/);
    assert.match(empty.stdout, /WARNING: no telephony gateway answered: nobody will be phoned/);

    const collectorFile = join(dir, 'collector.yaml');
    writeFileSync(
      collectorFile,
      stringify({
        nats: { servers: [server.url] },
        listen: '127.0.0.1:0',
        rules: [{ name: 'services', kind: 'check', check: '.*', max_attempts: 1 }],
      }),
    );
    const gatewayFile = join(dir, 'gateway.yaml');
    writeFileSync(
      gatewayFile,
      stringify({
        gateway_host: 'phonebox',
        nats: { servers: [server.url] },
        state_dir: join(dir, 'gateway'),
        metrics_listen: '127.0.0.1:0',
        // Nobody answers, so the alert stays in the call queue while we look.
        line: { backend: 'sim', sim: { speed: 1 }, answer_timeout: '60s' },
        people: [{ name: 'alice', number: '100' }],
        budget: { max_calls_per_hour: 7, max_cost_per_day: 5, currency: 'CHF' },
      }),
    );
    const collector = spawnTracked('node', ['offhook.mjs', 'collector', '--config', collectorFile]);
    const gateway = spawnTracked('node', ['offhook.mjs', 'gateway', '--config', gatewayFile]);
    try {
      await Promise.all([
        waitForOutput(collector, /collector running/, 30_000),
        waitForOutput(gateway, /gateway started/, 30_000),
      ]);
      const nc = await connectTo(server);
      const subjects = new Subjects();
      await ensureStreams(nc, subjects);
      const alerts = nc.subscribe(subjects.allAlerts, { max: 1 });
      const heartbeat: Heartbeat = {
        v: 1,
        id: newId(),
        host: 'web1',
        ts: Date.now(),
        seq: 1,
        kind: 'heartbeat',
        agentVersion: '9.9.9',
        uptimeSec: 5,
        intervalMs: 20_000,
        spoolDepth: 0,
      };
      nc.publish(subjects.heartbeat('web1'), JSON.stringify(heartbeat));
      const check: CheckResult = {
        v: 1,
        id: newId(),
        host: 'web1',
        ts: Date.now(),
        seq: 1,
        kind: 'check',
        check: 'shop',
        checkKind: 'http',
        status: 'critical',
        message: 'HTTP 503',
        latencyMs: 3,
      };
      await publishDurable(jetstreamClient(nc), subjects.event('web1', 'check'), check);
      let fired: Alert | undefined;
      for await (const msg of alerts) fired = msg.json<Alert>();
      const offHook = waitForOutput(gateway, /"msg":"off hook"/, 30_000);
      await offHook;

      const table = await status();
      assert.equal(table.code, 0, table.stdout);
      assert.match(table.stdout, /hosts: 1 known, 0 down/);
      assert.match(table.stdout, / {2}up +web1 +heartbeat \d+s ago, agent 9\.9\.9/);
      assert.match(
        table.stdout,
        new RegExp(`firing alerts: 1\\n  critical ${fired!.fingerprint}  web1: shop is critical: HTTP 503`),
      );
      assert.match(table.stdout, /gateway phonebox: line card\/sim in a call, 1 alert\(s\) waiting for a call/);
      assert.match(table.stdout, /budget left: calls per hour 6, /);
      assert.match(table.stdout, /, cost per day 5 CHF(,|$)/m, 'the cost limit is shown in the configured currency');
      assert.match(table.stdout, / {2}watchdog: offhook sees \(NATS, collectors, canary\)/);
      assert.match(table.stdout, /queued critical web1 services \(round 1\)/);

      const json = JSON.parse((await status('--json')).stdout) as {
        collector: { firing: unknown[] };
        gateways: { budget: Record<string, number | null>; currency?: string }[];
        problems: string[];
      };
      assert.equal(json.collector.firing.length, 1);
      assert.equal(json.gateways[0]!.budget.calls_per_hour, 6);
      assert.equal(json.gateways[0]!.budget.cost_per_day, 5);
      assert.equal(json.gateways[0]!.currency, 'CHF');
      assert.deepEqual(json.problems, []);
      await nc.close();
    } finally {
      await Promise.all([killAndWait(collector), killAndWait(gateway)]);
    }
  });
});
