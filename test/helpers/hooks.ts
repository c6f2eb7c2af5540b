import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist } from '../../deploy/build/build.ts';
import { killAllTracked } from '../../deploy/lib/processes.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Root hook: whatever a test file forgot to stop is killed by PID when the run ends. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await killAllTracked();
  },
};

/**
 * Once per run, before any test file loads: `npm run build` of this checkout, whose offhook.mjs the tests' child
 * processes run (spawnTracked in deploy/lib/processes.ts). It goes under node_modules/ so the bundles resolve
 * better-sqlite3, the one package they leave external, like an install beside its node_modules would.
 * OFFHOOK_TEST_TSX=1 runs every child through tsx instead (the development path; a few tests always do).
 */
export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.OFFHOOK_TEST_TSX || process.env.OFFHOOK_TEST_BUNDLE) return;
  const cache = join(REPO, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'offhook-test-bundle-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await buildDist(dir);
  process.env.OFFHOOK_TEST_BUNDLE = dir;
}
