import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { fingerprint, jetstreamClient, ManualClock, publishDurable, Subjects } from '../../shared/index.ts';
import { EventScript } from '../collector/alerts/engine-harness.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { startOffhook, type OffhookProcess } from '../../deploy/lib/offhook-process.ts';
import { killAndWait, spawnTracked } from '../../deploy/lib/processes.ts';
import { untilPolled } from '../helpers/wait.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `offhook ARGS` with only the given NATS_* variables (none inherited from the shell running the tests). */
async function offhook(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('NATS_')));
  const child = spawnTracked(process.execPath, ['offhook.mjs', ...args], { env: { ...clean, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('operator CLI never gives a false all clear', function () {
  this.timeout(90_000);
  const server = useNatsServer();
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-operator-nats-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('against a NATS server with nothing running: non-zero exit, the server named, never an empty list', async () => {
    const runs = await Promise.all([
      offhook(['alerts', '--json', '--nats', server.url]),
      offhook(['alerts'], { NATS_URL: server.url }),
      offhook(['silence', 'list', '--json', '--server', server.url]),
      offhook(['calls', '--json', '--nats', server.url]),
      offhook(['status', '--nats', server.url]),
    ]);
    const [alertsJson, alerts, silences, calls, status] = runs;
    const url = server.url.replace(/[.]/g, '\\.');
    for (const run of [alertsJson!, alerts!, silences!]) {
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.equal(run.stdout.includes('[]'), false, run.stdout);
      const said = new RegExp(`no collector answered at ${url} \\(from (--nats|NATS_URL)\\), prefix offhook`);
      assert.match(run.stderr, said);
    }
    assert.match(alerts!.stdout, new RegExp(`^NATS ${url} \\(from NATS_URL\\), prefix offhook$`, 'm'));
    assert.equal(alerts!.stdout.includes('nothing is firing'), false);
    assert.equal(calls!.code, 1, calls!.stderr);
    assert.match(calls!.stderr, /no telephony gateway answered at .*: nobody is being phoned/);
    assert.match(calls!.stderr, /no CALLS stream at .*: no gateway has run against this server and prefix/);
    assert.equal(status!.code, 1, status!.stdout);
    assert.match(status!.stdout, /WARNING: no collector answered/);
    // Asking must not create offhook streams on a server that has none: that is how a wrong server looked right.
    const nc = await connectTo(server);
    try {
      const names: string[] = [];
      for await (const name of (await jetstreamManager(nc)).streams.names()) names.push(name);
      assert.deepEqual(names, []);
    } finally {
      await nc.close();
    }
  });

  it('a server that does not answer at all: exit 1 naming it', async () => {
    const refused = await offhook(['alerts', '--json'], { NATS_URL: 'nats://127.0.0.1:1' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1 \(from NATS_URL\), prefix offhook/);
  });

  describe('with a real collector', () => {
    let collector: OffhookProcess;
    let nc: NatsConnection;
    before(async () => {
      collector = await startOffhook('collector', dir, 'collector', {
        nats: { servers: [server.url] },
        listen: '127.0.0.1:0',
        rules: [{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }],
      });
      nc = await connectTo(server);
    });
    after(async () => {
      await nc.close();
      await killAndWait(collector.child, 'SIGTERM');
    });

    it("NATS_URL alone takes `offhook alerts` to the collector's server, where it sees the firing alert", async () => {
      const quiet = await offhook(['alerts', '--json'], { NATS_URL: server.url });
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.deepEqual(JSON.parse(quiet.stdout), [], 'a collector answered that nothing fires: the honest empty list');
      const script = new EventScript(new ManualClock(Date.now()));
      const sample = script.resource('web1', 'disk_used', 97);
      await publishDurable(jetstreamClient(nc), new Subjects().event('web1', 'resource'), sample);
      const firingNow = async (): Promise<boolean> => {
        const listed = (await (await fetch(`${collector.url}/api/alerts`)).json()) as unknown[];
        return listed.length === 1;
      };
      await untilPolled(firingNow, 'the alert to fire');
      const firing = await offhook(['alerts', '--json'], { NATS_URL: server.url });
      assert.equal(firing.code, 0, firing.stderr);
      const alerts = JSON.parse(firing.stdout) as Array<{ fingerprint: string; status: string }>;
      assert.deepEqual(
        alerts.map((a) => [a.fingerprint, a.status]),
        [[fingerprint('web1', 'disk', {}), 'firing']],
      );
      assert.match(firing.stderr, /^NATS nats:\/\/127\.0\.0\.1:\d+ \(from NATS_URL\), prefix offhook$/m);
      const status = await offhook(['status'], { NATS_URL: server.url });
      assert.match(status.stdout, /firing alerts: 1/);
      // The flag still wins over the environment.
      const wrong = await offhook(['alerts', '--json', '--nats', 'nats://127.0.0.1:1'], { NATS_URL: server.url });
      assert.equal(wrong.code, 1);
    });
  });
});
