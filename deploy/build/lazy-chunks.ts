// Dependencies a role needs only for a moment or only on some hosts, built as CommonJS chunks that a stand-in
// require()s on first call. An ES module is never unloaded: bundled in, their code and objects lived for the
// process's lifetime. agent/README.md, Footprint.
import { build, type BuildOptions, type BuildResult, type Plugin } from 'esbuild';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chunkDir } from './layout.ts';

interface LazyDependency {
  /** The package the sources import. */
  module: string;
  /** Its chunk in <role>-chunks/. */
  chunk: string;
  /**
   * The functions the bundled code calls. A name missing here fails the build where an ES module imports it; the NATS
   * client require()s nkeys (fromSeed, encode), so there test/deploy/bundles.test.ts's nkey login is the check.
   */
  exports: readonly string[];
  /** Dropped from require.cache after each call, so a GC frees it until the next call loads it again. */
  transient: boolean;
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));

const LAZY: readonly LazyDependency[] = [
  // Read once per config load (start, SIGHUP, check-config): ~0.4 MiB of parser held for nothing in between.
  { module: 'yaml', chunk: 'yaml.cjs', exports: ['parseDocument'], transient: true },
  // With tweetnacl (~0.17 MiB), only for nkey and creds logins; the NATS client calls it synchronously then.
  {
    module: '@nats-io/nkeys',
    chunk: 'nkeys.cjs',
    exports: ['fromSeed', 'fromPublic', 'encode', 'decode', 'createUser'],
    transient: false,
  },
];

/** The stand-in module: same names, each loading the chunk next to (or under) the bundle that holds it. */
function standIn(dependency: LazyDependency, chunks: string): string {
  // A fresh require() each time for a transient chunk: the one it is made with lists the chunk's module among its
  // children, and would keep it (and all it made) alive after it leaves require.cache.
  const call = (name: string) =>
    dependency.transient
      ? `const r = createRequire(import.meta.url); try { return r(file).${name}(...args); } ` +
        `finally { delete r.cache[file]; }`
      : `return load().${name}(...args);`;
  const wrappers = dependency.exports.map((name) => `export function ${name}(...args) { ${call(name)} }`);
  return `import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const here = dirname(fileURLToPath(import.meta.url));
const file = join(basename(here) === ${JSON.stringify(chunks)} ? here : join(here, ${JSON.stringify(chunks)}),
  ${JSON.stringify(dependency.chunk)});
const lazyRequire = createRequire(import.meta.url);
const load = () => lazyRequire(file);
${wrappers.join('\n')}
`;
}

/** Resolves each lazy dependency to its stand-in in a role bundle (tsx runs the real packages). */
export function lazyDependencies(bundle: string): Plugin {
  const chunks = chunkDir(bundle);
  const byModule = new Map(LAZY.map((d) => [d.module, d]));
  return {
    name: 'lazy-dependencies',
    setup(b) {
      // The filter is made from LAZY, so a dependency added there is resolved to its stand-in without a second list.
      const names = LAZY.map((d) => d.module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
      b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) =>
        byModule.has(args.path) ? { path: args.path, namespace: 'offhook-lazy' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'offhook-lazy' }, (args) => ({
        contents: standIn(byModule.get(args.path)!, chunks),
        loader: 'js',
        resolveDir: REPO,
      }));
    },
  };
}

/** The chunks themselves, one set per role so each package ships its own (deploy/build/package.ts). */
export function lazyChunkBuilds(common: BuildOptions, outdir: string, bundle: string): Promise<BuildResult>[] {
  return LAZY.map((dependency) =>
    build({
      ...common,
      banner: {},
      format: 'cjs',
      minifyIdentifiers: true,
      minifySyntax: true,
      stdin: { contents: `module.exports = require(${JSON.stringify(dependency.module)});`, resolveDir: REPO },
      outfile: join(outdir, chunkDir(bundle), dependency.chunk),
    }),
  );
}
