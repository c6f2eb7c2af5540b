import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { freeTcpPort } from '../../shared/index.ts';
import { speechStateDir } from './harness.ts';

describe('gateway stopped while it still connects to NATS (child process)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-gw-stopconnect-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('SIGTERM gives up the connect: the gateway exits 0 instead of waiting out its stop deadline', async () => {
    // Nobody listens on this port: every connect is refused, and the gateway keeps retrying until stopped.
    const port = await freeTcpPort();
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      stringify({
        nats: { servers: [`nats://127.0.0.1:${port}`], prefix: 'stopconnect' },
        state_dir: speechStateDir,
        metrics_listen: '127.0.0.1:0',
        line: { backend: 'sim' },
        people: [{ name: 'alice', number: '100' }],
      }),
    );
    const gateway = spawnTracked('node', ['offhook.mjs', 'gateway', '--config', config], {
      env: { ...process.env, OFFHOOK_LOG_LEVEL: 'info' },
    });
    try {
      await waitForOutput(gateway, /"msg":"connecting to NATS"/, 30_000);
      const exited = once(gateway, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      gateway.kill('SIGTERM');
      const [code, signal] = await exited;
      assert.deepEqual({ code, signal }, { code: 0, signal: null });
    } finally {
      await killAndWait(gateway, 'SIGKILL');
    }
  });
});
