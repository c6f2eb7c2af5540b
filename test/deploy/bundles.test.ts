import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { createUser } from '@nats-io/nkeys';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { builtDist } from '../helpers/dist.ts';
import { ensureMariaDb } from '../helpers/mariadb.ts';
import { useNatsServer } from '../helpers/nats-server.ts';

const execFileAsync = promisify(execFile);

/** Every .mjs under dir, relative to it. */
function scripts(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.mjs'));
}

/** The files a bundle was made from, from its source map (the agent's bundle is minified: no path comments). */
function sources(bundle: string): string[] {
  return (JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] }).sources;
}

describe('npm run build: what the bundles hold in memory', function () {
  this.timeout(120_000);
  let dist: string;
  before(async () => {
    dist = await builtDist();
  });

  it('writes only ASCII JavaScript, so V8 keeps each source at one byte per character', () => {
    for (const file of scripts(dist)) {
      const text = readFileSync(join(dist, file), 'utf8');
      const at = text.search(/[^\x00-\x7f]/);
      assert.equal(at, -1, `${file}: non-ASCII at ${at}: ${JSON.stringify(text.slice(at - 40, at + 10))}`);
    }
  });

  it("keeps zod's 40-odd locales out of every bundle (import * as z from 'zod' lets esbuild drop them)", () => {
    // A word only zod's Spanish messages use; if zod rewords them, this check must pick another one.
    const marker = '"caracteres"';
    assert.ok(readFileSync('node_modules/zod/v4/locales/es.js', 'utf8').includes(marker));
    for (const file of scripts(dist).filter((f) => !f.includes('/'))) {
      assert.ok(!readFileSync(join(dist, file), 'utf8').includes(marker), `${file} holds zod's locales`);
    }
  });

  it('keeps mysql2 out of agent.mjs, in a chunk of agent-chunks/ that only a mysql login imports', () => {
    assert.deepEqual(
      sources(join(dist, 'agent.mjs')).filter((f) => f.includes('node_modules/mysql2/')),
      [],
    );
    const chunks = readdirSync(join(dist, 'agent-chunks')).filter((f) => f.endsWith('.mjs'));
    const driver = chunks.filter((f) =>
      sources(join(dist, 'agent-chunks', f)).some((s) => s.includes('node_modules/mysql2/')),
    );
    assert.equal(driver.length, 1, `one chunk holds mysql2: ${chunks.join(', ')}`);
  });

  it('keeps yaml and nkeys (with tweetnacl) out of agent.mjs, in agent-chunks/ required when first called', () => {
    const lazy = /node_modules\/(yaml|@nats-io\/nkeys|tweetnacl)\//;
    assert.deepEqual(
      sources(join(dist, 'agent.mjs')).filter((f) => lazy.test(f)),
      [],
    );
    for (const file of readdirSync(join(dist, 'agent-chunks')).filter((f) => f.endsWith('.mjs'))) {
      assert.deepEqual(
        sources(join(dist, 'agent-chunks', file)).filter((f) => lazy.test(f)),
        [],
        file,
      );
    }
    assert.ok(sources(join(dist, 'agent-chunks', 'yaml.cjs')).some((f) => f.includes('node_modules/yaml/')));
    assert.ok(sources(join(dist, 'agent-chunks', 'nkeys.cjs')).some((f) => f.includes('node_modules/tweetnacl/')));
  });

  it('names the line and column of a YAML syntax error from the built agent (the parser chunk loads)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-bundle-yaml-'));
    try {
      const config = join(dir, 'agent.yaml');
      writeFileSync(config, 'host: a\nchecks:\n  - kind: tcp\n   port: 3\n');
      const failed = await execFileAsync(join(dist, 'offhook'), ['agent', '--config', config, '--once']).then(
        () => assert.fail('a broken config ran'),
        (err: { code: number; stderr: string }) => err,
      );
      assert.equal(failed.code, 3);
      assert.match(failed.stderr, /agent\.yaml: YAML syntax: Sequence item without - indicator at line 4, column 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps prom-client's Pushgateway and cluster aggregator and the OpenTelemetry API out of every role", () => {
    for (const file of scripts(dist).filter((f) => !f.includes('/'))) {
      const unused = sources(join(dist, file)).filter((s) =>
        /prom-client\/(index|lib\/(pushgateway|cluster))\.js$|@opentelemetry\//.test(s),
      );
      assert.deepEqual(unused, [], file);
    }
  });

  it('imports node:tls into agent.mjs and collector.mjs with require(), not as an ES module (CA list parse)', () => {
    for (const file of ['agent.mjs', 'collector.mjs']) {
      const text = readFileSync(join(dist, file), 'utf8');
      assert.doesNotMatch(text, /from\s*"node:tls"/, file);
    }
  });

  it('runs a mysql check with a login and a query from the built agent (the chunk loads)', async () => {
    ensureMariaDb();
    const dir = mkdtempSync(join(tmpdir(), 'offhook-bundle-mysql-'));
    try {
      const config = join(dir, 'agent.yaml');
      writeFileSync(
        config,
        stringify({
          host: 'bundle-test',
          state_dir: join(dir, 'state'),
          checks: [{ kind: 'mysql', name: 'db', port: 3306, user: 'root', query: 'SELECT 41 + 1' }],
        }),
      );
      const { stdout } = await execFileAsync(join(dist, 'offhook'), ['agent', '--config', config, '--once']);
      assert.match(stdout, /SELECT 41 \+ 1 returned 42/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('an nkey login from the built agent (the nkeys chunk loads while the client authenticates)', () => {
    const user = createUser();
    const dir = mkdtempSync(join(tmpdir(), 'offhook-bundle-nkey-'));
    const serverConfig = join(dir, 'nats.conf');
    writeFileSync(serverConfig, `authorization { users = [ { nkey: ${user.getPublicKey()} } ] }\n`);
    const server = useNatsServer({ configFile: serverConfig });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('connects to a server that accepts only that nkey', async () => {
      const seed = join(dir, 'agent.nk');
      writeFileSync(seed, new TextDecoder().decode(user.getSeed()), { mode: 0o600 });
      const config = join(dir, 'agent.yaml');
      writeFileSync(
        config,
        stringify({
          host: 'bundle-nkey',
          state_dir: join(dir, 'state'),
          metrics_listen: '127.0.0.1:0',
          nats: { servers: [server.url], nkey_seed_file: seed },
        }),
      );
      const agent = spawnTracked(join(dist, 'offhook'), ['agent', '--config', config]);
      try {
        await waitForOutput(agent, /"msg":"connected to NATS"/);
      } finally {
        await killAndWait(agent, 'SIGTERM');
      }
    });
  });
});
