import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { adaptConfig } from './lib/nats-config.ts';

const execFileAsync = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NATS_DIR = join(REPO, 'deploy/nats');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}
async function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { cwd: REPO, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('deploy/nats as shipped: nats-server -t, make-certs.sh', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-natscfg-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('make-certs.sh makes a CA, a server certificate with the given names, a route and a client one', async () => {
    const tls = join(dir, 'tls');
    const makeCerts = join(NATS_DIR, 'make-certs.sh');
    const names = 'nats1.example.net,10.0.0.5';
    const made = await run('bash', [makeCerts, '--names', names, '--route', '--client', 'web1', '--out', tls]);
    assert.equal(made.code, 0, made.stderr);
    const openssl = (args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8' });
    const text = (file: string): string => openssl(['x509', '-in', join(tls, file), '-noout', '-text']);
    assert.match(text('server.crt'), /DNS:nats1\.example\.net, IP Address:10\.0\.0\.5/);
    assert.match(text('server.crt'), /TLS Web Server Authentication/);
    assert.match(text('route.crt'), /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(text('client-web1.crt'), /Subject: CN ?= ?web1[\s\S]*TLS Web Client Authentication/);
    const certificates = ['server', 'route', 'client-web1'].map((n) => join(tls, `${n}.crt`));
    const verified = openssl(['verify', '-CAfile', join(tls, 'ca.crt'), ...certificates]);
    assert.equal(verified.match(/: OK$/gm)?.length, 3, verified);

    // Run again for another client: the CA is reused, so the old certificates still verify against ca.crt.
    const again = await run('bash', [makeCerts, '--names', 'nats1.example.net', '--client', 'db1', '--out', tls]);
    assert.match(again.stdout, /reusing CA/);
    openssl(['verify', '-CAfile', join(tls, 'ca.crt'), join(tls, 'client-web1.crt'), join(tls, 'client-db1.crt')]);
  });

  for (const file of ['nats-server.conf', 'nats-cluster.conf']) {
    it(`nats-server -t accepts ${file} with the shipped users.conf and make-certs.sh's files`, async () => {
      const confDir = mkdtempSync(join(dir, 'conf-'));
      const tls = join(confDir, 'tls');
      await run('bash', [join(NATS_DIR, 'make-certs.sh'), '--names', 'localhost,127.0.0.1', '--route', '--out', tls]);
      // Only the absolute /etc/nats/tls and store paths are moved into the temp dir; users.conf is the shipped one.
      const certs = { dir: tls, ca: join(tls, 'ca.crt'), cert: join(tls, 'server.crt'), key: join(tls, 'server.key') };
      const config = adaptConfig(confDir, file, { certs, storeDir: join(confDir, 'js') });
      copyFileSync(join(NATS_DIR, 'users.conf'), join(confDir, 'users.conf'));
      // The cluster config names its node from the environment, as the systemd drop-in sets it.
      const tested = await run('nats-server', ['-t', '-c', config], { NATS_SERVER_NAME: 'nats1' });
      assert.equal(tested.code, 0, `${tested.stdout}${tested.stderr}`);
      assert.match(`${tested.stdout}${tested.stderr}`, /is valid/);
    });
  }
});

describe('deploy scripts: --help exits 0 with usage, an unknown option exits 2', function () {
  this.timeout(60_000);
  const scripts: [string, string[], RegExp][] = [
    ['bash', ['deploy/nats/make-certs.sh'], /Usage: deploy\/nats\/make-certs\.sh --names/],
    ['node', ['deploy/nats/gen-users.mjs'], /Usage: gen-users\.mjs --hosts/],
    ['node', ['deploy/nats/offhook-nats.mjs'], /Usage: offhook-nats/],
    ['bash', ['deploy/install.sh'], /Usage: deploy\/install\.sh/],
    ['bash', ['deploy/bootstrap.sh'], /Usage: deploy\/bootstrap\.sh/],
    ['bash', ['native/vpb-shim.sh'], /Usage: native\/vpb-shim\.sh/],
    ['node', ['--import', 'tsx', 'deploy/build/build.ts'], /Usage: npm run build/],
    ['node', ['--import', 'tsx', 'deploy/build/package.ts'], /Usage: npm run package/],
  ];
  for (const [command, args, usage] of scripts) {
    const name = args[args.length - 1];
    it(name!, async () => {
      const help = await run(command, [...args, '--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, usage);
      const wrong = await run(command, [...args, '--no-such-option']);
      assert.equal(wrong.code, 2, `${wrong.stdout}${wrong.stderr}`);
      assert.match(wrong.stderr, /--no-such-option/);
    });
  }
});
