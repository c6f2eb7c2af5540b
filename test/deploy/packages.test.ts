import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildPackages, type PackageSet } from '../../deploy/build/package.ts';
import { useNatsServer } from '../helpers/nats-server.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { untilPolled } from '../helpers/wait.ts';
import { freeTcpPort } from '../../shared/index.ts';

const execFileAsync = promisify(execFile);
const INSTALLED = ['offhook', 'offhook-agent', 'offhook-collector'];
const ALL_INSTALLED = [...INSTALLED, 'offhook-gateway'];

const run = (command: string, args: string[]): string => execFileSync(command, args, { encoding: 'utf8' }).trim();
const field = (deb: string, name: string): string => run('dpkg-deb', ['-f', deb, name]);
/** Installed paths of a .deb's files ("./usr/bin/x" in dpkg-deb -c becomes "/usr/bin/x"). */
const contents = (deb: string): string[] =>
  run('dpkg-deb', ['-c', deb])
    .split('\n')
    .map((l) => l.replace(/^.* \.\//, '/'));
const dpkgStatus = (name: string): string => {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Status}', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return 'not-installed';
  }
};
const userExists = (name: string): boolean => {
  try {
    execFileSync('getent', ['passwd', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('npm run package: Debian packages', function () {
  this.timeout(180_000);
  let out: string;
  let debs: PackageSet;
  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'offhook-debs-'));
    debs = await buildPackages(out);
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('makes agent, collector and the common package for all architectures, the gateway for this one', () => {
    const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
    for (const name of INSTALLED) {
      assert.equal(field(debs.files[name]!, 'Architecture'), 'all', name);
      assert.match(field(debs.files[name]!, 'Depends'), /(^|, )nodejs \(>= 20\.19\)/, name);
    }
    const gateway = debs.files['offhook-gateway']!;
    assert.equal(field(gateway, 'Architecture'), arch);
    assert.match(field(gateway, 'Depends'), /espeak-ng.*sox/);
    assert.equal(field(gateway, 'Recommends'), 'baresip-core');
    const addon = '/usr/lib/offhook/build/Release/offhook_line.node';
    assert.ok(contents(gateway).includes(addon), 'the line addon, built at package time');
    for (const role of ['agent', 'collector', 'gateway']) {
      const files = contents(debs.files[`offhook-${role}`]!);
      assert.ok(files.includes(`/lib/systemd/system/offhook-${role}.service`), `${role} ships its unit`);
      assert.equal(run('dpkg-deb', ['-I', debs.files[`offhook-${role}`]!, 'conffiles']), `/etc/offhook/${role}.yaml`);
    }
    assert.ok(contents(debs.files.offhook!).includes('/usr/bin/offhook'));
    // The trac notifier's SQLite driver: native, for this architecture and this Node major only.
    const sqlite = debs.files['offhook-trac-sqlite']!;
    assert.equal(field(sqlite, 'Architecture'), arch);
    const major = Number(process.versions.node.split('.')[0]);
    assert.match(field(sqlite, 'Depends'), new RegExp(`nodejs \\(>= ${major}\\), nodejs \\(<< ${major + 1}\\)`));
    const driver = '/usr/lib/offhook/node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    assert.ok(contents(sqlite).includes(driver));
  });

  it('gives a monitored server no native addon, no node_modules and no tsx, TypeScript or esbuild', () => {
    const files = [...contents(debs.files.offhook!), ...contents(debs.files['offhook-agent']!)];
    assert.deepEqual(
      files.filter((f) => /\.node$|node_modules|\/(tsx|typescript|esbuild)(\/|$)|\.ts$/.test(f)),
      [],
    );
    // Nor does the code ask for them at run time: no import of those packages survives bundling.
    const agentDir = mkdtempSync(join(out, 'agent-'));
    execFileSync('dpkg-deb', ['-x', debs.files['offhook-agent']!, agentDir]);
    const bundle = readFileSync(join(agentDir, 'usr/lib/offhook/agent.mjs'), 'utf8');
    const tools = '(tsx|typescript|esbuild|better-sqlite3)';
    // mysql2 (loaded only by a mysql check with a login) is the agent's on-demand chunk, shipped beside the bundle.
    assert.ok(
      files.some((f) => /^\/usr\/lib\/offhook\/agent-chunks\/.+\.mjs$/.test(f)),
      'agent-chunks/*.mjs',
    );
    // The bundles are whitespace-minified: `from"tsx"` has no space.
    assert.doesNotMatch(bundle, new RegExp(`from\\s*["']${tools}[/"']|import\\(["']${tools}`));
  });

  describe('installed with dpkg -i on this machine', function () {
    let dir: string;
    let userBefore: boolean;
    before(async function () {
      if (process.getuid?.() !== 0) this.skip(); // dpkg -i needs root; the packages' contents are checked above.
      if (ALL_INSTALLED.some((name) => !dpkgStatus(name).includes('not-installed'))) {
        const states = ALL_INSTALLED.map(dpkgStatus).join('; ');
        throw new Error(`an offhook package is already installed here (${states}): not touching it`);
      }
      userBefore = userExists('offhook');
      dir = mkdtempSync(join(tmpdir(), 'offhook-dpkg-'));
    });
    const server = useNatsServer(); // after the root check: none started when skipped
    after(async function () {
      if (!dir) return;
      rmSync(dir, { recursive: true, force: true });
      // Leave the machine as it was: purge (configs too), and the user if the packages made it.
      execFileSync('dpkg', ['--purge', ...ALL_INSTALLED], { stdio: 'ignore' });
      if (!userBefore && userExists('offhook')) execFileSync('userdel', ['offhook']);
    });

    it('installs, prints the enable hints; the installed agent and collector raise an alert through NATS', async () => {
      const installed = await execFileAsync('dpkg', ['-i', ...INSTALLED.map((name) => debs.files[name]!)]);
      const hint = /^offhook-agent: then start it at boot and now: systemctl enable --now offhook-agent$/m;
      assert.match(installed.stdout, hint);
      assert.ok(userExists('offhook'), 'postinst made the offhook user');
      assert.equal(run('stat', ['-c', '%U:%G %a', '/etc/offhook/agent.yaml']), 'root:offhook 640');
      const version = execFileSync('/usr/bin/offhook', ['--version'], { encoding: 'utf8', cwd: dir }).trim();
      assert.equal(version, JSON.parse(readFileSync('package.json', 'utf8')).version);
      // The installed tree: nothing compiled, nothing from npm.
      const listed = execFileSync('dpkg', ['-L', 'offhook', 'offhook-agent'], { encoding: 'utf8' }).split('\n');
      assert.deepEqual(
        listed.filter((f) => /\.node$|node_modules|\/(tsx|typescript|esbuild)(\/|$)/.test(f)),
        [],
      );
      // Not installed here: the gateway's command says which package to install.
      const missing = await execFileAsync('/usr/bin/offhook', ['gateway', '--help']).then(
        () => null,
        (err: { code: number; stderr: string }) => err,
      );
      assert.equal(missing?.code, 1);
      assert.match(missing?.stderr ?? '', /offhook-gateway package is not installed on this host/);
      assert.match(missing?.stderr ?? '', /\(apt install offhook-gateway\)/);

      const collectorConfig = join(dir, 'collector.yaml');
      writeFileSync(
        collectorConfig,
        `
nats: { servers: ["${server.url}"] }
listen: "127.0.0.1:0"
evaluation_interval: 100ms
rules:
  - { name: port, kind: check, check: "^db-port$", max_attempts: 1 }
`,
      );
      const agentConfig = join(dir, 'agent.yaml');
      writeFileSync(
        agentConfig,
        `
host: pkg1
nats: { servers: ["${server.url}"] }
state_dir: ${JSON.stringify(join(dir, 'state'))}
metrics_listen: "127.0.0.1:0"
resources: { enabled: false }
checks:
  - { name: db-port, kind: tcp, host: 127.0.0.1, port: ${await freeTcpPort()}, interval: 200ms, timeout: 1s }
`,
      );
      // From the installed files only: cwd outside the checkout, the command from /usr/bin.
      const collector = spawnTracked('/usr/bin/offhook', ['collector', '--config', collectorConfig], { cwd: dir });
      await waitForOutput(collector, /collector listening on/, 30_000);
      const agent = spawnTracked('/usr/bin/offhook', ['agent', '--config', agentConfig], { cwd: dir });
      await waitForOutput(agent, /agent started/, 30_000);
      let alerts: { host: string; rule: string; status: string }[] = [];
      await untilPolled(
        async () => {
          const args = ['alerts', '--json', '--nats', server.url];
          const listedAlerts = await execFileAsync('/usr/bin/offhook', args, { cwd: dir });
          alerts = JSON.parse(listedAlerts.stdout) as typeof alerts;
          return alerts.length > 0;
        },
        'the port alert',
        30_000,
        200,
      );
      assert.deepEqual(
        alerts.map((a) => `${a.status} ${a.host} ${a.rule}`),
        ['firing pkg1 port'],
      );
      await Promise.all([killAndWait(agent, 'SIGTERM'), killAndWait(collector, 'SIGTERM')]);
      assert.equal(agent.exitCode, 0);
    });

    it('offhook-gateway: the packaged addon loads, the gateway runs as one process with 16 pool threads', async () => {
      await execFileAsync('dpkg', ['-i', debs.files['offhook-gateway']!]);
      const config = join(dir, 'gateway.yaml');
      writeFileSync(
        config,
        `
gateway_host: pkg-gw
nats: { servers: ["${server.url}"] }
state_dir: ${JSON.stringify(join(dir, 'gateway-state'))}
metrics_listen: "127.0.0.1:0"
line: { backend: sim, sim: { speed: 100 } }
people: [{ name: alice, number: "100" }]
`,
      );
      const env: NodeJS.ProcessEnv = { ...process.env, OFFHOOK_LOG_LEVEL: 'info' };
      delete env.UV_THREADPOOL_SIZE;
      const gateway = spawnTracked('/usr/bin/offhook', ['gateway', '--config', config], { cwd: dir, env });
      let output = '';
      gateway.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      await waitForOutput(gateway, /"msg":"gateway started"/, 60_000);
      assert.match(output, /"uvThreadpoolSize":16/);
      await killAndWait(gateway, 'SIGTERM');
      assert.equal(gateway.exitCode, 0);
      await execFileAsync('dpkg', ['-r', 'offhook-gateway']);
    });

    it('dpkg -r removes the programs and keeps the configs', async () => {
      const config = '/etc/offhook/agent.yaml';
      writeFileSync(config, `# edited by the operator\n${readFileSync(config, 'utf8')}`);
      const removed = await execFileAsync('dpkg', ['-r', ...INSTALLED]);
      assert.match(removed.stdout, /offhook-agent: removed; \/etc\/offhook\/agent\.yaml is kept/);
      const programs = ['/usr/bin/offhook', '/usr/lib/offhook/agent.mjs', '/lib/systemd/system/offhook-agent.service'];
      for (const file of programs) {
        assert.ok(!existsSync(file), `${file} removed`);
      }
      assert.match(readFileSync('/etc/offhook/agent.yaml', 'utf8'), /^# edited by the operator/);
      assert.ok(existsSync('/etc/offhook/collector.yaml'));
      assert.equal(dpkgStatus('offhook-agent'), 'deinstall ok config-files');
    });
  });
});
