// What the build makes and where the packages put it: shared by build.ts, package.ts and their tests.

export interface RoleBundle {
  role: 'agent' | 'collector' | 'gateway' | 'cli';
  /** The module offhook.ts imports for the role (repo-relative). */
  source: string;
  bundle: string;
}

export const ROLE_BUNDLES: readonly RoleBundle[] = [
  { role: 'agent', source: 'agent/cli.ts', bundle: 'agent.mjs' },
  { role: 'collector', source: 'collector/cli.ts', bundle: 'collector.mjs' },
  { role: 'gateway', source: 'telephony-gateway/cli.ts', bundle: 'gateway.mjs' },
  { role: 'cli', source: 'ops/cli.ts', bundle: 'cli.mjs' },
];

export const NATS_TOOLS: readonly { source: string; bundle: string }[] = [
  { source: 'deploy/nats/gen-users.ts', bundle: 'nats/gen-users.mjs' },
  { source: 'deploy/nats/offhook-nats.ts', bundle: 'nats/offhook-nats.mjs' },
];

/** Where a role bundle's on-demand chunks go (e.g. agent-chunks/ for agent.mjs), so each package ships its own. */
export function chunkDir(bundle: string): string {
  return bundle.replace(/\.mjs$/, '-chunks');
}

/** The line addon, relative to native/ in the tree and to the bundles' directory once built. */
export const NATIVE_ADDON = 'build/Release/offhook_line.node';
/** The libvpb binding compiled against the driver's vpbapi.h, built only where that header is (native/README.md). */
export const VPB_SHIM = 'build/Release/offhook_vpb_shim.so';

/** Where packages install the bundles. */
export const LIB_DIR = '/usr/lib/offhook';

/** The agent's node flags in the launcher (why: the comment in launcherScript; agent/README.md, Footprint). */
export const AGENT_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--no-opt',
  '--no-sparkplug',
  '--optimize-for-size',
  '--gc-memory-reducer-start-delay-ms=2000',
  '--bytecode-old-age=1',
];

/**
 * The `offhook` command of an install. The gateway wants a 16-thread libuv pool (each waiting line operation holds
 * one thread); libuv reads UV_THREADPOOL_SIZE before any JavaScript runs, so it is set here, before Node starts,
 * and the gateway stays one process. The agent's V8 flags and malloc settings are set here too, so neither the unit
 * nor an operator running `offhook agent` by hand has to know them.
 */
export function launcherScript(dirExpression: string): string {
  return `#!/bin/sh
# offhook launcher: runs the bundled JavaScript next to it with the system's node.
# Stack traces name the TypeScript sources with NODE_OPTIONS=--enable-source-maps (about 30 MB more per process).
dir=${dirExpression}
flags=
case "\${1:-}" in
  gateway) : "\${UV_THREADPOOL_SIZE:=16}"; export UV_THREADPOOL_SIZE ;;
  # A 1 MiB young generation (V8 grows it to 16) and neither the optimising nor the baseline compiler (their code pages
  # stay unread, no machine code for JS): ~6 MiB less RSS, CPU at the default config the same, JS-heavy loops ~15 %
  # slower. --optimize-for-size makes V8's memory reducer run its full GCs after start-up on any machine (without it
  # they wait for an allocation rate V8 deems idle, which a loaded host may never show: 2.5 MiB more, held), 2 s after
  # start-up instead of 8; --bytecode-old-age=1 lets those GCs drop the bytecode of start-up-only code: ~0.4 MiB less.
  # OFFHOOK_AGENT_NODE_FLAGS replaces them, e.g. with --lite-mode on a host without log rules (~1 MiB less again;
  # regexes 4x slower). agent/README.md, Footprint.
  # glibc: two malloc arenas instead of one per thread, and blocks of 8 KiB and more from mmap, so V8's parse and
  # compile memory of start-up goes back to the system when freed instead of staying as holes in the heap: ~0.85 MiB
  # less RSS together, CPU the same (agent/README.md, Footprint). A value set in the environment wins.
  agent)
    flags=\${OFFHOOK_AGENT_NODE_FLAGS:-${AGENT_NODE_FLAGS.join(' ')}}
    : "\${MALLOC_ARENA_MAX:=2}" "\${MALLOC_MMAP_THRESHOLD_:=8192}"
    export MALLOC_ARENA_MAX MALLOC_MMAP_THRESHOLD_ ;;
esac
exec node $flags "$dir/offhook.mjs" "$@"
`;
}
