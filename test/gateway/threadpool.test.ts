import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { libuvPoolSize } from '../../telephony-gateway/main.ts';
import { scrapeSum } from '../helpers/metrics.ts';
import { startNatsServer, type EmbeddedNatsServer } from '../helpers/nats-server.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../helpers/processes.ts';
import { speechStateDir } from './harness.ts';

/** Threads of a live process, from /proc: libuv starts its whole pool at first use. */
function threads(pid: number): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}
/** The process doing the work: offhook.mjs's child when it relays, else the process itself. */
function worker(child: ChildProcess): number {
  const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.length === 1 ? children[0]! : child.pid!;
}

describe('gateway libuv thread pool (offhook.mjs, child processes)', function () {
  this.timeout(60_000);
  let server: EmbeddedNatsServer;
  let dir: string;
  let config: string;

  before(async () => {
    server = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'offhook-gwpool-'));
    config = join(dir, 'gateway.yaml');
    writeFileSync(config, stringify({
      gateway_host: 'gw1',
      nats: { servers: [server.url], prefix: 'pool' },
      state_dir: speechStateDir,
      metrics_listen: '127.0.0.1:0',
      line: { backend: 'sim', sim: { speed: 100 } },
      people: [{ name: 'alice', number: '100' }],
    }));
  });
  after(async () => {
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  function startGateway(pool: string | undefined): ChildProcess {
    const env: NodeJS.ProcessEnv = { ...process.env, OFFHOOK_LOG_LEVEL: 'info' };
    delete env.UV_THREADPOOL_SIZE;
    if (pool !== undefined) env.UV_THREADPOOL_SIZE = pool;
    const child = spawnTracked(process.execPath, ['offhook.mjs', 'gateway', '--config', config], { env });
    const output: string[] = [];
    child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    logs.set(child, output);
    return child;
  }
  const logs = new Map<ChildProcess, string[]>();
  async function started(child: ChildProcess): Promise<{ logged: number; metric: number }> {
    await waitForOutput(child, /"msg":"gateway started"/, 30_000);
    const text = logs.get(child)!.join('');
    const metrics = String((JSON.parse(/^.*"msg":"gateway started".*$/m.exec(text)![0]) as { metrics: string }).metrics);
    return { logged: Number(/"uvThreadpoolSize":(\d+)/.exec(text)?.[1]), metric: await scrapeSum(`${metrics.replace(/\/(metrics)?$/, '')}/metrics`, 'offhook_gateway_libuv_threadpool_size') };
  }

  it('reads UV_THREADPOOL_SIZE as libuv does', () => {
    assert.deepEqual([libuvPoolSize(undefined), libuvPoolSize(''), libuvPoolSize('16'), libuvPoolSize('0'), libuvPoolSize('5000'), libuvPoolSize('x')], [4, 4, 16, 1, 1024, 1]);
  });

  it('runs `offhook gateway` with a 16-thread pool unless the operator set one, and stops cleanly on SIGTERM', async () => {
    const child = startGateway(undefined);
    const output = logs.get(child)!;
    assert.deepEqual(await started(child), { logged: 16, metric: 16 });
    const gateway = worker(child);
    assert.notEqual(gateway, child.pid, 'offhook.mjs relays to a child started with the variable set');
    // The pool is really that big: 16 libuv threads plus the main and V8's threads (the default pool gives about 10 in all).
    assert.ok(threads(gateway) >= 17, `only ${threads(gateway)} threads`);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(output.join(''), /"msg":"gateway stopped"/);
    assert.ok(!existsSync(`/proc/${gateway}`), 'the relayed gateway is gone too');
  });

  it("keeps the operator's UV_THREADPOOL_SIZE and runs in one process", async () => {
    const child = startGateway('6');
    assert.deepEqual(await started(child), { logged: 6, metric: 6 });
    assert.equal(worker(child), child.pid);
    // The same count as above tells the pool sizes apart: 6 libuv threads leave it below 17.
    assert.ok(threads(child.pid!) < 17, `${threads(child.pid!)} threads with a pool of 6`);
    await killAndWait(child, 'SIGTERM');
  });

  it('a SIGKILLed offhook.mjs takes its gateway with it, so nothing keeps the line', async () => {
    const child = startGateway(undefined);
    await started(child);
    const gateway = worker(child);
    await killAndWait(child, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (existsSync(`/proc/${gateway}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${gateway}/status`, 'utf8'))) {
      if (Date.now() > deadline) throw new Error('the gateway outlived offhook.mjs');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});
