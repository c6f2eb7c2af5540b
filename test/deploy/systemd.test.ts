import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseUnitFile, value } from './lib/unit-file.ts';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const UNITS = join(REPO, 'deploy/systemd');
const PROCESSES = [
  { unit: 'offhook-agent.service', command: 'agent', config: 'agent.yaml' },
  { unit: 'offhook-collector.service', command: 'collector', config: 'collector.yaml' },
  { unit: 'offhook-gateway.service', command: 'gateway', config: 'gateway.yaml' },
];

function hasSystemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('deploy/systemd units', function () {
  for (const { unit, command, config } of PROCESSES) {
    describe(unit, function () {
      const parsed = parseUnitFile(join(UNITS, unit));
      const service = (key: string): string | undefined => value(parsed, 'Service', key);

      it(`runs /usr/bin/offhook ${command} (the packaged launcher) as user offhook, restarting always`, function () {
        assert.equal(service('ExecStart'), `/usr/bin/offhook ${command} --config /etc/offhook/${config}`);
        assert.equal(service('ExecStartPre'), `/usr/bin/offhook check-config --kind ${command} /etc/offhook/${config}`);
        // SIGHUP reloads the config in-process (shared/reload-service.ts), as `systemctl reload` expects.
        assert.equal(service('ExecReload'), '/bin/kill -HUP $MAINPID');
        assert.equal(service('User'), 'offhook');
        assert.equal(service('Group'), 'offhook');
        assert.equal(service('Restart'), 'always');
        assert.match(service('RestartSec') ?? '', /^\d+s$/);
        assert.equal(value(parsed, 'Unit', 'StartLimitIntervalSec'), '0', 'a monitoring process never stops retrying');
        assert.equal(service('StateDirectory'), `offhook/${command}`);
        assert.equal(service('LimitNOFILE'), '65536');
        assert.equal(value(parsed, 'Install', 'WantedBy'), 'multi-user.target');
      });

      it('is hardened', function () {
        for (const [key, expected] of [
          ['NoNewPrivileges', 'yes'],
          ['ProtectSystem', 'strict'],
          ['PrivateTmp', 'yes'],
          ['ProtectKernelTunables', 'yes'],
          ['ProtectKernelModules', 'yes'],
          ['ProtectControlGroups', 'yes'],
          ['RestrictSUIDSGID', 'yes'],
          ['LockPersonality', 'yes'],
          ['CapabilityBoundingSet', ''],
          ['SystemCallFilter', '@system-service'],
          ['SystemCallErrorNumber', 'EPERM'],
        ] as const) {
          assert.equal(service(key), expected, `${unit}: ${key}=${expected}`);
        }
        // The agent statfs()es the host's filesystems, /home included (agent/README.md): read-only, not hidden.
        assert.equal(service('ProtectHome'), command === 'agent' ? 'read-only' : 'yes');
        if (command === 'agent') assert.equal(service('ProtectProc'), undefined, 'the agent reads /proc/1/mounts');
        assert.equal(
          service('MemoryDenyWriteExecute'),
          undefined,
          'V8 needs W+X memory: MemoryDenyWriteExecute would kill node',
        );
      });
    });
  }

  it('lets the agent read logs (adm) and the gateway reach the card, and nothing else more', function () {
    const agent = parseUnitFile(join(UNITS, 'offhook-agent.service'));
    assert.match(value(agent, 'Service', 'SupplementaryGroups') ?? '', /\badm\b/);
    assert.equal(value(agent, 'Service', 'PrivateDevices'), 'yes');
    const gateway = parseUnitFile(join(UNITS, 'offhook-gateway.service'));
    assert.match(value(gateway, 'Service', 'SupplementaryGroups') ?? '', /\bdialout\b/);
    assert.equal(value(gateway, 'Service', 'PrivateDevices'), undefined, 'the card must be visible');
    assert.equal(value(gateway, 'Service', 'DevicePolicy'), 'closed');
    assert.ok(
      gateway
        .get('Service')
        ?.get('DeviceAllow')
        ?.some((d) => d.startsWith('/dev/vpb')),
    );
    assert.ok(
      gateway.get('Service')?.get('Environment')?.includes('UV_THREADPOOL_SIZE=16'),
      'one gateway process with a 16-thread pool',
    );
    const collector = parseUnitFile(join(UNITS, 'offhook-collector.service'));
    assert.equal(value(collector, 'Service', 'SupplementaryGroups'), undefined);
  });

  describe('with systemd-analyze', function () {
    let dir: string;
    before(function () {
      if (!hasSystemdAnalyze()) this.skip();
      dir = mkdtempSync(join(tmpdir(), 'offhook-units-'));
      // verify checks that ExecStart exists: point the units at this checkout's offhook.mjs.
      for (const { unit } of PROCESSES) {
        writeFileSync(
          join(dir, unit),
          readFileSync(join(UNITS, unit), 'utf8').replaceAll('/usr/bin/offhook', join(REPO, 'offhook.mjs')),
        );
      }
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    for (const { unit } of PROCESSES) {
      it(`${unit}: systemd-analyze verify reports nothing and the exposure score stays below 2.5`, async function () {
        const verify = await run('systemd-analyze', ['verify', join(dir, unit)]);
        assert.equal(`${verify.stdout}${verify.stderr}`, '', 'unknown keys, bad values or missing binaries');
        const security = await run('systemd-analyze', ['security', '--offline=yes', '--no-pager', join(dir, unit)]);
        const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout)?.[1]);
        assert.ok(
          score < 2.5,
          `exposure ${score}:\n${security.stdout
            .split('\n')
            .filter((l) => l.startsWith('✗'))
            .join('\n')}`,
        );
      });
    }
  });
});
