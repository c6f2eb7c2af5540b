import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const REGISTER = join(REPO, 'test/fixtures/import-log/register.mjs');

/** Repo-relative folders of the project files `node offhook.mjs ...args` loads (development, through tsx). */
async function foldersLoaded(dir: string, args: string[]): Promise<Set<string>> {
  const log = join(dir, `${args.join('_')}.log`);
  const env = { ...process.env, OFFHOOK_IMPORT_LOG: log };
  await execFileAsync(process.execPath, ['--import', REGISTER, 'offhook.mjs', ...args], { cwd: REPO, env });
  const files = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((url) => fileURLToPath(url).slice(REPO.length));
  return new Set(files.map((file) => file.split('/')[0]!));
}

describe('offhook loads only the role a command runs (development entry, tsx)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-lazy-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string[], string, string[]][] = [
    // No process loads deploy/ or ops/: what they share with the operator's commands lives in shared/.
    [['agent', '--help'], 'agent', ['collector', 'telephony-gateway', 'native', 'deploy', 'ops']],
    [['collector', '--help'], 'collector', ['agent', 'telephony-gateway', 'native', 'deploy', 'ops']],
    // The line driver (and native/ with it) is loaded when the line opens, not with the gateway's code.
    [['gateway', '--help'], 'telephony-gateway', ['agent', 'collector', 'native', 'deploy', 'ops']],
    [['status', '--help'], 'ops', ['native', 'deploy']],
  ];
  for (const [args, expected, absent] of cases) {
    it(`offhook ${args.join(' ')}: ${expected}/, none of ${absent.join(', ')}`, async () => {
      const folders = await foldersLoaded(dir, args);
      assert.ok(folders.has(expected), [...folders].join(' '));
      for (const folder of absent) assert.ok(!folders.has(folder), `${folder}/ was loaded: ${[...folders].join(' ')}`);
    });
  }
});
