import { fileURLToPath } from 'node:url';

/** The frontend's entry point (source tree only). */
export const CONSOLE_ENTRY = fileURLToPath(new URL('./web/main.ts', import.meta.url));
const CONSOLE_STYLE = fileURLToPath(new URL('./web/style.css', import.meta.url));
/** Where `npm run build` puts the bundle, relative to the collector's own bundle (dist/console/). */
export const CONSOLE_DIST_DIR = 'console';

/**
 * esbuild options for the frontend: one app.js (preact, htm and the app, minified, ES2020 for any browser of the last
 * five years) and one app.css. Shared by `npm run build` and the on-demand build of a source checkout.
 */
export function consoleBuildOptions(outdir: string) {
  return {
    entryPoints: [
      { in: CONSOLE_ENTRY, out: 'app' },
      { in: CONSOLE_STYLE, out: 'app' },
    ],
    bundle: true,
    minify: true,
    format: 'iife' as const,
    platform: 'browser' as const,
    target: 'es2020',
    outdir,
    legalComments: 'none' as const,
    logLevel: 'warning' as const,
  };
}
