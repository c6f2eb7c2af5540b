import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { agentConfigProblems, tempDir, writeConfig } from './helpers.ts';

async function run(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawnTracked('node', ['offhook.mjs', ...args]);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

describe('agent config', () => {
  it('accepts the commented example through `offhook check-config`', async () => {
    const { code, output } = await run(['check-config', 'deploy/examples/agent.yaml']);
    assert.equal(code, 0, output);
    assert.match(output, /agent\.yaml: OK \(agent config\)/);
  });

  it('names the field, the expectation and the value', () => {
    const lines = agentConfigProblems(
      'checks:\n  - { name: a, kind: tcp }\n  - { name: b, kind: tcp, port: eighty }\n  - { name: c, kind: htp }\n',
    );
    assert.deepEqual(lines, [
      'checks[0].port: expected integer 1-65535, got nothing',
      'checks[1].port: expected integer 1-65535, got "eighty"',
      `checks[2].kind: expected kind: one of tcp, http, https, ssh, ftp, smtp, pop3, imap, telnet, ` +
        `dns, mysql, apache, process, nagios, got "htp"`,
    ]);
  });

  it('names the rule whose regex is broken', () => {
    const lines = agentConfigProblems(
      'logs:\n  - path: /var/log/x\n    rules:\n      - { name: ok, pattern: ' +
        "'a+' }\n      - { name: oom-rule, pattern: 'Killed (' }\n",
    );
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^logs\[0\]\.rules\[1\]\.pattern: expected a valid regular expression in rule "oom-rule"/);
  });

  it('rejects duplicate check names, capture of a missing group, relative log paths and unknown fields', () => {
    assert.deepEqual(
      agentConfigProblems('checks:\n  - { name: a, kind: tcp, port: 1 }\n  - { name: a, kind: tcp, port: 2 }\n'),
      ['checks[1].name: expected a unique check name; "a" is also checks[0], got "a"'],
    );
    assert.match(
      agentConfigProblems(
        "logs:\n  - path: /x\n    rules: [{ name: r, pattern: 'pid=(?<pid>\\d+)', capture: [comm] }]\n",
      )[0]!,
      /logs\[0\]\.rules\[0\]\.capture: .*\(\?<comm>/,
    );
    assert.match(
      agentConfigProblems('logs:\n  - path: x.log\n    rules: [{ name: r, pattern: a }]\n')[0]!,
      /^logs\[0\]\.path: expected an absolute path/,
    );
    assert.match(
      agentConfigProblems('checks:\n  - { name: a, kind: tcp, port: 1, prot: 2 }\n')[0]!,
      /^checks\[0\]: unknown field "prot"/,
    );
    assert.match(agentConfigProblems('spool: { max_bytes: lots }\n')[0]!, /^spool\.max_bytes: expected a size like/);
    assert.match(agentConfigProblems('host: "web 1"\n')[0]!, /^host: expected a host name of letters, digits/);
    assert.deepEqual(agentConfigProblems('heartbeat_interval: 0s\n'), [
      'heartbeat_interval: expected a duration of at least 100ms, got "0s"',
    ]);
    assert.match(
      agentConfigProblems('checks:\n  - { name: m, kind: smtp, tls: true, starttls: true }\n')[0]!,
      /^checks\[0\]\.starttls: expected either tls: \(implicit TLS\) or starttls:, not both/,
    );
  });

  it('`offhook agent --once` runs every check once, prints the results and exits with the worst status', async () => {
    const dir = tempDir();
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const open = (server.address() as AddressInfo).port;
    try {
      const okOnly = writeConfig(
        dir.path,
        { resources: { enabled: false }, checks: [{ name: 'open-port', kind: 'tcp', port: open }] },
        'ok-agent.yaml',
      );
      const ok = await run(['agent', '--config', okOnly, '--once']);
      assert.equal(ok.code, 0, ok.output);
      assert.match(ok.output, /^OK\s+open-port\s+tcp\s+[\d.]+ ms\s+connected in/m);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const failing = await run(['agent', '--config', okOnly, '--once']);
      assert.equal(failing.code, 2, failing.output);
      assert.match(failing.output, /^CRITICAL\s+open-port\s+tcp\s+-\s+tcp:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/m);
    } finally {
      server.close();
      dir.remove();
    }
  });

  it('`offhook agent` exits 1 naming state_dir or metrics_listen when it cannot use them', async () => {
    const dir = tempDir();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      writeFileSync(join(dir.path, 'a-file'), '');
      const badDir = writeConfig(dir.path, {
        state_dir: join(dir.path, 'a-file', 'state'),
        resources: { enabled: false },
      });
      const first = await run(['agent', '--config', badDir]);
      assert.equal(first.code, 1);
      assert.match(first.output, /agent\.yaml: state_dir .*a-file\/state: ENOTDIR/);
      const busyPort = writeConfig(dir.path, {
        state_dir: join(dir.path, 'state'),
        resources: { enabled: false },
        nats: { servers: ['nats://127.0.0.1:1'] },
      });
      const second = await run([
        'agent',
        '--config',
        busyPort,
        '--metrics-listen',
        `127.0.0.1:${(taken.address() as AddressInfo).port}`,
      ]);
      assert.equal(second.code, 1);
      assert.match(second.output, /agent\.yaml: metrics_listen 127\.0\.0\.1:\d+: listen EADDRINUSE/);
    } finally {
      taken.close();
      dir.remove();
    }
  });

  it('a second agent on the same state_dir refuses to start; a stale lock is taken over', async () => {
    const dir = tempDir();
    const file = writeConfig(dir.path, {
      state_dir: join(dir.path, 'state'),
      metrics_listen: '127.0.0.1:0',
      resources: { enabled: false },
      nats: { servers: ['nats://127.0.0.1:1'] },
    });
    const first = spawnTracked('node', ['offhook.mjs', 'agent', '--config', file]);
    try {
      await waitForOutput(first, /"msg":"agent started"/);
      const second = await run(['agent', '--config', file]);
      assert.equal(second.code, 1);
      assert.match(
        second.output,
        new RegExp(`agent\\.yaml: state_dir: state_dir .* is in use by another agent \\(pid ${first.pid}\\)`),
      );
    } finally {
      await killAndWait(first, 'SIGKILL');
    }
    try {
      // The SIGKILLed agent left its pid file behind: the next start takes it over.
      const third = spawnTracked('node', ['offhook.mjs', 'agent', '--config', file]);
      await waitForOutput(third, /"msg":"agent started"/);
      await killAndWait(third, 'SIGTERM');
      assert.equal(third.exitCode, 0);
    } finally {
      dir.remove();
    }
  });

  it("`offhook agent` exits 2 with check-config's error on a bad config; 3 (Nagios UNKNOWN) under --once", async () => {
    const dir = tempDir();
    try {
      const file = writeConfig(dir.path, { checks: [{ name: 'x', kind: 'http', url: 'ftp://nope' }] });
      const { code, output } = await run(['agent', '--config', file]);
      assert.equal(code, 2);
      assert.match(
        output,
        /agent\.yaml: checks\[0\]\.url: expected an http:\/\/ or https:\/\/ URL, got "ftp:\/\/nope"/,
      );
      const once = await run(['agent', '--once', '--config', file]);
      assert.equal(once.code, 3, once.output);
      assert.match(once.output, /agent\.yaml: checks\[0\]\.url: expected an http/);
      const badFlag = await run(['agent', '--config', file, '--metrics-listen', 'nowhere']);
      assert.equal(badFlag.code, 2, badFlag.output);
    } finally {
      dir.remove();
    }
  });

  it('`offhook check-config` accepts a backtracking-prone rule (run on a budget), refuses backreferences', async () => {
    const dir = tempDir();
    try {
      const file = writeConfig(dir.path, {
        logs: [
          {
            path: '/var/log/x',
            rules: [
              { name: 'mine', pattern: '^(a|aa)+$' },
              { name: 'twice', pattern: '(\\w+) \\1' },
            ],
          },
        ],
      });
      const { code, output } = await run(['check-config', file]);
      assert.equal(code, 2, 'a config error exits 2');
      const problem = 'backreferences are not supported (linear-time engine); rewrite without \\1';
      assert.ok(output.includes(`agent.yaml: logs[0].rules[1].pattern: ${problem}`), output);
      assert.doesNotMatch(output, /rules\[0\]/);
    } finally {
      dir.remove();
    }
  });
});
