import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/service/service.ts', import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts the fixture service as a real child process (tracked, killed by PID if a test fails). */
function service(mode: string, deadlineMs = 600_000): Run {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', FIXTURE, mode, String(deadlineMs)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The `msg` of every JSON log line, in order. */
function messages(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe('runService: one lifecycle for agent, collector and gateway (shared/run-service.ts)', function () {
  this.timeout(60_000);

  it('SIGTERM stops the service and exits 0, logging start, stop and exit', async () => {
    const run = service('ok');
    await waitForOutput(run.child, /"msg":"svc up"/);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.stderr());
    assert.deepEqual(messages(run.stdout()), [
      'svc starting',
      'svc up',
      'svc stopping',
      'svc stopped by the service',
      'svc exiting',
    ]);
    assert.match(run.stdout(), /"signal":"SIGTERM"/);
  });

  it('a stop still running at the deadline exits 1 and says so', async () => {
    const run = service('hang', 200);
    await waitForOutput(run.child, /"msg":"svc up"/);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 1);
    assert.match(run.stdout(), /"msg":"svc did not stop within its deadline: exiting anyway"/);
  });

  it('a second SIGTERM during the stop exits 1 at once', async () => {
    const run = service('hang');
    await waitForOutput(run.child, /"msg":"svc up"/);
    run.child.kill('SIGTERM');
    await waitForOutput(run.child, /"msg":"svc stopping"/);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 1);
    assert.match(run.stdout(), /"msg":"second SIGTERM: exiting without finishing the stop"/);
  });

  it("SIGINT then SIGTERM (a terminal's Ctrl-C, then a supervisor) is one request: the stop ends, exit 0", async () => {
    const run = service('wait-stop');
    await waitForOutput(run.child, /"msg":"svc up"/);
    run.child.kill('SIGINT');
    await waitForOutput(run.child, /"msg":"svc stopping"/);
    run.child.kill('SIGTERM');
    await waitForOutput(run.child, /"msg":"already stopping"/);
    run.child.stdin!.write('done\n');
    assert.equal(await run.exited, 0, run.stderr());
    assert.ok(messages(run.stdout()).includes('svc stopped by the service'));
  });

  it('a signal during the start stops the service once it is up, exit 0', async () => {
    const run = service('slow-start');
    await waitForOutput(run.child, /"msg":"svc starting"/);
    run.child.kill('SIGTERM');
    await waitForOutput(run.child, /"msg":"svc stopping"/);
    run.child.stdin!.write('go\n');
    assert.equal(await run.exited, 0, run.stderr());
    assert.deepEqual(messages(run.stdout()).slice(-3), ['svc up', 'svc stopped by the service', 'svc exiting']);
  });

  it('a config error exits 2 with the problem on stderr, before anything starts', async () => {
    const run = service('bad-config');
    assert.equal(await run.exited, 2);
    assert.equal(run.stderr(), 'svc.yaml: rules: expected an array, got "x"\n');
    assert.equal(run.stdout(), '', 'no logger, no start');
  });

  it('a start that fails exits 1 with one line naming the file', async () => {
    const run = service('start-fails');
    assert.equal(await run.exited, 1);
    assert.equal(run.stderr(), 'svc.yaml: svc did not start: listen EADDRINUSE 127.0.0.1:9\n');
    assert.match(run.stdout(), /"msg":"svc did not start"/);
  });

  it('a stop that fails exits 1', async () => {
    const run = service('stop-fails');
    await waitForOutput(run.child, /"msg":"svc up"/);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 1);
    assert.match(run.stdout(), /"message":"could not flush".*"msg":"svc did not stop cleanly"/);
  });
});
