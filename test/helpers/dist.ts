import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDist } from '../../deploy/build/build.ts';

let built: Promise<string> | undefined;

/** `npm run build` into a temp directory, once per test run (about a second); removed when mocha exits. */
export function builtDist(): Promise<string> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-dist-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await buildDist(dir);
    return dir;
  })();
  return built;
}
