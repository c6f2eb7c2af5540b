import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import { buildDist } from '../deploy/build/build.ts';
import { killAndWait, waitForOutput } from '../deploy/lib/processes.ts';
import { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import { report, type BenchRow } from './lib.ts';
import { MIB, rssBytes } from './proc-stats.ts';

/**
 * What the production build buys: start-up time and peak RSS of short commands, and the steady RSS of each role
 * after it settles, run from the esbuild bundles (dist/offhook, as installed) against the same commands through tsx
 * (node offhook.mjs, as in development). Every command is the same code; only how it is loaded differs.
 * OFFHOOK_BENCH_SECONDS sets how long each role settles before its RSS is read (default 10).
 */
const RUNS = 7;
const EXAMPLES = ['agent', 'collector', 'gateway'].map((role) => `deploy/examples/${role}.yaml`);
const SETTLE_S = Number(process.env.OFFHOOK_BENCH_SECONDS ?? 10);

type Loader = 'built' | 'tsx';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Wall seconds and peak RSS (GNU time) of one short command, median of RUNS after one warm-up. */
function timeCommand(command: string[]): { seconds: number; peakMiB: number } {
  const seconds: number[] = [];
  const peaks: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const result = spawnSync('/usr/bin/time', ['-f', '%e %M', ...command], { encoding: 'utf8', cwd: process.cwd() });
    const [wall, kib] = result.stderr.trim().split('\n').pop()!.split(' ').map(Number);
    if (i === 0) continue; // warm-up: page cache, not the loader
    seconds.push(wall!);
    peaks.push(kib! / 1024);
  }
  return { seconds: median(seconds), peakMiB: median(peaks) };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'offhook-bench-startup-'));
  const dist = join(dir, 'dist');
  const nats = await EmbeddedNatsServer.start({ storeDir: join(dir, 'js') });
  try {
    await buildDist(dist);
    const how: Record<Loader, string[]> = { built: [join(dist, 'offhook')], tsx: [process.execPath, 'offhook.mjs'] };
    const rows: BenchRow[] = [];
    const commands: [string, string[]][] = [
      ['offhook agent --help', ['agent', '--help']],
      ['offhook --help (every role)', ['--help']],
      ['offhook check-config (3 examples)', ['check-config', ...EXAMPLES]],
    ];
    for (const [name, args] of commands) {
      const built = timeCommand([...how.built, ...args]);
      const tsx = timeCommand([...how.tsx, ...args]);
      rows.push({
        name: `${name}: wall time, built`,
        value: built.seconds,
        unit: 's',
        baseline: { name: 'tsx', value: tsx.seconds },
      });
      rows.push({
        name: `${name}: peak RSS, built`,
        value: built.peakMiB,
        unit: 'MiB',
        baseline: { name: 'tsx', value: tsx.peakMiB },
      });
    }

    const configs = writeConfigs(dir, nats.url);
    for (const role of ['agent', 'collector', 'gateway'] as const) {
      const rss: Record<Loader, number> = { built: 0, tsx: 0 };
      for (const loader of ['built', 'tsx'] as const) {
        const [command, ...prefix] = how[loader];
        const child = spawn(command!, [...prefix, role, '--config', configs[role]], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, OFFHOOK_LOG_LEVEL: 'info', UV_THREADPOOL_SIZE: '16' },
        });
        try {
          await waitForOutput(child, /"msg":"(agent|gateway) started"|collector listening on/, 60_000);
          await delay(SETTLE_S * 1000);
          rss[loader] = rssBytes(child.pid!) / MIB;
        } finally {
          await killAndWait(child, 'SIGTERM');
        }
      }
      rows.push({
        name: `offhook ${role}: RSS after ${SETTLE_S} s, built`,
        value: rss.built,
        unit: 'MiB',
        baseline: { name: 'tsx', value: rss.tsx },
      });
    }
    report({ bench: 'startup', rows });
  } finally {
    await nats.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeConfigs(dir: string, natsUrl: string): Record<'agent' | 'collector' | 'gateway', string> {
  const write = (name: string, value: unknown): string => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, stringify(value));
    return file;
  };
  return {
    agent: write('agent', {
      host: 'bench1',
      nats: { servers: [natsUrl] },
      state_dir: join(dir, 'agent'),
      metrics_listen: '127.0.0.1:0',
      checks: [{ name: 'self', kind: 'tcp', host: '127.0.0.1', port: Number(new URL(natsUrl).port), interval: '1s' }],
    }),
    collector: write('collector', {
      nats: { servers: [natsUrl] },
      listen: '127.0.0.1:0',
      rules: [{ name: 'port', kind: 'check', check: '.*' }],
    }),
    gateway: write('gateway', {
      gateway_host: 'gw-bench',
      nats: { servers: [natsUrl] },
      state_dir: join(dir, 'gateway'),
      metrics_listen: '127.0.0.1:0',
      line: { backend: 'sim', sim: { speed: 100 } },
      people: [{ name: 'alice', number: '100' }],
    }),
  };
}
