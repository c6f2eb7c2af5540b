import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { builtDist } from '../helpers/dist.ts';
import { ensureMariaDb } from '../helpers/mariadb.ts';

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
});
