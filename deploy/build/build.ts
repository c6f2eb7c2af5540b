// `npm run build`: bundles each role into dist/ with esbuild so installs run plain JavaScript (no tsx, no
// TypeScript, no node_modules). Offline and a few seconds; see deploy/README.md "Build and packages".
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONSOLE_DIST_DIR, consoleBuildOptions } from '../../collector/console/bundle.ts';
import { lazyChunkBuilds, lazyDependencies } from './lazy-chunks.ts';
import { NATIVE_ADDON, NATS_TOOLS, ROLE_BUNDLES, VPB_SHIM, chunkDir, launcherScript } from './layout.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** CommonJS dependencies (pino, nodemailer, mysql2...) call require() on Node built-ins from inside an ES module. */
const REQUIRE_SHIM =
  "import { createRequire as __offhookCreateRequire } from 'node:module';\n" +
  'const require = __offhookCreateRequire(import.meta.url);';

/** In the dispatcher, each role's `import('./agent/cli.ts')` becomes `import('./agent.mjs')`: a separate bundle. */
function rolesAsBundles(): Plugin {
  const bySource = new Map(ROLE_BUNDLES.map((role) => [`./${role.source}`, `./${role.bundle}`]));
  // The demo runs from a source checkout only; the dispatcher reports it missing like an uninstalled role.
  bySource.set('./deploy/cli.ts', './demo.mjs');
  return {
    name: 'roles-as-bundles',
    setup(b) {
      b.onResolve({ filter: /^\.\/.*\.ts$/ }, (args) => {
        if (!args.importer.endsWith('offhook.ts')) return undefined;
        const bundle = bySource.get(args.path);
        return bundle ? { path: bundle, external: true } : undefined;
      });
    },
  };
}

/**
 * prom-client's index and @opentelemetry/api swapped for deploy/build/lean/: the index loads its Pushgateway and
 * cluster aggregator (node:https, node:zlib, node:cluster) and the CPU counter the whole OpenTelemetry API (43 KB),
 * for features no offhook process uses; ~0.35 MiB less RSS in the agent (agent/README.md, Footprint). tsx runs the
 * real ones.
 */
function leanDependencies(): Plugin {
  const lean = join(REPO, 'deploy/build/lean');
  return {
    name: 'lean-dependencies',
    setup(b) {
      b.onResolve({ filter: /^prom-client$/ }, () => ({ path: join(lean, 'prom-client.mjs') }));
      b.onResolve({ filter: /^@opentelemetry\/api$/ }, () => ({ path: join(lean, 'opentelemetry-api.cjs') }));
    },
  };
}

/** shared/version.ts reads ../package.json at run time; a bundle has no package.json above it, so bake it in. */
function versionBakedIn(version: string): Plugin {
  return {
    name: 'version-baked-in',
    setup(b) {
      b.onLoad({ filter: /shared[\\/]version\.ts$/ }, () => ({
        contents: `export const OFFHOOK_VERSION = ${JSON.stringify(version)};`,
        loader: 'ts',
      }));
    },
  };
}

/**
 * Writes one output file with every non-ASCII character of the JavaScript escaped as \uXXXX. V8 keeps a module's
 * source for its lifetime, as one byte per character only if all of it is Latin-1; esbuild escapes strings but not
 * regular expression literals (jetstream's /µs/), and one such character doubled the agent's 3.4 MB source in memory.
 * \uXXXX means the same character in a regex, string or identifier; the source map is off by a few columns after it.
 */
function writeOutput(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const ascii = /\.[mc]js$/.test(path)
    ? text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : text;
  writeFileSync(path, ascii);
}

/**
 * The agent, on every monitored server, and the dispatcher it starts through are minified whole: short local names
 * make the source V8 keeps for the process's lifetime and the names in its scope data ~30 % smaller again, ~0.6 MiB
 * less RSS (agent/README.md, Footprint). The price: stack traces and pino's `err.type` name minified functions and
 * classes unless node runs with --enable-source-maps (the maps are there); error messages and `err.name` stay.
 * The collector, gateway and CLI keep their names: one process each, where readable traces matter more.
 */
const MINIFIED: BuildOptions = { minifyIdentifiers: true, minifySyntax: true };

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
}

export interface BuildDistOptions {
  /** Where the built line addon is looked for (the tree's native/; a test points it elsewhere). */
  nativeDir?: string;
}

/**
 * The gateway bundle cannot open its line without the addon, and a build without it once became a gateway .deb that
 * failed only on the host. Checked before dist/ is emptied, so a failed build leaves the previous one in place.
 */
function requireLineAddon(nativeDir: string): void {
  const addon = join(nativeDir, NATIVE_ADDON);
  if (existsSync(addon)) return;
  throw new Error(
    `${addon} is missing and the gateway bundle needs it: build it with npm run bootstrap ` +
      '(or npm rebuild --workspace native; needs g++, make, python3)',
  );
}

export async function buildDist(outdir = join(REPO, 'dist'), options: BuildDistOptions = {}): Promise<void> {
  const nativeDir = options.nativeDir ?? join(REPO, 'native');
  requireLineAddon(nativeDir);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const version = versionBakedIn(packageVersion());
  const common: BuildOptions = {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    legalComments: 'none',
    absWorkingDir: REPO,
    banner: { js: REQUIRE_SHIM },
    logLevel: 'warning',
    // Native addons stay out of the bundles: better-sqlite3 comes from its own package, the line addon is copied.
    external: ['better-sqlite3'],
    // Without comments and indentation the source V8 keeps in memory for the process's lifetime is ~25 % smaller
    // (bench/agent.bench.ts); the source maps still point at the TypeScript.
    minifyWhitespace: true,
    write: false,
  };
  await Promise.all([
    build({
      ...common,
      ...MINIFIED,
      entryPoints: ['offhook.ts'],
      outfile: join(outdir, 'offhook.mjs'),
      plugins: [rolesAsBundles(), version],
    }),
    // Split per role: what a role loads only on demand (mysql2 for a mysql check with a login) becomes a chunk in
    // <role>-chunks/ that is read only when imported, so an agent without such a check never holds it in memory.
    ...ROLE_BUNDLES.map((role) =>
      build({
        ...common,
        ...(role.role === 'agent' ? MINIFIED : {}),
        entryPoints: { [role.bundle.replace(/\.mjs$/, '')]: role.source },
        outdir,
        outExtension: { '.js': '.mjs' },
        splitting: true,
        chunkNames: `${chunkDir(role.bundle)}/[name]-[hash]`,
        plugins: [version, leanDependencies(), lazyDependencies(role.bundle)],
      }),
    ),
    ...ROLE_BUNDLES.flatMap((role) => lazyChunkBuilds(common, outdir, role.bundle)),
    // The collector's web console: app.js + app.css beside collector.mjs (collector/console/assets.ts looks there).
    build(consoleBuildOptions(join(outdir, CONSOLE_DIST_DIR))),
    // The NATS host's tools (users file, stream maintenance), runnable by themselves.
    ...NATS_TOOLS.map((tool) =>
      build({
        ...common,
        entryPoints: [tool.source],
        outfile: join(outdir, tool.bundle),
        plugins: [version],
        banner: { js: `#!/usr/bin/env node\n${REQUIRE_SHIM}` },
      }),
    ),
  ]).then((results) => {
    for (const result of results) for (const file of result.outputFiles ?? []) writeOutput(file.path, file.text);
  });
  for (const tool of NATS_TOOLS) chmodSync(join(outdir, tool.bundle), 0o755);
  writeFileSync(join(outdir, 'offhook'), launcherScript('"$(dirname "$(readlink -f "$0")")"'));
  chmodSync(join(outdir, 'offhook'), 0o755);
  // native/index.ts requires ./build/Release/offhook_line.node next to the module that became dist/gateway.mjs; the
  // vpb shim (only on a box with the driver's vpbapi.h) is looked for next to the addon.
  for (const file of [NATIVE_ADDON, VPB_SHIM]) {
    if (file === VPB_SHIM && !existsSync(join(nativeDir, file))) continue;
    mkdirSync(dirname(join(outdir, file)), { recursive: true });
    copyFileSync(join(nativeDir, file), join(outdir, file));
  }
}

const USAGE = `Usage: npm run build [-- OUTDIR]
Bundles offhook.ts and one file per role (agent, collector, gateway, cli) into OUTDIR (default dist/) with esbuild,
with source maps, plus the \`offhook\` launcher and the gateway's native addon. Fails, naming the fix, if native/
is not built. Offline.
`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const unknown = args.find((a) => a.startsWith('-'));
  if (unknown || args.length > 1) {
    process.stderr.write(`offhook build: unexpected argument ${unknown ?? args[1]} (see --help)\n`);
    process.exit(2);
  }
  const started = Date.now();
  await buildDist(args[0]).catch((err: Error) => {
    process.stderr.write(`offhook build: ${err.message}\n`);
    process.exit(1);
  });
  process.stdout.write(`offhook build: dist/ in ${Date.now() - started} ms\n`);
}
