import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const INSTALL = join(REPO, 'deploy/install.sh');
const EXAMPLES = readdirSync(join(REPO, 'deploy/examples')).filter((f) => f.endsWith('.yaml'));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}
async function install(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  try {
    const { stdout, stderr } = await execFileAsync('bash', [INSTALL, ...args], { env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function userExists(name: string): Promise<boolean> {
  return execFileAsync('getent', ['passwd', name]).then(
    () => true,
    () => false,
  );
}

describe('deploy/install.sh', function () {
  this.timeout(120_000);
  let dir: string;
  let paths: { prefix: string; etc: string; units: string };
  let args: string[];

  before(async function () {
    assert.ok(EXAMPLES.length > 0, 'deploy/examples has configs to install');
    dir = mkdtempSync(join(tmpdir(), 'offhook-install-'));
    paths = { prefix: join(dir, 'opt/offhook'), etc: join(dir, 'etc/offhook'), units: join(dir, 'systemd') };
    args = ['--prefix', paths.prefix, '--etc', paths.etc, '--unit-dir', paths.units, '--no-system'];
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs the bundles (no node_modules, no compiler), example configs, units pointing at both', async function () {
    const result = await install(args);
    assert.equal(result.code, 0, result.stderr);
    accessSync(join(paths.prefix, 'offhook'), constants.X_OK);
    for (const bundle of ['offhook.mjs', 'agent.mjs', 'collector.mjs', 'gateway.mjs', 'cli.mjs'])
      assert.ok(existsSync(join(paths.prefix, bundle)), bundle);
    for (const absent of ['.git', 'test', 'bench', 'node_modules/tsx', 'node_modules/typescript', 'agent', 'shared'])
      assert.ok(!existsSync(join(paths.prefix, absent)), `${absent} is not installed`);
    for (const name of EXAMPLES) {
      assert.equal(
        readFileSync(join(paths.etc, name), 'utf8'),
        readFileSync(join(REPO, 'deploy/examples', name), 'utf8'),
      );
      assert.equal(statSync(join(paths.etc, name)).mode & 0o777, 0o640);
    }
    const agentUnit = readFileSync(join(paths.units, 'offhook-agent.service'), 'utf8');
    assert.match(
      agentUnit,
      new RegExp(`^ExecStart=${paths.prefix}/offhook agent --config ${paths.etc}/agent\\.yaml$`, 'm'),
    );
    assert.doesNotMatch(
      agentUnit,
      /(^|[=\s]|file:\/\/)\/(opt|etc|usr\/bin|usr\/share\/doc)\/offhook/m,
      'every default path was replaced',
    );
    assert.match(result.stdout, /Next steps:/);

    // The installed CLI runs from its own tree and accepts the installed configs, as the units' ExecStartPre will.
    const check = await execFileAsync(
      join(paths.prefix, 'offhook'),
      ['check-config', ...EXAMPLES.map((n) => join(paths.etc, n))],
      { cwd: tmpdir() },
    );
    for (const name of EXAMPLES) assert.match(check.stdout, new RegExp(`${name}: OK`));
  });

  it('runs again as an upgrade: keeps edited configs (new example as .dist) and the previous code', async function () {
    const [edited, untouched] = [EXAMPLES[0]!, EXAMPLES[1]];
    const mine = `# edited by the operator\n${readFileSync(join(paths.etc, edited), 'utf8')}`;
    writeFileSync(join(paths.etc, edited), mine);
    writeFileSync(join(paths.prefix, 'stale-file-from-old-version'), 'x');
    const result = await install(args);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(join(paths.etc, edited), 'utf8'), mine, "the operator's config was not overwritten");
    assert.equal(
      readFileSync(join(paths.etc, `${edited}.dist`), 'utf8'),
      readFileSync(join(REPO, 'deploy/examples', edited), 'utf8'),
    );
    assert.match(result.stdout, new RegExp(`${edited}: kept yours; the new example is .*${edited}\\.dist`));
    if (untouched) assert.match(result.stdout, new RegExp(`${untouched}: kept \\(same as the example\\)`));
    assert.ok(!existsSync(join(paths.prefix, 'stale-file-from-old-version')), 'the new tree replaced the old one');
    assert.ok(
      existsSync(join(`${paths.prefix}.previous`, 'stale-file-from-old-version')),
      'the previous version is kept',
    );
  });

  it('with DESTDIR stages files under it, keeps real paths in the units, touches no system account', async function () {
    const stage = join(dir, 'stage');
    const before = await userExists('offhook');
    const result = await install([], { ...process.env, DESTDIR: stage });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(existsSync(join(stage, 'opt/offhook/offhook.mjs')));
    assert.match(
      readFileSync(join(stage, 'etc/systemd/system/offhook-gateway.service'), 'utf8'),
      /^ExecStart=\/opt\/offhook\/offhook gateway --config \/etc\/offhook\/gateway\.yaml$/m,
    );
    assert.equal(await userExists('offhook'), before, 'no user was created or removed');
    assert.ok(!existsSync('/opt/offhook.new'), 'nothing was written outside DESTDIR');
  });

  it('leaves the installed version alone when the build fails', async function () {
    // A tree whose build fails: the install must stop before touching the installed code.
    const tree = join(dir, 'tree');
    for (const sub of ['deploy/examples', 'deploy/systemd', 'deploy/nats', 'node_modules'])
      mkdirSync(join(tree, sub), { recursive: true });
    copyFileSync(INSTALL, join(tree, 'deploy/install.sh'));
    writeFileSync(join(tree, 'offhook.mjs'), '#!/usr/bin/env node\n');
    writeFileSync(
      join(tree, 'package.json'),
      JSON.stringify({
        name: 'offhook',
        version: '10.0.0',
        private: true,
        scripts: { build: 'echo "syntax error in offhook.ts" >&2; exit 3' },
      }),
    );
    const target = ['--prefix', paths.prefix, '--etc', paths.etc, '--unit-dir', paths.units, '--no-system'];
    const failed = await execFileAsync('bash', [join(tree, 'deploy/install.sh'), ...target]).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    assert.ok(failed, 'the install failed');
    assert.match(failed.stderr, /syntax error in offhook\.ts/);
    assert.match(failed.stderr, /npm run build failed; the installed version was not touched/);
    assert.equal(
      JSON.parse(readFileSync(join(paths.prefix, 'package.json'), 'utf8')).version,
      JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version,
    );
  });

  it('refuses bad options with a message saying what to do', async function () {
    const relative = await install(['--prefix', 'opt/offhook', '--no-system']);
    assert.equal(relative.code, 1);
    assert.match(relative.stderr, /paths must be absolute, got "opt\/offhook"/);
    const unknown = await install(['--frobnicate']);
    assert.match(unknown.stderr, /unknown option --frobnicate \(see --help\)/);
    assert.equal(unknown.code, 2);
    const help = await install(['--help']);
    assert.match(help.stdout, /--destdir DIR/);
  });
});
