import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { MetricPoint } from '../../shared/index.ts';
import { runPlugin, pluginEnv } from '../../agent/checks/nagios/run-plugin.ts';
import { until } from '../helpers/wait.ts';
import { probe, tcpServer } from './probe-helpers.ts';
import { tempDir } from './helpers.ts';

const PLUGINS = '/usr/lib/nagios/plugins';

function metric(metrics: MetricPoint[] | undefined, name: string): MetricPoint {
  const found = metrics?.find((m) => m.name === name);
  assert.ok(found, `${name} in ${metrics?.map((m) => m.name).join(', ')}`);
  return found;
}

/** A process is gone once /proc has no entry or only a zombie waiting for its parent. */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return true;
  }
}

describe('nagios check', () => {
  const dir = tempDir('offhook-nagios-');
  const script = (name: string, body: string, mode = 0o755): string => {
    const file = join(dir.path, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, mode);
    return file;
  };
  after(() => dir.remove());

  describe("Debian's monitoring-plugins", () => {
    let http: Server;
    let httpPort: number;
    before(async () => {
      http = createServer((req, res) =>
        req.url === '/broken' ? res.writeHead(500).end('oops') : res.end('hello world'),
      );
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      httpPort = (http.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((resolve) => http.close(() => resolve())));

    it('check_load: OK, load gauges with their thresholds', async () => {
      const result = await probe({
        kind: 'nagios',
        command: ['check_load', '-w', '1000,1000,1000', '-c', '2000,2000,2000'],
      });
      assert.equal(result.status, 'ok', result.message);
      assert.match(result.message, /^LOAD OK - total load average: /);
      assert.equal(result.target, 'check_load');
      const load1 = metric(result.metrics, 'nagios_load1');
      assert.deepEqual(load1.labels, { check: 'probe', label: 'load1' });
      assert.ok(load1.value >= 0);
      assert.equal(metric(result.metrics, 'nagios_load1_warn').value, 1000);
      assert.equal(metric(result.metrics, 'nagios_load15_crit').value, 2000);
      assert.equal(metric(result.metrics, 'offhook_nagios_perfdata_errors').value, 0);
    });

    it('check_disk: bytes, the size of / as max; critical when its threshold says so', async () => {
      const ok = await probe({ kind: 'nagios', command: [`${PLUGINS}/check_disk`, '-w', '0%', '-c', '0%', '-p', '/'] });
      assert.equal(ok.status, 'ok', ok.message);
      const fs = statfsSync('/');
      const size = metric(ok.metrics, 'nagios___max');
      // check_disk sizes the file system from its own mount table entry; within 0.1 % of statfs.
      assert.ok(
        Math.abs(size.value - fs.blocks * fs.bsize) < fs.blocks * fs.bsize * 0.001,
        `${size.value} vs ${fs.blocks * fs.bsize}`,
      );
      assert.deepEqual(size.labels, { check: 'probe', label: '/', unit: 'bytes' });
      assert.ok(metric(ok.metrics, 'nagios__').value > 0);
      const full = await probe({ kind: 'nagios', command: ['check_disk', '-w', '100%', '-c', '100%', '-p', '/'] });
      assert.equal(full.status, 'critical', full.message);
      assert.match(full.message, /^DISK CRITICAL/);
    });

    it('check_tcp: response time in seconds; a closed port is critical', async () => {
      const server = await tcpServer((socket) => socket.end());
      try {
        const ok = await probe({
          kind: 'nagios',
          command: ['check_tcp', '-H', '127.0.0.1', '-p', String(server.port)],
        });
        assert.equal(ok.status, 'ok', ok.message);
        assert.match(ok.message, new RegExp(`^TCP OK - .* port ${server.port}`));
        const time = metric(ok.metrics, 'nagios_time');
        assert.equal(time.labels!.unit, 'seconds');
        assert.ok(time.value >= 0 && time.value < metric(ok.metrics, 'nagios_time_max').value);
      } finally {
        await server.close();
      }
      const refused = await probe({
        kind: 'nagios',
        command: ['check_tcp', '-H', '127.0.0.1', '-p', String(server.port)],
      });
      assert.equal(refused.status, 'critical');
      assert.match(refused.message, /Connection refused/);
    });

    it('check_http against a local server: OK with time and size; HTTP 500 is critical', async () => {
      const ok = await probe({
        kind: 'nagios',
        command: ['check_http', '-H', '127.0.0.1', '-p', String(httpPort), '-u', '/health', '-s', 'hello'],
      });
      assert.equal(ok.status, 'ok', ok.message);
      assert.match(ok.message, /^HTTP OK: HTTP\/1\.1 200 OK/);
      assert.equal(metric(ok.metrics, 'nagios_time').labels!.unit, 'seconds');
      const size = metric(ok.metrics, 'nagios_size');
      assert.equal(size.labels!.unit, 'bytes');
      assert.ok(size.value > 'hello world'.length, 'headers and body');
      const broken = await probe({
        kind: 'nagios',
        command: ['check_http', '-H', '127.0.0.1', '-p', String(httpPort), '-u', '/broken'],
      });
      assert.equal(broken.status, 'critical');
      assert.match(broken.message, /500/);
    });
  });

  describe('plugins that misbehave', () => {
    it('maps exit codes 0-3 to states; any other code is UNKNOWN saying so', async () => {
      const plugin = script('exit-with', 'echo "STATE $1 | v=$1"; exit $1');
      const statuses = [];
      for (const code of ['0', '1', '2', '3', '4', '255'])
        statuses.push((await probe({ kind: 'nagios', command: [plugin, code] })).status);
      assert.deepEqual(statuses, ['ok', 'warning', 'critical', 'unknown', 'unknown', 'unknown']);
      const odd = await probe({ kind: 'nagios', command: [plugin, '4'] });
      assert.equal(odd.message, 'exit-with exited with 4, not a Nagios state (0-3): STATE 4');
    });

    it('uses stderr when stdout is empty, and "(no output)" when both are', async () => {
      const stderrOnly = await probe({
        kind: 'nagios',
        command: [script('stderr-only', 'echo "cannot read config" >&2; exit 2')],
      });
      assert.deepEqual([stderrOnly.status, stderrOnly.message], ['critical', 'cannot read config']);
      const silent = await probe({ kind: 'nagios', command: [script('silent', 'exit 1')] });
      assert.deepEqual([silent.status, silent.message], ['warning', '(no output)']);
    });

    it('a hanging plugin is UNKNOWN at its timeout and its whole process group is killed', async () => {
      const plugin = script(
        'hang',
        `sleep 600 &\necho $! > "$1/hang-child.pid"\necho $$ > "$1/hang-main.pid"\necho "WAITING forever"\nwait`,
      );
      const result = await probe({ kind: 'nagios', command: [plugin, dir.path], timeout: '1s' });
      assert.equal(result.status, 'unknown');
      assert.equal(result.failure, null, 'the check answered, not the scheduler');
      assert.equal(result.message, 'hang did not finish within 1s (timeout); process group killed: WAITING forever');
      for (const file of ['hang-main.pid', 'hang-child.pid']) {
        const pid = Number(readFileSync(join(dir.path, file), 'utf8'));
        await until(() => gone(pid), `${file} (${pid}) to die`);
      }
    });

    it('a plugin that floods stdout or stderr is killed at max_output', async () => {
      const stdout = await probe({ kind: 'nagios', command: ['yes', 'FLOOD'], timeout: '20s' });
      assert.equal(stdout.status, 'unknown');
      assert.equal(stdout.message, 'yes printed more than 64 KiB (max_output); process group killed: FLOOD');
      const stderr = await probe({
        kind: 'nagios',
        command: [script('flood-stderr', 'echo "CRITICAL - starting"; yes ERROR >&2')],
        max_output: '4KiB',
        timeout: '20s',
      });
      assert.equal(stderr.status, 'unknown');
      assert.match(
        stderr.message,
        /^flood-stderr printed more than 4 KiB \(max_output\); process group killed: CRITICAL - starting$/,
      );
    });

    it('a background child left behind does not hold the check open, and is killed', async () => {
      const plugin = script('forgetful', `sleep 600 &\necho $! > "$1/forgotten.pid"\necho "OK - done | x=1"`);
      const result = await probe({ kind: 'nagios', command: [plugin, dir.path], timeout: '20s' });
      assert.equal(result.status, 'ok', result.message);
      assert.equal(result.message, 'OK - done');
      const pid = Number(readFileSync(join(dir.path, 'forgotten.pid'), 'utf8'));
      await until(() => gone(pid), 'the forgotten sleep to die');
    });

    it('a daemon that escapes the group and holds stdout costs time, not the result', async () => {
      const plugin = script(
        'escapes',
        `setsid sh -c 'echo $$ > "$0"; exec sleep 600' "$1/escaped.pid" &\nwhile [ ! -s ` +
          `"$1/escaped.pid" ]; do :; done\necho "WARNING - started a daemon"\nexit 1`,
      );
      try {
        const result = await probe({ kind: 'nagios', command: [plugin, dir.path], timeout: '1s' });
        assert.deepEqual(
          [result.status, result.message, result.failure],
          ['warning', 'WARNING - started a daemon', null],
        );
      } finally {
        process.kill(Number(readFileSync(join(dir.path, 'escaped.pid'), 'utf8')), 'SIGKILL');
      }
    });

    it('a crash (signal) is UNKNOWN naming the signal', async () => {
      const result = await probe({ kind: 'nagios', command: [script('segv', 'echo "about to crash"; kill -SEGV $$')] });
      assert.equal(result.status, 'unknown');
      assert.equal(result.message, 'segv was killed by SIGSEGV: about to crash');
    });

    it('binary garbage becomes a clean message; the check still reports', async () => {
      const bytes = Buffer.alloc(8192);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) % 256;
      writeFileSync(join(dir.path, 'garbage.bin'), bytes);
      const result = await probe({ kind: 'nagios', command: ['cat', join(dir.path, 'garbage.bin')] });
      assert.equal(result.status, 'ok');
      assert.ok(result.message.length > 0 && result.message.length <= 2000);
      assert.doesNotMatch(result.message, /[\u0000-\u001f\u007f\ufffd]/);
    });

    it('a missing command, exit 127 and a file without x bit are UNKNOWN naming the command', async () => {
      const missing = await probe({ kind: 'nagios', command: ['/usr/lib/nagios/plugins/check_nothing_here'] });
      assert.equal(missing.status, 'unknown');
      assert.equal(
        missing.message,
        'command not found: /usr/lib/nagios/plugins/check_nothing_here: ' +
          'no such file (or its #! interpreter is missing)',
      );
      const notOnPath = await probe({ kind: 'nagios', command: ['check_nothing_here'] });
      assert.match(
        notOnPath.message,
        /^command not found: check_nothing_here: not on PATH \/usr\/local\/sbin:.*:\/usr\/lib\/nagios\/plugins/,
      );
      const wrapper = await probe({ kind: 'nagios', command: [script('wrapper', 'exec check_nothing_here')] });
      assert.equal(wrapper.status, 'unknown');
      assert.match(wrapper.message, /^wrapper: command not found \(exit 127\): .*check_nothing_here: not found/);
      const notExecutable = await probe({ kind: 'nagios', command: [script('no-x-bit', 'exit 0', 0o644)] });
      assert.equal(notExecutable.status, 'unknown');
      assert.match(notExecutable.message, /^cannot execute .*no-x-bit: permission denied/);
    });

    it('broken perfdata costs only the broken items, counted and named in the message', async () => {
      const result = await probe({
        kind: 'nagios',
        command: [script('bad-perf', `echo "OK - fine | good=1s bad=abc"`)],
      });
      assert.equal(result.status, 'ok');
      assert.equal(result.message, 'OK - fine [perfdata ignored: "bad=abc": value "abc" is not a number or U]');
      assert.equal(metric(result.metrics, 'nagios_good').value, 1);
      assert.equal(metric(result.metrics, 'offhook_nagios_perfdata_errors').value, 1);
    });
  });

  describe('environment and stopping', () => {
    it('gives the plugin PATH, LANG=C and the configured variables, nothing of the agent', async () => {
      process.env.OFFHOOK_NAGIOS_TEST_SECRET = 'agent-secret';
      try {
        const result = await runPlugin({
          command: ['env'],
          env: pluginEnv({ PGPASSFILE: '/etc/offhook/pgpass' }),
          deadlineMs: 10_000,
          maxOutputBytes: 65536,
        });
        assert.deepEqual(result.end, { kind: 'exited', code: 0 });
        assert.deepEqual(result.stdout.trim().split('\n').sort(), [
          'LANG=C',
          `PATH=${[
            '/usr/local/sbin',
            '/usr/local/bin',
            '/usr/sbin',
            '/usr/bin',
            '/sbin',
            '/bin',
            '/usr/lib/nagios/plugins',
            '/usr/lib64/nagios/plugins',
          ].join(':')}`,
          'PGPASSFILE=/etc/offhook/pgpass',
        ]);
      } finally {
        delete process.env.OFFHOOK_NAGIOS_TEST_SECRET;
      }
      const configured = await probe({
        kind: 'nagios',
        command: ['printenv', 'GREETING'],
        env: { GREETING: 'OK - hello' },
      });
      assert.equal(configured.message, 'OK - hello');
    });

    it('an agent stopping (abort) kills the running plugin', async () => {
      const plugin = script('slow', 'echo $$ > "$1/slow.pid"\nexec sleep 600');
      const controller = new AbortController();
      const running = runPlugin({
        command: [plugin, dir.path],
        env: pluginEnv({}),
        deadlineMs: 60_000,
        maxOutputBytes: 65536,
        signal: controller.signal,
      });
      const pidFile = join(dir.path, 'slow.pid');
      await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 'the plugin to start');
      controller.abort();
      const result = await running;
      assert.deepEqual(result.end, { kind: 'aborted' });
      const pid = Number(readFileSync(pidFile, 'utf8'));
      await until(() => gone(pid), 'the plugin to die');
    });
  });
});
