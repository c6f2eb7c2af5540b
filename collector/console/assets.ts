import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../shared/index.ts';
import { CONSOLE_DIST_DIR, consoleBuildOptions } from './bundle.ts';

export interface Assets {
  js: string;
  css: string;
}

/**
 * The page loads these two files only (the CSP allows nothing else). A built install has them next to the collector's
 * bundle (`npm run build` writes dist/console/); a source checkout bundles web/ with esbuild (a devDependency) on first
 * use and keeps the result in memory, so `npm start` and the tests need no build step.
 */
export async function loadAssets(logger: Logger): Promise<Assets> {
  const built = fileURLToPath(new URL(`./${CONSOLE_DIST_DIR}/`, import.meta.url));
  try {
    const [js, css] = await Promise.all([
      readFile(join(built, 'app.js'), 'utf8'),
      readFile(join(built, 'app.css'), 'utf8'),
    ]);
    return { js, css };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // A variable, so the collector's own bundle does not try to include esbuild.
  const name = 'esbuild';
  const esbuild = (await import(name)) as typeof import('esbuild');
  const started = Date.now();
  const result = await esbuild.build({ ...consoleBuildOptions('/console-build'), write: false });
  const file = (ext: string): string => result.outputFiles.find((f) => f.path.endsWith(ext))?.text ?? '';
  logger.info({ ms: Date.now() - started }, 'console: frontend bundled from source');
  return { js: file('.js'), css: file('.css') };
}

export const INDEX_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>offhook console</title>
<link rel="stylesheet" href="/console/app.css">
<script defer src="/console/app.js"></script>
</head><body><main id="app"><noscript>The offhook console needs JavaScript; the plain status page is at
<a href="/">/</a>.</noscript></main></body></html>
`;
