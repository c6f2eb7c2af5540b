import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { killAndWait, spawnTracked, waitForOutput } from '../deploy/lib/processes.ts';
import { scrape, sumOf } from '../deploy/lib/metrics-text.ts';
import { ensureStreams, Subjects } from '../shared/index.ts';
import { publishHosts } from './e2e-load.ts';
import { RULES } from './e2e-throughput.ts';
import { cpuSeconds } from './proc-stats.ts';

/**
 * The throughput bench's collector run under `node --cpu-prof`, for a look at where its CPU goes:
 * node --import tsx bench/throughput-profile.ts HOSTS ROUNDS PROFILE_DIR
 * Summarise the .cpuprofile it writes with bench/cpu-profile-top.ts.
 */
const [hostsText, roundsText, profileDir] = process.argv.slice(2);
const hosts = Number(hostsText ?? 1000);
const rounds = Number(roundsText ?? 60);
const dir = mkdtempSync(join(tmpdir(), 'offhook-profile-'));
const server = await EmbeddedNatsServer.start({ storeDir: join(dir, 'js') });
const nc = await connect({ servers: server.url });
const subjects = new Subjects('prof');
await ensureStreams(nc, subjects);
const { events } = await publishHosts(nc, subjects, hosts, rounds);
const config = join(dir, 'collector.yaml');
writeFileSync(
  config,
  stringify({ nats: { servers: [server.url], prefix: subjects.prefix }, listen: '127.0.0.1:0', rules: RULES }),
);
const started = performance.now();
// --cpu-prof is refused in NODE_OPTIONS, so the collector is spawned here rather than by startOffhook().
const child = spawnTracked(process.execPath, [
  '--cpu-prof',
  `--cpu-prof-dir=${profileDir ?? dir}`,
  fileURLToPath(new URL('../offhook.mjs', import.meta.url)),
  'collector',
  '--config',
  config,
]);
const ready = await waitForOutput(child, /collector listening on (\S+)/, 30_000);
const collector = { child, metricsUrl: `${ready[1]!.replace(/\/$/, '')}/metrics` };
let counts = '';
for (;;) {
  const m = await scrape(collector.metricsUrl);
  const processed = sumOf(m, 'offhook_collector_events_total');
  const duplicates = sumOf(m, 'offhook_collector_duplicate_events_total');
  counts = `${processed} processed, ${duplicates} duplicates`;
  if (processed + duplicates >= events) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${events} events (${counts}) in ${seconds.toFixed(2)} s from spawn, ` +
    `${cpuSeconds(collector.child.pid!).toFixed(2)} CPU s\n`,
);
await killAndWait(collector.child, 'SIGTERM');
await nc.close();
await server.dispose();
