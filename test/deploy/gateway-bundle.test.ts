import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildDist } from '../../deploy/build/build.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { builtDist } from '../helpers/dist.ts';
import { useNatsServer } from '../helpers/nats-server.ts';

describe('npm run build: the gateway bundle', function () {
  this.timeout(120_000);
  let dist: string;
  let dir: string;
  const server = useNatsServer();
  before(async () => {
    dist = await builtDist();
    dir = mkdtempSync(join(tmpdir(), 'offhook-gw-bundle-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens its line from the bundle: the card driver finds the native addon next to the bundle', async () => {
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      stringify({
        nats: { servers: [server.url], prefix: 'gwbundle' },
        state_dir: join(dir, 'state'),
        metrics_listen: '127.0.0.1:0',
        line: { backend: 'sim' },
        people: [{ name: 'alice', number: '100' }],
      }),
    );
    const gateway = spawnTracked('node', [join(dist, 'offhook.mjs'), 'gateway', '--config', config], { cwd: dir });
    try {
      const [line] = await waitForOutput(gateway, /^.*("msg":"gateway started"|did not start).*$/, 60_000);
      assert.match(line, /"line":"card\/sim"/, line);
    } finally {
      await killAndWait(gateway, 'SIGTERM');
    }
  });

  it('is not built without the line addon: one line names the missing file and how to build it', async () => {
    const native = join(dir, 'native-unbuilt');
    const out = join(dir, 'dist-unbuilt');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'previous-build'), '');
    await assert.rejects(buildDist(out, { nativeDir: native }), (err: Error) => {
      assert.equal(err.message.includes('\n'), false, err.message);
      assert.ok(err.message.includes(join(native, 'build/Release/offhook_line.node')), err.message);
      assert.match(err.message, /npm run bootstrap/);
      return true;
    });
    assert.ok(existsSync(join(out, 'previous-build')), 'a failed build leaves the previous dist/ in place');
  });
});
