import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStreams, type Heartbeat } from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { nextMessage, readEvents, subjects, tempDir, writeConfig } from './helpers.ts';

const OUTAGE_MS = 30_000;

describe('agent through a 30 s NATS outage (real agent process, real nats-server)', function () {
  this.timeout(120_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  const dir = tempDir();

  before(async () => {
    const setup = await connectTo(server);
    await ensureStreams(setup, subjects);
    await setup.close();
  });
  after(async () => {
    // Teardown: the connection may already be closed by the test; nothing to check here.
    await nc?.close().catch(() => undefined);
    dir.remove();
  });

  it('spools while NATS is down and delivers every seq once, in order, after it returns', async () => {
    const host = 'outage1';
    const file = writeConfig(dir.path, {
      host,
      nats: { servers: [server.url] },
      state_dir: `${dir.path}/state`,
      metrics_listen: '127.0.0.1:0',
      heartbeat_interval: '500ms',
      publish_timeout: '500ms',
      resources: { interval: '200ms', processes: false },
      checks: [{ name: 'nats-port', kind: 'tcp', port: server.port, interval: '250ms', timeout: '200ms' }],
    });
    const agent = spawnTracked('node', ['offhook.mjs', 'agent', '--config', file]);
    try {
      await waitForOutput(agent, /"msg":"connected to NATS"/);
      nc = await connectTo(server);
      await readEvents(nc, host, (events) => events.length >= 5);
      await nc.close();

      // Listen before killing: the agent may notice the loss before stop() has seen the server exit.
      const lost = waitForOutput(agent, /NATS connection lost; spooling events to disk/);
      const killedAt = Date.now();
      await server.stop('SIGKILL');
      await lost;
      // The outage itself: the agent keeps sampling and probing (the tcp check now fails) the whole time.
      await delay(OUTAGE_MS);
      const restartedAt = Date.now();
      await server.start();

      nc = await connectTo(server);
      const caughtUp = await nextMessage<Heartbeat>(
        nc,
        subjects.heartbeat(host),
        (beat) => beat.spoolDepth === 0 && beat.seq > 150,
        60_000,
      );
      const events = await readEvents(nc, host, (evs) => evs.some((e) => e.seq >= caughtUp.seq), 30_000);
      const upTo = events.filter((e) => e.seq <= caughtUp.seq);
      assert.deepEqual(
        upTo.map((e) => e.seq),
        Array.from({ length: caughtUp.seq }, (_, i) => i + 1),
        'every seq from 1, no gap, in order',
      );
      assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'no duplicate id');
      const duringOutage = upTo.filter((e) => e.ts > killedAt && e.ts < restartedAt);
      assert.ok(
        duringOutage.some((e) => e.kind === 'resource'),
        'resource samples taken during the outage were delivered',
      );
      assert.ok(
        duringOutage.some((e) => e.kind === 'check' && e.status === 'critical'),
        'check results from the outage were delivered',
      );
    } finally {
      await killAndWait(agent, 'SIGTERM');
    }
    assert.equal(agent.exitCode, 0, 'clean exit on SIGTERM');
  });
});
