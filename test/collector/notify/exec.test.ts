import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oneLine } from '../../../collector/notify/text.ts';
import { batchOf, createNotifier, HOSTILE_SUMMARY, makeAlert, neverAborted } from './helpers.ts';

async function until(condition: () => boolean, what: string, boundMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > boundMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Gone, or a zombie waiting for init: either way no longer running. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('notifiers: exec runs a real command from an argument vector', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-exec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the batch JSON on stdin and OFFHOOK_* variables, with only the configured environment', async () => {
    const out = join(dir, 'stdin.json');
    const env = join(dir, 'env');
    const notifier = createNotifier('exec', {
      command: ['/bin/sh', '-c', 'cat > "$1"; env > "$2"', 'lamp', out, env],
      env: { LAMP_PORT: '/dev/ttyS0' },
    });
    const alert = makeAlert();
    process.env.OFFHOOK_TEST_COLLECTOR_SECRET = 'not for scripts';
    try {
      assert.deepEqual(await notifier.notify(batchOf([alert], 'flapping'), neverAborted()), { ok: true });
    } finally {
      delete process.env.OFFHOOK_TEST_COLLECTOR_SECRET;
    }
    const payload = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(payload.version, '4');
    assert.equal(payload.reason, 'flapping');
    assert.equal(payload.alerts[0].fingerprint, alert.fingerprint);
    const vars = Object.fromEntries(
      readFileSync(env, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(vars.OFFHOOK_SEVERITY, 'critical');
    assert.equal(vars.OFFHOOK_HOST, 'web1');
    assert.equal(vars.OFFHOOK_RULE, 'disk_full');
    assert.equal(vars.OFFHOOK_REASON, 'flapping');
    assert.equal(vars.OFFHOOK_STATUS, 'firing');
    assert.equal(vars.OFFHOOK_ALERT_COUNT, '1');
    assert.equal(vars.OFFHOOK_FINGERPRINT, alert.fingerprint);
    assert.equal(vars.LAMP_PORT, '/dev/ttyS0');
    assert.equal(vars.OFFHOOK_TEST_COLLECTOR_SECRET, undefined);
    assert.ok(vars.PATH);
  });

  it('never lets a hostile summary reach a shell: verbatim in JSON, one line in the environment', async () => {
    const marker = '/tmp/offhook-pwned';
    rmSync(marker, { force: true });
    const out = join(dir, 'stdin.json');
    const said = join(dir, 'summary');
    const notifier = createNotifier('exec', {
      command: ['/bin/sh', '-c', 'cat > "$1"; printf %s "$OFFHOOK_SUMMARY" > "$2"', 'lamp', out, said],
    });
    assert.deepEqual(await notifier.notify(batchOf([makeAlert({ summary: HOSTILE_SUMMARY })]), neverAborted()), {
      ok: true,
    });
    assert.equal(JSON.parse(readFileSync(out, 'utf8')).alerts[0].annotations.summary, HOSTILE_SUMMARY);
    assert.equal(readFileSync(said, 'utf8'), oneLine(HOSTILE_SUMMARY, 1000));
    assert.equal(existsSync(marker), false, 'the $(...) in the summary ran');
  });

  it('exit 75 (EX_TEMPFAIL) is retryable, other failures are not, a missing program is not', async () => {
    const tempfail = await createNotifier('exec', { command: ['/bin/sh', '-c', 'echo busy >&2; exit 75'] }).notify(
      batchOf([makeAlert()]),
      neverAborted(),
    );
    assert.deepEqual(tempfail, { ok: false, retry: true, error: '/bin/sh exited 75: busy' });
    const failed = await createNotifier('exec', { command: ['/bin/sh', '-c', 'exit 3'] }).notify(
      batchOf([makeAlert()]),
      neverAborted(),
    );
    assert.deepEqual(failed, { ok: false, retry: false, error: '/bin/sh exited 3' });
    const missing = await createNotifier('exec', { command: [join(dir, 'no-such-program')] }).notify(
      batchOf([makeAlert()]),
      neverAborted(),
    );
    assert.equal(missing.ok, false);
    assert.equal((missing as { retry: boolean }).retry, false);
  });

  it('on timeout kills the whole process group, children included', async () => {
    const pidFile = join(dir, 'pid');
    const controller = new AbortController();
    const notifier = createNotifier('exec', {
      command: ['/bin/sh', '-c', 'sleep 60 & echo $! > "$1"; wait', 'lamp', pidFile],
    });
    const pending = notifier.notify(batchOf([makeAlert()]), controller.signal);
    await until(
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'),
      'the command to start its child',
    );
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(running(grandchild));
    controller.abort(new Error('timed out'));
    const outcome = await pending;
    assert.equal(outcome.ok, false);
    assert.equal((outcome as { retry: boolean }).retry, true);
    assert.match((outcome as { error: string }).error, /killed by SIGTERM \(timeout\)/);
    await until(() => !running(grandchild), 'the grandchild to die');
  });
});
