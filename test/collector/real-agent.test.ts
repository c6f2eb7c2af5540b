import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from '../../shared/index.ts';
import { CollectorConfig } from '../../collector/config.ts';
import { useCollectorBed } from '../helpers/collector-bed.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { RecordingSink, until } from './nats-harness.ts';

describe('collector with a real agent: check alert, host down with inhibition, host back', function () {
  this.timeout(90_000);
  const { server, start } = useCollectorBed({ connect: false });
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-agent-collector-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('announces exactly: the hard check failure, the host down (check alert held back), the host back', async () => {
    const sink = new RecordingSink();
    const config = CollectorConfig.parse({
      nats: { servers: [server.url] },
      listen: '127.0.0.1:0',
      evaluation_interval: '100ms',
      rules: [
        { name: 'port', kind: 'check', check: '^db-port$', max_attempts: 2 },
        { name: 'host_down', kind: 'host_down', missed_heartbeats: 5 },
      ],
    });
    const collector = await start(config, { sink });
    const agentConfig = join(dir, 'agent.yaml');
    writeFileSync(
      agentConfig,
      `
host: agent1
nats: { servers: ["${server.url}"] }
state_dir: ${JSON.stringify(join(dir, 'state'))}
metrics_listen: "127.0.0.1:0"
heartbeat_interval: 300ms
resources: { enabled: false }
checks:
  - { name: db-port, kind: tcp, host: 127.0.0.1, port: ${await freeTcpPort()}, interval: 200ms, timeout: 1s }
`,
    );
    const startAgent = async () => {
      const agent = spawnTracked(process.execPath, ['offhook.mjs', 'agent', '--config', agentConfig], {
        cwd: process.cwd(),
      });
      await waitForOutput(agent, /agent started/, 30_000);
      return agent;
    };
    let agent = await startAgent();
    await sink.waitForCount(1, 20_000);
    assert.deepEqual(sink.lines(), ['firing agent1 port critical g1']);

    await killAndWait(agent, 'SIGKILL');
    await sink.waitForCount(2, 20_000);
    assert.deepEqual(sink.lines().slice(1), ['firing agent1 host_down critical g1']);
    assert.match(
      sink.submitted[1]!.alert.summary,
      /^agent1 is down: no heartbeat for \d+ seconds? \(expected every 300 milliseconds\); 1 other alert is held/,
    );
    assert.match(sink.submitted[1]!.alert.summary, /\); 1 other alert is held back until it is back$/);
    const port = [...collector.engine.records.values()].find((r) => r.alert.rule === 'port')!;
    assert.equal(port.alert.inhibited, true);

    agent = await startAgent();
    await sink.waitForCount(3, 20_000);
    await until(() => !collector.engine.hostDown('agent1'), 'host back');
    // More check results arrive (still failing) while the agent runs: nothing new is told.
    const seqAtBack = collector.engine.state.hosts.get('agent1')!.seq;
    await until(() => collector.engine.state.hosts.get('agent1')!.seq >= seqAtBack + 3, 'three more check results');
    await killAndWait(agent, 'SIGTERM');
    await collector.idle();
    assert.deepEqual(
      sink.lines().slice(2),
      ['resolved agent1 host_down critical g1'],
      'the check alert was already told; it is not told again',
    );
    assert.equal(port.alert.inhibited, false);
  });
});
