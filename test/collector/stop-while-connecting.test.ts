import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { freeTcpPort } from '../../shared/index.ts';

describe('collector stopped while it still connects to NATS (child process)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-col-stopconnect-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('SIGTERM gives up the connect: the collector exits 0 instead of waiting out its stop deadline', async () => {
    // Nobody listens on this port: every connect is refused, and the collector keeps retrying until stopped.
    const port = await freeTcpPort();
    const config = join(dir, 'collector.yaml');
    writeFileSync(
      config,
      [
        `nats: { servers: ["nats://127.0.0.1:${port}"] }`,
        'listen: "127.0.0.1:0"',
        'rules: [{ name: disk, kind: threshold, metric: disk_used, crit: 90 }]',
        '',
      ].join('\n'),
    );
    const collector = spawnTracked('node', ['offhook.mjs', 'collector', '--config', config], {
      env: { ...process.env, OFFHOOK_LOG_LEVEL: 'info' },
    });
    try {
      await waitForOutput(collector, /"msg":"connecting to NATS"/, 30_000);
      const exited = once(collector, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      collector.kill('SIGTERM');
      const [code, signal] = await exited;
      assert.deepEqual({ code, signal }, { code: 0, signal: null });
    } finally {
      await killAndWait(collector, 'SIGKILL');
    }
  });
});
