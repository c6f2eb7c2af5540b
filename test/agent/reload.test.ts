import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import { stringify } from 'yaml';
import { ensureStreams } from '../../shared/index.ts';
import { startOffhook } from '../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { hangUp, reloadMetrics } from '../helpers/reload.ts';
import { readEvents, subjects, tempDir } from './helpers.ts';

describe('agent: config reload on SIGHUP (real agent process, shared/reload-service.ts)', function () {
  this.timeout(60_000);
  const server = useNatsServer();
  const dir = tempDir();
  let nc: NatsConnection;

  before(async () => {
    nc = await connectTo(server);
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    await nc.close();
    dir.remove();
  });

  it('applies a change in the same process, keeps the old config on a broken edit, ignores no change', async () => {
    const host = 'reload1';
    // The checks connect to the nats-server's own port: open for as long as the test runs.
    const port = Number(new URL(server.url).port);
    const check = (name: string) => ({ name, kind: 'tcp', port, interval: '1s' });
    const base = {
      host,
      nats: { servers: [server.url] },
      state_dir: `${dir.path}/state`,
      metrics_listen: '127.0.0.1:0',
      resources: { enabled: false },
    };
    const agent = await startOffhook('agent', dir.path, 'agent', { ...base, checks: [check('first')] });
    const pid = agent.child.pid;
    try {
      await readEvents(nc, host, (events) => events.some((e) => e.kind === 'check' && e.check === 'first'));

      const changed = stringify({ ...base, checks: [check('first'), check('second')] });
      writeFileSync(agent.configFile, changed);
      // The new instance listens on a new port (metrics_listen :0): its URL is in its "agent started" line.
      const [started] = await hangUp(agent.child, /"msg":"agent started"/, /"msg":"config reloaded/);
      const url = String((JSON.parse(started!.input) as { metrics: string }).metrics);
      await readEvents(nc, host, (events) => events.some((e) => e.kind === 'check' && e.check === 'second'));
      assert.ok(agent.alive());
      assert.equal(agent.child.pid, pid);
      assert.match(agent.output(), /"msg":"agent stopped"/, 'the old instance stopped as on SIGTERM');
      let m = await reloadMetrics(url);
      assert.equal(m.outcome('applied'), 1);
      assert.equal(m.successful, 1);

      writeFileSync(
        agent.configFile,
        stringify({ ...base, checks: [check('first'), { ...check('x'), interval: 'soon' }] }),
      );
      const [refused] = await hangUp(agent.child, /config reload failed/);
      assert.match(refused!.input, /checks\[1\]\.interval: expected a duration/, refused!.input);
      assert.match(refused!.input, /still running on the previous config/);
      m = await reloadMetrics(url);
      assert.equal(m.outcome('invalid'), 1);
      assert.equal(m.successful, 0);
      assert.equal(m.outcome('applied'), 1, 'the count survived the in-process restart');
      assert.ok(agent.alive());

      writeFileSync(agent.configFile, changed);
      await hangUp(agent.child, /config unchanged: nothing to reload/);
      m = await reloadMetrics(url);
      assert.equal(m.outcome('unchanged'), 1);
      assert.equal(m.successful, 1);
      assert.equal((agent.output().match(/"msg":"agent started"/g) ?? []).length, 2, 'only the change restarted it');
    } finally {
      await killAndWait(agent.child, 'SIGTERM');
    }
  });
});
