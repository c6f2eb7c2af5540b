import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import { startOffhook } from '../deploy/lib/offhook-process.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../deploy/lib/processes.ts';
import { scrape, sumOf } from '../deploy/lib/metrics-text.ts';
import { bucketName, ensureStreams, streamNames, Subjects } from '../shared/index.ts';
import { publishHosts } from './e2e-load.ts';
import type { BenchRow } from './lib.ts';
import { cpuSeconds, MIB, rssBytes } from './proc-stats.ts';

const BARE = fileURLToPath(new URL('./bare-subscriber.ts', import.meta.url));
const POLL_MS = 100;
const LIMIT_MS = 600_000;

export const RULES = [
  {
    name: 'disk_full',
    kind: 'threshold',
    metric: 'offhook_filesystem_used_ratio',
    warn: 0.85,
    crit: 0.95,
    clear_below: 0.8,
    for: '2m',
  },
  { name: 'load_high', kind: 'threshold', metric: 'node_load5', crit: 20, clear_below: 15, for: '5m' },
  {
    name: 'memory_full',
    kind: 'threshold',
    metric: 'offhook_memory_used_ratio',
    warn: 0.9,
    crit: 0.97,
    clear_below: 0.85,
    for: '1m',
  },
  {
    name: 'few_processes',
    kind: 'threshold',
    metric: 'node_processes_pids',
    comparison: '<',
    crit: 5,
    clear_above: 10,
  },
  { name: 'cpu_busy', kind: 'threshold', metric: 'offhook_cpu_usage_ratio', warn: 0.9, crit: 0.98, for: '10m' },
  { name: 'host_down', kind: 'host_down', missed_heartbeats: 6 },
];

/** CPU seconds of the whole process and wall seconds, both counted from its spawn. */
interface Run {
  cpu: number;
  seconds: number;
  rssMax: number;
}

/**
 * A collector from spawn until its /metrics count every event in the stream (processed, invalid or duplicate),
 * polled every 100 ms; `events` 0 is the idle run: spawn until "listening" and one scrape.
 */
async function collectorRun(dir: string, url: string, prefix: string, events: number): Promise<Run> {
  const started = performance.now();
  const collector = await startOffhook('collector', dir, `collector-${prefix}`, {
    nats: { servers: [url], prefix },
    listen: '127.0.0.1:0',
    rules: RULES,
  });
  const pid = collector.child.pid!;
  let rssMax = 0;
  try {
    for (;;) {
      rssMax = Math.max(rssMax, rssBytes(pid));
      const m = await scrape(collector.metricsUrl);
      const done =
        sumOf(m, 'offhook_collector_events_total') +
        sumOf(m, 'offhook_invalid_messages_total') +
        sumOf(m, 'offhook_collector_duplicate_events_total');
      if (done >= events) break;
      if (performance.now() - started > LIMIT_MS) throw new Error(`collector processed ${done} of ${events} events`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return { cpu: cpuSeconds(pid), seconds: (performance.now() - started) / 1000, rssMax };
  } finally {
    await killAndWait(collector.child, 'SIGTERM');
  }
}

/** bench/bare-subscriber.ts from spawn until it says it has parsed `events` messages (0: start-up only). */
async function bareRun(url: string, stream: string, events: number): Promise<Run> {
  const started = performance.now();
  const child = spawnTracked(process.execPath, ['--import', 'tsx', BARE, url, stream, String(events)]);
  try {
    await waitForOutput(child, /^done \d+/, LIMIT_MS);
    return {
      cpu: cpuSeconds(child.pid!),
      seconds: (performance.now() - started) / 1000,
      rssMax: rssBytes(child.pid!),
    };
  } finally {
    await killAndWait(child, 'SIGTERM');
  }
}

/** Trials per host count, bare subscriber and collector in alternating order (OFFHOOK_BENCH_THROUGHPUT_TRIALS). */
const TRIALS = Math.max(1, Number(process.env.OFFHOOK_BENCH_THROUGHPUT_TRIALS ?? 3));

interface Net {
  cpu: number;
  seconds: number;
  rssMax: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The collector process replaying `hosts` × `rounds` realistic samples published beforehand, next to a bare
 * subscriber process over the same stream. Both are counted from spawn and each has its own idle run (same start-up,
 * empty stream) subtracted, so neither start-up nor where a "ready" line falls shifts the figures. TRIALS pairs of
 * runs, the bare subscriber first in even trials and second in odd ones, so neither always meets the machine the
 * other left behind; the rows hold the medians and the notes every trial.
 */
export async function collectorThroughput(dir: string, hosts: number, rounds: number): Promise<BenchRow[]> {
  const server = await EmbeddedNatsServer.start({ storeDir: join(dir, `js-${hosts}`) });
  const nc = await connect({ servers: server.url });
  const subjects = new Subjects(`tp${hosts}`);
  const idle = new Subjects(`tpidle${hosts}`);
  try {
    await ensureStreams(nc, subjects);
    await ensureStreams(nc, idle);
    const { events, bytes } = await publishHosts(nc, subjects, hosts, rounds);
    const stream = streamNames(subjects).events;
    const jsm = await jetstreamManager(nc);
    const stored = (await jsm.streams.info(stream)).state.messages;
    if (stored !== events) throw new Error(`stored ${stored} of ${events} events`);

    const idleCollector = await collectorRun(dir, server.url, idle.prefix, 0);
    const idleBare = await bareRun(server.url, streamNames(idle).events, 0);
    const net = (run: Run, start: Run): Net => ({
      cpu: run.cpu - start.cpu,
      seconds: run.seconds - start.seconds,
      rssMax: run.rssMax,
    });
    const collectorTrial = async (): Promise<Net> => {
      // A collector resumes from its predecessor's checkpoint: each trial's starts from none and replays everything.
      await jsm.streams.purge(`KV_${bucketName(subjects, 'checkpoints')}`);
      return net(await collectorRun(dir, server.url, subjects.prefix, events), idleCollector);
    };
    const bareTrial = async (): Promise<Net> => net(await bareRun(server.url, stream, events), idleBare);
    const trials: { c: Net; b: Net }[] = [];
    for (let t = 0; t < TRIALS; t++) {
      if (t % 2 === 0) {
        const b = await bareTrial();
        trials.push({ b, c: await collectorTrial() });
      } else {
        const c = await collectorTrial();
        trials.push({ c, b: await bareTrial() });
      }
    }
    const rate = (n: Net): number => events / n.seconds;
    const per1k = (n: Net): number => (n.cpu / events) * 1000;
    const each = (f: (t: { c: Net; b: Net }) => number, digits: number): string =>
      trials.map((t) => f(t).toFixed(digits)).join(', ');
    const label = `${hosts.toLocaleString('en')} hosts`;
    const startup =
      `start-up subtracted (idle run, empty stream): collector ${idleCollector.cpu.toFixed(2)} CPU s / ` +
      `${idleCollector.seconds.toFixed(2)} s, bare ${idleBare.cpu.toFixed(2)} CPU s / ${idleBare.seconds.toFixed(2)} s`;
    return [
      {
        name:
          `collector process events/s, ${label} (${events} samples, ` +
          `${Math.round(bytes / events)} B each, 38 points)`,
        value: median(trials.map((t) => rate(t.c))),
        unit: 'events/s',
        baseline: { name: 'bare subscriber process, JSON.parse only', value: median(trials.map((t) => rate(t.b))) },
        note:
          `median of ${TRIALS} trials, bare and collector in alternating order (per trial collector/bare: ` +
          `${each((t) => rate(t.c) / rate(t.b), 2)}); published first, then each process replays the stream from ` +
          'its start; 5 threshold rules + host_down; wall time from spawn to the last event (collector: /metrics ' +
          `polled every ${POLL_MS} ms; bare: its "done" line) minus the idle run's spawn-to-ready; ${startup}`,
      },
      {
        name: `collector CPU per 1,000 events, ${label}`,
        value: median(trials.map((t) => per1k(t.c))),
        unit: 'CPU s',
        baseline: { name: 'bare subscriber process, JSON.parse only', value: median(trials.map((t) => per1k(t.b))) },
        note:
          `median of ${TRIALS} trials; whole-process CPU from spawn (/proc) minus the idle run's; collector ` +
          `${each((t) => t.c.cpu, 2)} CPU s, bare ${each((t) => t.b.cpu, 2)} CPU s of work. The inverse of this ` +
          "ratio is the collector's share of the bare rate when both have a core to themselves; the events/s " +
          'ratio also holds how the machine scheduled them',
      },
      {
        name: `collector CPU share while replaying, ${label}`,
        value: median(trials.map((t) => (t.c.cpu / t.c.seconds) * 100)),
        unit: '% of a core',
      },
      { name: `collector RSS max, ${label}`, value: Math.max(...trials.map((t) => t.c.rssMax)) / MIB, unit: 'MiB' },
    ];
  } finally {
    await nc.close();
    await server.dispose();
  }
}
