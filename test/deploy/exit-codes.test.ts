import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ackingGatewayConfig } from '../faults/common.ts';
import { startNatsServer } from '../helpers/nats-server.ts';
import { startOffhook } from '../../deploy/lib/offhook-process.ts';
import { spawnTracked } from '../../deploy/lib/processes.ts';

async function offhook(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawnTracked(process.execPath, ['offhook.mjs', ...args]);
  let stderr = '';
  child.stdout!.resume();
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

const CPU_RULE = { name: 'cpu', kind: 'threshold', metric: 'cpu_usage_percent', crit: 95 };

const COMMANDS = [
  ['agent'],
  ['collector'],
  ['gateway'],
  ['demo'],
  ['check-config'],
  ['status'],
  ['alerts'],
  ['ack'],
  ['silence', 'add'],
  ['silence', 'list'],
  ['calls'],
  ['test-call'],
];

describe('exit codes: one convention for every command (README, Exit codes)', function () {
  this.timeout(120_000);

  it('a mistyped command line exits 2 for every command, --help exits 0', async () => {
    const runs = COMMANDS.map(async (command) => ({ command, ...(await offhook([...command, '--no-such-flag'])) }));
    const wrong = await Promise.all(runs);
    for (const { command, code, stderr } of wrong) {
      assert.equal(code, 2, `offhook ${command.join(' ')} --no-such-flag: ${stderr}`);
      assert.match(stderr, /^error: (unknown option '--no-such-flag'|required option|missing required argument)/);
    }
    const unknown = await offhook(['frobnicate']);
    assert.equal(unknown.code, 2, unknown.stderr);
    const help = await Promise.all([['--help'], ['alerts', '--help'], ['demo', '--help'], ['--version']].map(offhook));
    assert.deepEqual(
      help.map((h) => h.code),
      [0, 0, 0, 0],
    );
  });

  it('a bad option value is a usage error (2): demo --speed, alerts --prefix', async () => {
    const speed = await offhook(['demo', '--speed', '0']);
    assert.equal(speed.code, 2, speed.stderr);
    const prefix = await offhook(['alerts', '--prefix', 'a.b', '--nats', 'nats://127.0.0.1:1']);
    assert.equal(prefix.code, 2, prefix.stderr);
    assert.match(prefix.stderr, /--prefix: expected one NATS token/);
  });

  describe('agent, collector and gateway share one lifecycle (shared/run-service.ts)', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'offhook-exit-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('a config that does not load exits 2 with the field named, for each of the three', async () => {
      const runs = ['agent', 'collector', 'gateway'].map(async (role) => {
        const file = join(dir, `${role}.yaml`);
        writeFileSync(file, 'nats: 5\n');
        return { role, ...(await offhook([role, '--config', file])) };
      });
      for (const { role, code, stderr } of await Promise.all(runs)) {
        assert.equal(code, 2, `offhook ${role}: ${stderr}`);
        assert.match(stderr, new RegExp(`^${role}\\.yaml: nats: expected object, got 5$`, 'm'), role);
      }
    });

    it('a start that fails (its port taken) exits 1 with one line naming the file, for each of the three', async () => {
      const server = await startNatsServer();
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      const taken = `127.0.0.1:${(holder.address() as AddressInfo).port}`;
      try {
        const configs: Record<string, Record<string, unknown>> = {
          agent: { host: 'taken1', nats: { servers: [server.url] }, state_dir: join(dir, 'taken-state') },
          collector: { nats: { servers: [server.url], prefix: 'tk2' }, listen: taken, rules: [CPU_RULE] },
          gateway: { ...ackingGatewayConfig(server.url, 'tk3', 1), metrics_listen: taken },
        };
        configs.agent!.metrics_listen = taken;
        const runs = Object.entries(configs).map(async ([role, config]) => {
          const file = join(dir, `${role}-taken.yaml`);
          writeFileSync(file, stringify(config));
          return { role, ...(await offhook([role, '--config', file])) };
        });
        for (const { role, code, stderr } of await Promise.all(runs)) {
          assert.equal(code, 1, `offhook ${role}: ${stderr}`);
          assert.match(stderr, new RegExp(`^${role}-taken\\.yaml: .*EADDRINUSE.*\\n$`), role);
        }
      } finally {
        holder.close();
        await server.dispose();
      }
    });

    it('SIGTERM stops each of the three cleanly: exit 0 well before its deadline, start and stop logged', async () => {
      const server = await startNatsServer();
      try {
        const agent = startOffhook('agent', dir, 'agent-ok', {
          host: 'exit1',
          nats: { servers: [server.url], prefix: 'ex1' },
          state_dir: join(dir, 'agent-state'),
          metrics_listen: '127.0.0.1:0',
        });
        const collector = startOffhook('collector', dir, 'collector-ok', {
          nats: { servers: [server.url], prefix: 'ex2' },
          listen: '127.0.0.1:0',
          rules: [CPU_RULE],
        });
        const gateway = startOffhook('gateway', dir, 'gateway-ok', ackingGatewayConfig(server.url, 'ex3', 1));
        for (const running of await Promise.all([agent, collector, gateway])) {
          const exited = once(running.child, 'exit');
          running.child.kill('SIGTERM');
          const [code] = (await exited) as [number | null];
          const log = running.output();
          assert.equal(code, 0, `${running.kind}: ${log.slice(-2000)}`);
          for (const msg of ['starting', 'stopping', 'exiting'])
            assert.match(log, new RegExp(`"msg":"${running.kind} ${msg}"`), `${running.kind} ${msg}`);
          assert.match(log, /"signal":"SIGTERM"/);
          assert.doesNotMatch(log, /did not stop/);
        }
      } finally {
        await server.dispose();
      }
    });
  });
});
