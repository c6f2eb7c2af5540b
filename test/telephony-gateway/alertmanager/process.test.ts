import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../../deploy/lib/processes.ts';
import { speechStateDir } from '../harness.ts';

describe('offhook gateway --webhook-listen (the real process)', function () {
  this.timeout(60_000);
  const server = useNatsServer();
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-gwam-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  function writeConfig(name: string, alertmanager?: object): string {
    const file = join(dir, `${name}.yaml`);
    const config = {
      gateway_host: `gw-${name}`,
      nats: { servers: [server.url], prefix: `gwamproc${name}` },
      state_dir: speechStateDir,
      metrics_listen: '127.0.0.1:0',
      line: { backend: 'sim', sim: { speed: 100 } },
      people: [{ name: 'alice', number: '100' }],
      escalation: { group_wait: '1h' },
      ...(alertmanager ? { alertmanager } : {}),
    };
    writeFileSync(file, stringify(config));
    return file;
  }

  it('the flag turns the webhook on, with the token read from its file', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'token-from-a-file\n');
    const file = writeConfig('on', { auth: { bearer_token_file: tokenFile } });
    const gateway = spawnTracked(
      'node',
      ['offhook.mjs', 'gateway', '--config', file, '--webhook-listen', '127.0.0.1:0'],
      { env: { ...process.env, OFFHOOK_LOG_LEVEL: 'info' } },
    );
    try {
      const [, url] = await waitForOutput(
        gateway,
        /"url":"(http:\/\/127\.0\.0\.1:\d+\/alertmanager)".*"msg":"Alertmanager webhook listening"/,
        20_000,
      );
      const body = readFileSync(join(import.meta.dirname, 'fixtures', 'alertmanager-0.25-firing.json'), 'utf8');
      const queued = waitForOutput(gateway, /"msg":"alert queued for a call"/, 20_000);
      const response = await fetch(url!, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer token-from-a-file' },
        body,
      });
      assert.deepEqual(await response.json(), { status: 'ok', queued: 1, duplicates: 0 });
      await queued;
    } finally {
      await killAndWait(gateway, 'SIGTERM');
    }
  });

  it('without an alertmanager: section the flag stops the gateway with a message saying what to add', async () => {
    const gateway = spawnTracked('node', [
      'offhook.mjs',
      'gateway',
      '--config',
      writeConfig('off'),
      '--webhook-listen',
      '127.0.0.1:0',
    ]);
    let stderr = '';
    gateway.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const [code] = (await once(gateway, 'exit')) as [number | null];
    assert.equal(code, 2, 'a usage error exits 2');
    assert.match(stderr, /--webhook-listen needs an alertmanager: section in the gateway config \(at least auth:/);
  });
});
