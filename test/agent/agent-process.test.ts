import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { Agent, AgentConfig } from '../../agent/index.ts';
import { ensureStreams, silentLogger, type CheckResult, type Heartbeat } from '../../shared/index.ts';
import { connectTo, startNatsServer, useNatsServer } from '../helpers/nats-server.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { nextMessage, readEvents, subjects, tempDir, writeConfig } from './helpers.ts';

describe('agent process: events, heartbeat, metrics, spool before the stream exists', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  const dir = tempDir();

  before(async () => {
    nc = await connectTo(server);
  });
  after(async () => {
    await nc.close();
    dir.remove();
  });

  it('spools while the stream does not exist yet (the agent never creates streams), then drains in order', async () => {
    const host = 'nostream1';
    const config = AgentConfig.parse({
      host,
      nats: { servers: [server.url] },
      state_dir: join(dir.path, host),
      resources: { interval: '100ms', processes: false, filesystems: false },
      heartbeat_interval: '200ms',
    });
    const agent = new Agent(config, { logger: silentLogger(), metricsListen: '127.0.0.1:0' });
    await agent.start();
    try {
      const spooling = await nextMessage<Heartbeat>(nc, subjects.heartbeat(host), (beat) => beat.spoolDepth >= 3);
      assert.ok(spooling.seq >= 3);
      assert.match(
        await agent.registry.getSingleMetricAsString('offhook_agent_publish_errors_total'),
        /reason="no_stream"/,
      );
      await ensureStreams(nc, subjects);
      const events = await readEvents(nc, host, (evs) => evs.length >= spooling.seq + 2);
      assert.deepEqual(
        events.map((e) => e.seq),
        Array.from({ length: events.length }, (_, i) => i + 1),
      );
    } finally {
      await agent.stop();
    }
  });

  it('starts while NATS is down: samples go to the spool and arrive in order once NATS is up', async () => {
    const down = await startNatsServer();
    const setup = await connectTo(down);
    await ensureStreams(setup, subjects);
    await setup.close();
    await down.stop();
    const host = 'startdown1';
    const config = AgentConfig.parse({
      host,
      nats: { servers: [down.url] },
      state_dir: join(dir.path, host),
      resources: { interval: '100ms', processes: false, filesystems: false },
    });
    const agent = new Agent(config, { logger: silentLogger(), metricsListen: '127.0.0.1:0' });
    await agent.start();
    try {
      // Several samples on disk, then bring NATS up.
      await new Promise<void>((resolve) => agent.publisher.on('spool', (depth) => depth >= 5 && resolve()));
      await down.start();
      const client = await connectTo(down);
      try {
        const events = await readEvents(client, host, (evs) => evs.length >= 8);
        assert.deepEqual(
          events.map((e) => e.seq),
          Array.from({ length: events.length }, (_, i) => i + 1),
        );
      } finally {
        await client.close();
      }
    } finally {
      await agent.stop();
      await down.dispose();
    }
  });

  it('a spool it cannot write (disk trouble) costs events, counted, never the process', async () => {
    const down = await startNatsServer();
    await down.stop();
    const host = 'diskfull1';
    const stateDir = join(dir.path, host);
    const config = AgentConfig.parse({
      host,
      nats: { servers: [down.url] },
      state_dir: stateDir,
      resources: { interval: '100ms', processes: false, filesystems: false },
    });
    const agent = new Agent(config, { logger: silentLogger(), metricsListen: '127.0.0.1:0' });
    await agent.start();
    try {
      rmSync(join(stateDir, 'spool'), { recursive: true, force: true });
      writeFileSync(join(stateDir, 'spool'), 'not a directory');
      const dropped = async (): Promise<number> => (await agent.metrics.spoolDropped.get()).values[0]?.value ?? 0;
      await new Promise<void>((resolve) =>
        agent.publisher.on('spool', () => void dropped().then((n) => n >= 3 && resolve())),
      );
      assert.ok((await dropped()) >= 3);
    } finally {
      await agent.stop();
      await down.dispose();
    }
  });

  it('a hung probe times out without delaying another check', async () => {
    await ensureStreams(nc, subjects);
    const sockets = new Set<import('node:net').Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const host = 'hung1';
    const config = AgentConfig.parse({
      host,
      nats: { servers: [server.url] },
      state_dir: join(dir.path, host),
      resources: { enabled: false },
      checks: [
        { name: 'hangs', kind: 'ssh', port: (silent.address() as AddressInfo).port, interval: '1s', timeout: '3s' },
        { name: 'quick', kind: 'tcp', port: server.port, interval: '100ms' },
      ],
    });
    const agent = new Agent(config, { logger: silentLogger(), metricsListen: '127.0.0.1:0' });
    await agent.start();
    try {
      const events = await readEvents(nc, host, (evs) => evs.some((e) => e.kind === 'check' && e.check === 'hangs'));
      const results = events.filter((e): e is CheckResult => e.kind === 'check');
      const hung = results.find((r) => r.check === 'hangs')!;
      assert.equal(hung.status, 'critical');
      assert.match(hung.message, /timed out after 3000 ms/);
      // The hung probe ran from at least 3 s before its result; the quick check kept reporting meanwhile.
      const meanwhile = results.filter((r) => r.check === 'quick' && r.ts > hung.ts - 3000 && r.seq < hung.seq);
      assert.ok(meanwhile.length >= 2, 'quick check results while the hung probe was running');
      assert.ok(meanwhile.every((r) => r.status === 'ok'));
    } finally {
      await agent.stop();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('`offhook agent` publishes heartbeats and samples, serves /metrics, stops cleanly on SIGTERM', async () => {
    await ensureStreams(nc, subjects);
    const host = 'proc1.example.org';
    const file = writeConfig(dir.path, {
      host,
      nats: { servers: [server.url] },
      state_dir: join(dir.path, 'proc1'),
      heartbeat_interval: '300ms',
      resources: { interval: '300ms' },
    });
    const agent = spawnTracked('node', ['offhook.mjs', 'agent', '--config', file, '--metrics-listen', '127.0.0.1:0']);
    try {
      const [, url] = await waitForOutput(agent, /"metrics":"(http:\/\/[^"]+)"/);
      const beat = await nextMessage<Heartbeat>(nc, subjects.heartbeat('proc1_example_org'), (b) => b.seq >= 2);
      assert.equal(beat.host, 'proc1_example_org');
      assert.equal(beat.intervalMs, 300);
      // Full samples carry the raw counters; the fast tick's partial samples (a moved gauge group) never do.
      const full = (e: (typeof events)[number]): boolean =>
        e.kind === 'resource' && e.metrics.some((m) => m.name === 'node_cpu_seconds_total');
      const events = await readEvents(nc, 'proc1_example_org', (evs) => evs.filter(full).length >= 2);
      const sample = events.filter(full).at(-1)!;
      assert.ok(sample.kind === 'resource' && sample.metrics.some((m) => m.name === 'offhook_cpu_usage_ratio'));
      const metrics = await (await fetch(url!)).text();
      const names = [
        'offhook_agent_events_published_total',
        'offhook_agent_spool_depth',
        'offhook_agent_sequence',
        'offhook_agent_resource_sample_duration_seconds_bucket',
        'offhook_memory_available_bytes',
        'node_load1',
        'node_cpu_seconds_total',
        'offhook_nats_connected',
      ];
      for (const name of names) {
        assert.match(metrics, new RegExp(`^${name}[{ ]`, 'm'), `${name} on /metrics`);
      }
    } finally {
      await killAndWait(agent, 'SIGTERM');
    }
    assert.equal(agent.exitCode, 0);
  });
});
