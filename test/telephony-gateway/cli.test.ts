import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { stringify } from 'yaml';
import { useNatsServer } from '../helpers/nats-server.ts';
import { spawnTracked } from '../../deploy/lib/processes.ts';
import { startTestGateway, type TestGateway } from './harness.ts';

async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnTracked('node', ['offhook.mjs', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('gateway CLI: test-call and calls', function () {
  this.timeout(60_000);
  const server = useNatsServer();
  let gw: TestGateway;
  let dir: string;
  let configFile: string;

  before(async () => {
    gw = await startTestGateway(server, {}, 'gwcli');
    dir = mkdtempSync(join(tmpdir(), 'offhook-gwcli-'));
    configFile = join(dir, 'gateway.yaml');
    writeFileSync(
      configFile,
      stringify({
        gateway_host: 'gw1',
        nats: { servers: [server.url], prefix: 'gwcli' },
        people: [{ name: 'alice', number: '100' }],
      }),
    );
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('test-call asks the running gateway to place the call on its line and counts it', async () => {
    gw.line.script({ number: '555', then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    const result = await runCli(['test-call', '555', '--config', configFile]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.equal(lines.length, 3, result.stdout);
    assert.match(lines[0]!, /^NATS nats:\/\/127\.0\.0\.1:\d+ \(from gateway\.yaml\), prefix gwcli$/);
    assert.match(lines[1]!, /^test call to 555: acknowledged, keys 1, \d+ s$/);
    assert.equal(lines[2], '', 'the output ends with the result line');
    assert.ok(gw.transcript().some((e) => e.event === 'dial' && e.number === '555'));
    assert.equal(await gw.metric('offhook_gateway_budget_remaining_calls', { limit: 'calls_per_hour' }), 19);
  });

  it('calls lists the recorded calls, as a table or JSON', async () => {
    await gw.waitFor('the test call record', () => gw.calls.length === 1);
    const table = await runCli(['calls', '--config', configFile]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /outbound\s+test call 555\s+acknowledged\s+\d+s\s+alerts=0 keys=1 cost=0\.00 EUR$/m);
    const json = await runCli(['calls', '--json', '--config', configFile]);
    const records = JSON.parse(json.stdout) as Array<{ number: string; outcome: string }>;
    assert.deepEqual(
      records.map((r) => [r.number, r.outcome]),
      [['555', 'acknowledged']],
    );
  });

  it('test-call without a running gateway says how to start one', async () => {
    const other = join(dir, 'other-gateway.yaml');
    writeFileSync(
      other,
      stringify({
        gateway_host: 'nobody',
        nats: { servers: [server.url], prefix: 'gwcli' },
        people: [{ name: 'alice', number: '100' }],
      }),
    );
    const result = await runCli(['test-call', '555', '--config', other]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no gateway "nobody" is running on this NATS; start it with: offhook gateway --config/);
  });
});
