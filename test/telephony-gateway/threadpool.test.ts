import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { libuvPoolSize } from '../../telephony-gateway/main.ts';
import { builtDist } from '../helpers/dist.ts';
import { scrapeSum } from '../../deploy/lib/metrics-text.ts';
import { useNatsServer } from '../helpers/nats-server.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { speechStateDir } from './harness.ts';

/** Threads of a live process, from /proc: libuv starts its whole pool at first use. */
function threads(pid: number): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}
/** Child processes of a live process: the gateway must run as one. */
function children(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

describe('gateway libuv thread pool (launcher, one process)', function () {
  this.timeout(60_000);
  const server = useNatsServer();
  let dir: string;
  let config: string;
  let dist: string;

  before(async () => {
    dist = await builtDist();
    dir = mkdtempSync(join(tmpdir(), 'offhook-gwpool-'));
    config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      stringify({
        gateway_host: 'gw1',
        nats: { servers: [server.url], prefix: 'pool' },
        state_dir: speechStateDir,
        metrics_listen: '127.0.0.1:0',
        line: { backend: 'sim', sim: { speed: 100 } },
        people: [{ name: 'alice', number: '100' }],
      }),
    );
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** `via`: the installed launcher (dist/offhook, a shell script that execs node) or the development entry. */
  function startGateway(pool: string | undefined, via: 'launcher' | 'offhook.mjs'): ChildProcess {
    const env: NodeJS.ProcessEnv = { ...process.env, OFFHOOK_LOG_LEVEL: 'info' };
    delete env.UV_THREADPOOL_SIZE;
    if (pool !== undefined) env.UV_THREADPOOL_SIZE = pool;
    const [command, args] = via === 'launcher' ? [join(dist, 'offhook'), []] : [process.execPath, ['offhook.mjs']];
    const child = spawnTracked(command, [...args, 'gateway', '--config', config], { env });
    const output: string[] = [];
    child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    logs.set(child, output);
    return child;
  }
  const logs = new Map<ChildProcess, string[]>();
  async function started(child: ChildProcess): Promise<{ logged: number; metric: number }> {
    await waitForOutput(child, /"msg":"gateway started"/, 30_000);
    const text = logs.get(child)!.join('');
    const metrics = String(
      (JSON.parse(/^.*"msg":"gateway started".*$/m.exec(text)![0]) as { metrics: string }).metrics,
    );
    return {
      logged: Number(/"uvThreadpoolSize":(\d+)/.exec(text)?.[1]),
      metric: await scrapeSum(
        `${metrics.replace(/\/(metrics)?$/, '')}/metrics`,
        'offhook_gateway_libuv_threadpool_size',
      ),
    };
  }

  it('reads UV_THREADPOOL_SIZE as libuv does', () => {
    assert.deepEqual(
      [
        libuvPoolSize(undefined),
        libuvPoolSize(''),
        libuvPoolSize('16'),
        libuvPoolSize('0'),
        libuvPoolSize('5000'),
        libuvPoolSize('x'),
      ],
      [4, 4, 16, 1, 1024, 1],
    );
  });

  it('the launcher starts `offhook gateway` as one process with 16 pool threads, stopping cleanly', async () => {
    const child = startGateway(undefined, 'launcher');
    const output = logs.get(child)!;
    assert.deepEqual(await started(child), { logged: 16, metric: 16 });
    assert.equal(readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim(), 'node', 'the launcher exec()s node: same pid');
    assert.deepEqual(children(child.pid!), [], 'no relay child: a killed gateway leaves nothing holding the line');
    // The pool is really that big: 16 libuv threads plus the main and V8's threads (the default pool gives about 10 in
    // all).
    assert.ok(threads(child.pid!) >= 17, `only ${threads(child.pid!)} threads`);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(output.join(''), /"msg":"gateway stopped"/);
  });

  it("the launcher keeps the operator's UV_THREADPOOL_SIZE", async () => {
    const child = startGateway('6', 'launcher');
    assert.deepEqual(await started(child), { logged: 6, metric: 6 });
    // The same count as above tells the pool sizes apart: 6 libuv threads leave it below 17.
    assert.ok(threads(child.pid!) < 17, `${threads(child.pid!)} threads with a pool of 6`);
    await killAndWait(child, 'SIGTERM');
  });

  it('started without the variable (node offhook.mjs in development) it runs in one process and warns', async () => {
    const child = startGateway(undefined, 'offhook.mjs');
    assert.deepEqual(await started(child), { logged: 4, metric: 4 });
    assert.deepEqual(children(child.pid!), []);
    assert.match(logs.get(child)!.join(''), /"msg":"small libuv thread pool: set UV_THREADPOOL_SIZE=16/);
    await killAndWait(child, 'SIGTERM');
  });
});
