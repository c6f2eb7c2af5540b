import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { Agent, AgentConfig } from '../../agent/index.ts';
import { ensureStreams, silentLogger, type CheckResult } from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { spawnTracked } from '../../deploy/lib/processes.ts';
import { agentConfigProblems, readEvents, subjects, tempDir, writeConfig } from './helpers.ts';

describe('nagios checks in the agent', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  const dir = tempDir();

  before(async () => {
    nc = await connectTo(server);
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    await nc.close();
    dir.remove();
  });

  it('publishes plugin results with perfdata metrics; a flooding plugin next to it harms nothing', async () => {
    const host = 'nagios1';
    const config = AgentConfig.parse({
      host,
      nats: { servers: [server.url] },
      state_dir: join(dir.path, host),
      resources: { enabled: false },
      checks: [
        {
          name: 'load',
          kind: 'nagios',
          command: ['check_load', '-w', '1000,1000,1000', '-c', '2000,2000,2000'],
          interval: '200ms',
        },
        { name: 'flood', kind: 'nagios', command: ['yes', 'FLOOD'], interval: '200ms', timeout: '20s' },
      ],
    });
    const agent = new Agent(config, { logger: silentLogger(), metricsListen: '127.0.0.1:0' });
    await agent.start();
    try {
      const checks = (events: unknown[]) => events.filter((e): e is CheckResult => (e as CheckResult).kind === 'check');
      const seen = (events: unknown[], name: string) => checks(events).filter((c) => c.check === name).length;
      const events = await readEvents(nc, host, (evs) => seen(evs, 'load') >= 3 && seen(evs, 'flood') >= 3);
      const load = checks(events).find((c) => c.check === 'load')!;
      assert.equal(load.checkKind, 'nagios');
      assert.equal(load.status, 'ok', load.message);
      assert.match(load.message, /^LOAD OK/);
      const load1 = load.metrics!.find((m) => m.name === 'nagios_load1')!;
      assert.deepEqual(load1.labels, { check: 'load', label: 'load1' });
      const flood = checks(events).filter((c) => c.check === 'flood');
      assert.ok(flood.every((c) => c.status === 'unknown' && /printed more than 64 KiB/.test(c.message)));
      const metrics = await agent.registry.getSingleMetricAsString('offhook_agent_check_failures_total');
      assert.match(metrics, /check="flood",kind="nagios",reason="unknown"/);
    } finally {
      await agent.stop();
    }
  });

  it('`offhook agent --once` prints the plugin result and exits with its state', async () => {
    const file = writeConfig(dir.path, {
      host: 'once1',
      state_dir: join(dir.path, 'once1'),
      resources: { enabled: false },
      checks: [{ name: 'dummy', kind: 'nagios', command: ['check_dummy', '1', 'disk almost full'] }],
    });
    const child = spawnTracked('node', ['offhook.mjs', 'agent', '--config', file, '--once']);
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1, output);
    assert.match(output, /^WARNING +dummy +nagios .* WARNING: disk almost full$/m);
  });

  it('`offhook agent --once` ranks CRITICAL over WARNING over UNKNOWN over OK, as Nagios aggregators do', async () => {
    const dummy = (name: string, code: number) => ({
      name,
      kind: 'nagios',
      command: ['check_dummy', String(code), name],
    });
    const runOnce = async (name: string, checks: unknown[]): Promise<{ code: number | null; output: string }> => {
      const config = { host: name, state_dir: join(dir.path, name), resources: { enabled: false }, checks };
      const file = writeConfig(dir.path, config, `${name}.yaml`);
      const child = spawnTracked('node', ['offhook.mjs', 'agent', '--config', file, '--once']);
      let output = '';
      child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      return { code, output };
    };
    const all = [dummy('a-unknown', 3), dummy('b-critical', 2), dummy('c-warning', 1), dummy('d-ok', 0)];
    const critical = await runOnce('rank1', all);
    assert.equal(critical.code, 2, `a critical check wins over an unknown one:\n${critical.output}`);
    assert.match(critical.output, /^UNKNOWN +a-unknown +nagios /m);
    assert.match(critical.output, /^CRITICAL +b-critical +nagios /m);
    const warning = await runOnce('rank2', [dummy('a-unknown', 3), dummy('c-warning', 1), dummy('d-ok', 0)]);
    assert.equal(warning.code, 1, `a warning wins over an unknown one:\n${warning.output}`);
    const unknown = await runOnce('rank3', [dummy('a-unknown', 3), dummy('d-ok', 0)]);
    assert.equal(unknown.code, 3, `an unknown wins over OK:\n${unknown.output}`);
  });

  it('config errors name the field and the fix', () => {
    assert.deepEqual(agentConfigProblems('checks:\n  - { name: a, kind: nagios, command: "check_load -w 5" }\n'), [
      'checks[0].command: expected command: as a list of arguments, e.g. [check_load, -w, "5,4,3", ' +
        '-c, "10,8,6"] (no shell is involved), got "check_load -w 5"',
    ]);
    assert.match(
      agentConfigProblems('checks:\n  - { name: a, kind: nagios, command: [] }\n')[0]!,
      /^checks\[0\]\.command: expected at least the plugin to run/,
    );
    assert.match(
      agentConfigProblems('checks:\n  - { name: a, kind: nagios, command: [check_users, -w, 5] }\n')[0]!,
      /^checks\[0\]\.command\[2\]: expected each argument as a string \(quote numbers: "5"\)/,
    );
    assert.match(
      agentConfigProblems(
        'checks:\n  - { name: a, kind: nagios, command: [check_load], env: { "BAD-NAME": x } }\n',
      )[0]!,
      /^checks\[0\]\.env\.BAD-NAME: expected an environment variable name/,
    );
    assert.match(
      agentConfigProblems('checks:\n  - { name: a, kind: nagios, command: [check_load], max_output: 10 }\n')[0]!,
      /^checks\[0\]\.max_output: expected at least 1KiB/,
    );
  });
});
