// `npm run package`: Debian packages from dist/ with dpkg-deb, offline. See deploy/README.md "Build and packages".
//   offhook            (all)   /usr/bin/offhook, the operator CLI, NATS tools and example server configs
//   offhook-agent      (all)   the agent bundle, unit, /etc/offhook/agent.yaml: no compiler, no native addon
//   offhook-collector  (all)   the collector bundle, unit, /etc/offhook/collector.yaml
//   offhook-gateway    (arch)  the gateway bundle and the line addon built at package time, unit, gateway.yaml
//   offhook-trac-sqlite (arch) better-sqlite3 for the collector's trac notifier (only that notifier needs it)
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist, packageVersion } from './build.ts';
import { writeDeb } from './deb.ts';
import { LIB_DIR, NATIVE_ADDON, NATS_TOOLS, VPB_SHIM, chunkDir, launcherScript } from './layout.ts';
import { maintainerScripts } from './maintainer-scripts.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NODE_DEPENDS = 'nodejs (>= 20.19)';

export interface PackageSet {
  dir: string;
  files: Record<string, string>;
}

/** Copies `from` (repo- or dist-relative) to `to` (absolute install path) under `root`. */
function put(root: string, from: string, to: string, mode = 0o644): void {
  const target = join(root, to);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(from, target);
  chmodSync(target, mode);
}

/** A bundle, its source map and its on-demand chunks (deploy/build/build.ts), if it has any. */
function putBundle(root: string, dist: string, bundle: string, mode = 0o644): void {
  put(root, join(dist, bundle), `${LIB_DIR}/${bundle}`, mode);
  put(root, join(dist, `${bundle}.map`), `${LIB_DIR}/${bundle}.map`);
  const chunks = chunkDir(bundle);
  if (!existsSync(join(dist, chunks))) return;
  for (const file of readdirSync(join(dist, chunks)))
    put(root, join(dist, chunks, file), `${LIB_DIR}/${chunks}/${file}`);
}

/** Depends on exactly this Node major (a V8-ABI addon does not load in another). */
function nodeMajor(): string[] {
  const major = Number(process.versions.node.split('.')[0]);
  return [`nodejs (>= ${major})`, `nodejs (<< ${major + 1})`];
}

function hostArchitecture(): string {
  return execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
}

/** One role package: its bundle, its unit, its config as a conffile. */
function rolePackage(stage: string, dist: string, role: 'agent' | 'collector' | 'gateway'): string {
  const root = join(stage, `offhook-${role}`);
  putBundle(root, dist, `${role}.mjs`);
  put(root, join(REPO, `deploy/systemd/offhook-${role}.service`), `/lib/systemd/system/offhook-${role}.service`);
  put(root, join(REPO, `deploy/examples/${role}.yaml`), `/etc/offhook/${role}.yaml`, 0o640);
  return root;
}

export async function buildPackages(out: string): Promise<PackageSet> {
  const version = packageVersion();
  const stage = mkdtempSync(join(tmpdir(), 'offhook-package-'));
  try {
    const dist = join(stage, 'dist');
    await buildDist(dist);
    mkdirSync(out, { recursive: true });
    const files: Record<string, string> = {};
    const self = `(= ${version})`;

    // offhook: the command every other package's unit runs, and what an operator needs on any host.
    const common = join(stage, 'offhook');
    writeFileSync(join(dist, 'offhook.installed'), launcherScript(LIB_DIR));
    put(common, join(dist, 'offhook.installed'), '/usr/bin/offhook', 0o755);
    putBundle(common, dist, 'offhook.mjs');
    putBundle(common, dist, 'cli.mjs');
    for (const tool of NATS_TOOLS) putBundle(common, dist, tool.bundle, 0o755);
    for (const file of ['nats-server.conf', 'nats-cluster.conf', 'accounts.conf', 'users.conf', 'users.example.conf']) {
      put(common, join(REPO, 'deploy/nats', file), `/usr/share/offhook/nats/${file}`);
    }
    put(common, join(REPO, 'deploy/nats/make-certs.sh'), `${LIB_DIR}/nats/make-certs.sh`, 0o755);
    const dropIn = 'nats-server.service.d/offhook.conf';
    put(common, join(REPO, 'deploy/systemd', dropIn), `/usr/share/offhook/nats/${dropIn}`);
    put(common, join(REPO, 'README.md'), '/usr/share/doc/offhook/README.md');
    put(common, join(REPO, 'deploy/README.md'), '/usr/share/doc/offhook/deploy-README.md');
    put(common, join(REPO, 'deploy/nats/README.md'), '/usr/share/doc/offhook/nats-README.md');
    files.offhook = writeDeb(
      common,
      {
        name: 'offhook',
        version,
        architecture: 'all',
        depends: [NODE_DEPENDS],
        conffiles: [],
        suggests: ['nats-server', 'openssl'],
        summary: 'host monitoring over NATS that ends in a phone call: command and operator tools',
        description: `The offhook command (/usr/bin/offhook) that the offhook-agent, offhook-collector and
        offhook-gateway units run, the operator commands (alerts, ack, silence, status, check-config),
        and the NATS server setup: example configs, users-file generator, make-certs.sh.`,
        scripts: maintainerScripts(null),
      },
      out,
    );

    const agent = rolePackage(stage, dist, 'agent');
    files['offhook-agent'] = writeDeb(
      agent,
      {
        name: 'offhook-agent',
        version,
        architecture: 'all',
        depends: [`offhook ${self}`, NODE_DEPENDS],
        suggests: ['monitoring-plugins-basic'],
        conffiles: ['/etc/offhook/agent.yaml'],
        summary: 'offhook host agent: checks, resources and log rules to NATS',
        description: `Runs on every monitored server. Plain JavaScript on the system's Node.js: no compiler and
        no native addon needed.`,
        scripts: maintainerScripts('agent'),
      },
      out,
    );

    const collector = rolePackage(stage, dist, 'collector');
    for (const file of ['app.js', 'app.css']) put(collector, join(dist, 'console', file), `${LIB_DIR}/console/${file}`);
    files['offhook-collector'] = writeDeb(
      collector,
      {
        name: 'offhook-collector',
        version,
        architecture: 'all',
        depends: [`offhook ${self}`, NODE_DEPENDS],
        suggests: ['offhook-trac-sqlite', 'nats-server'],
        conffiles: ['/etc/offhook/collector.yaml'],
        summary: 'offhook collector: rules, alerts, notifiers, status page',
        description: `Evaluates the agents' events into alerts and runs the notifiers. The trac notifier's
        SQLite mode needs offhook-trac-sqlite.`,
        scripts: maintainerScripts('collector'),
      },
      out,
    );

    const arch = hostArchitecture();
    // buildDist has failed already if native/ had no addon to copy.
    const addon = join(dist, NATIVE_ADDON);
    const gateway = rolePackage(stage, dist, 'gateway');
    put(gateway, addon, `${LIB_DIR}/${NATIVE_ADDON}`);
    // Built here only if this machine has vpb-driver's vpbapi.h; it then needs the same libvpb on the gateway host.
    if (existsSync(join(dist, VPB_SHIM))) put(gateway, join(dist, VPB_SHIM), `${LIB_DIR}/${VPB_SHIM}`);
    files['offhook-gateway'] = writeDeb(
      gateway,
      {
        name: 'offhook-gateway',
        version,
        architecture: arch,
        depends: [`offhook ${self}`, NODE_DEPENDS, 'libc6', 'libstdc++6', 'espeak-ng', 'sox'],
        recommends: ['baresip-core'],
        conffiles: ['/etc/offhook/gateway.yaml'],
        summary: 'offhook telephony gateway: phones people about alerts on one line',
        description: `Drives the Voicetronix OpenPCI card through libvpb (loaded at run time) or a SIP account
        through baresip, speaks with espeak-ng and sox. Contains the line addon built for ${arch}.`,
        scripts: maintainerScripts('gateway'),
      },
      out,
    );

    const sqlite = join(stage, 'offhook-trac-sqlite');
    for (const module of ['better-sqlite3', 'bindings', 'file-uri-to-path']) {
      const from = join(REPO, 'node_modules', module);
      const parts = ['package.json', 'LICENSE', 'lib', 'bindings.js', 'index.js', 'build/Release/better_sqlite3.node'];
      for (const part of parts) {
        if (!existsSync(join(from, part))) continue;
        cpSync(join(from, part), join(sqlite, LIB_DIR, 'node_modules', module, part), { recursive: true });
      }
    }
    files['offhook-trac-sqlite'] = writeDeb(
      sqlite,
      {
        name: 'offhook-trac-sqlite',
        version,
        architecture: arch,
        // better-sqlite3 is built against this Node's ABI (not N-API like the line addon): same major on the host.
        depends: [`offhook-collector ${self}`, ...nodeMajor(), 'libc6', 'libstdc++6'],
        conffiles: [],
        summary: "offhook: SQLite driver for the collector's trac notifier",
        description: `better-sqlite3 (native, built for ${arch}) where the offhook collector finds it. Only the
        trac notifier in SQLite mode uses it.`,
        scripts: {},
      },
      out,
    );
    return { dir: out, files };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

const USAGE = `Usage: npm run package [-- --out DIR]
Builds dist/ and the Debian packages offhook, offhook-agent, offhook-collector (Architecture: all),
offhook-gateway and offhook-trac-sqlite (this machine's architecture) with dpkg-deb into DIR (default
dist/debian). Offline; native/ must be built (deploy/bootstrap.sh does it).
`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  let out = join(REPO, 'dist/debian');
  if (args[0] === '--out' && args[1]) out = args[1];
  else if (args.length > 0) {
    process.stderr.write(`offhook package: unexpected argument ${args[0]} (see --help)\n`);
    process.exit(2);
  }
  const { files } = await buildPackages(out).catch((err: Error) => {
    process.stderr.write(`offhook package: ${err.message}\n`);
    process.exit(1);
  });
  for (const file of Object.values(files)) process.stdout.write(`${file}\n`);
}
