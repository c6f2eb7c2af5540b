import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { hangUp } from '../helpers/reload.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/service/reloading.ts', import.meta.url));

interface Run {
  child: ChildProcess;
  write: (text: string) => void;
  stdout: () => string;
  exited: Promise<number | null>;
}

/** The `msg` of every JSON log line, in order. */
function messages(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe('runService: reload on SIGHUP (shared/reload-service.ts, fixture service)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-reload-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Starts the fixture on a config file holding `text` (tracked, killed by PID if a test fails); once it is up. */
  async function service(name: string, text: string): Promise<Run> {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, text);
    const child = spawnTracked(process.execPath, ['--import', 'tsx', FIXTURE, file], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    await waitForOutput(child, /"msg":"svc up"/);
    return { child, write: (t) => writeFileSync(file, t), stdout: () => stdout, exited };
  }

  it('SIGHUPs during a reload make one more reload after it, which applies the last edit', async () => {
    const run = await service('overlap', 'slow-stop a');
    run.write('slow-stop b');
    await hangUp(run.child, /"msg":"config changed/);
    run.write('c');
    await hangUp(run.child, /"msg":"SIGHUP during a reload/);
    await hangUp(run.child, /"msg":"SIGHUP during a reload/);
    const bothDone = waitForOutput(run.child, /"text":"c","msg":"svc up"/);
    run.child.stdin!.write('stop a\n');
    await waitForOutput(run.child, /"text":"slow-stop b","msg":"svc up"/);
    run.child.stdin!.write('stop b\n');
    await bothDone;
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
    const log = messages(run.stdout());
    assert.equal(log.filter((m) => m === 'SIGHUP: reloading the config').length, 2, log.join('\n'));
    assert.equal(log.filter((m) => m === 'svc up').length, 3);
  });

  it('a service that refuses the restart (a call on the line) keeps its config; the refusal is logged', async () => {
    const run = await service('busy', 'busy a');
    run.write('busy b');
    const [refused] = await hangUp(run.child, /"msg":"config reload refused/);
    assert.match(refused!.input, /the line is busy/);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
    assert.equal(messages(run.stdout()).filter((m) => m === 'svc up').length, 1);
  });

  it('a new config that does not start ends the process with 1, saying systemd restarts it', async () => {
    const run = await service('fails', 'a');
    run.write('start-fails');
    process.kill(run.child.pid!, 'SIGHUP');
    assert.equal(await run.exited, 1);
    assert.match(run.stdout(), /"msg":"svc did not start again on the reloaded config: exiting 1 so that systemd/);
  });

  it("SIGTERM during a reload's stop ends the process 0 once that stop is done, starting nothing", async () => {
    const run = await service('term', 'slow-stop a');
    run.write('b');
    await hangUp(run.child, /"msg":"config changed/);
    const stopping = waitForOutput(run.child, /"msg":"svc stopping"/);
    run.child.kill('SIGTERM');
    await stopping;
    run.child.stdin!.write('stop a\n');
    assert.equal(await run.exited, 0);
    assert.equal(messages(run.stdout()).filter((m) => m === 'svc up').length, 1);
  });
});
