import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import si from 'systeminformation';
import { stringify } from 'yaml';
import { FileFollower, ResourceSampler } from '../agent/index.ts';
import { RuleSet } from '../agent/logs/rules.ts';
import { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import { buildDist } from '../deploy/build/build.ts';
import { killAndWait, waitForOutput } from '../deploy/lib/processes.ts';
import { ensureStreams, Subjects } from '../shared/index.ts';
import { connect } from '@nats-io/transport-node';
import { report, type BenchRow } from './lib.ts';
import { measureParts, runParts } from './parts.ts';

/**
 * The agent's cost on a host:
 * 1. one resource sample from /proc (what the agent does) vs the systeminformation calls that gather the same;
 * 2. CPU share and RSS of `offhook agent` at its default configuration (10 s full samples, 250 ms fast tick), built
 *    and through tsx, over 60 s next to prometheus-node-exporter scraped once a second in the same run;
 * 3. log lines/s through the follower and 20 rules vs `tail -n +1 FILE | grep -E` on the same file.
 * OFFHOOK_BENCH_SECONDS shortens part 2 for a quick look (the reported run uses 60); OFFHOOK_BENCH_PARTS picks parts.
 */
const WINDOW_S = Number(process.env.OFFHOOK_BENCH_SECONDS ?? 60);
const LOG_LINES = 400_000;

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}
function systemForks(): number {
  return Number(/^processes (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
}

async function sampleCost(): Promise<BenchRow[]> {
  const rounds = 5;
  const sampler = new ResourceSampler();
  await sampler.sample();
  await si.currentLoad(); // first call gathers CPU inventory; not part of the steady state
  let procMs = 0;
  let siMs = 0;
  let procForks = 0;
  let siForks = 0;
  for (let i = 0; i < rounds; i++) {
    // si caches for 500 ms; spacing the rounds like a 1 s loop makes each call do its real work.
    await delay(1050);
    let forks = systemForks();
    let start = performance.now();
    await sampler.sample();
    procMs += performance.now() - start;
    procForks += systemForks() - forks;
    forks = systemForks();
    start = performance.now();
    await Promise.all([si.currentLoad(), si.mem(), si.fsSize(), si.networkStats('*'), si.disksIO(), si.processes()]);
    siMs += performance.now() - start;
    siForks += systemForks() - forks;
  }
  return [
    {
      name: 'resource sample wall time (/proc, what the agent does)',
      value: procMs / rounds,
      unit: 'ms',
      baseline: { name: 'systeminformation same data', value: siMs / rounds },
    },
    {
      name: 'processes forked per sample (/proc)',
      value: procForks / rounds,
      unit: 'forks',
      baseline: { name: 'systeminformation', value: siForks / rounds },
      note: 'system-wide fork counter delta, so other activity on the machine adds noise',
    },
  ];
}

/**
 * The agents measured side by side, each at the default configuration (10 s full samples + the 250 ms fast tick):
 * built = the bundle through the `offhook` launcher, as installed; tsx = the sources, as in development;
 * before = another build (OFFHOOK_BENCH_AGENT_BEFORE=DIR, e.g. `npm run build -- DIR` on an older
 * commit, run through its own launcher) for a before/after in the same window.
 */
const BEFORE_DIST = process.env.OFFHOOK_BENCH_AGENT_BEFORE;
const AGENTS = ['built', 'tsx', ...(BEFORE_DIST ? (['before'] as const) : [])] as const;

async function agentVersusNodeExporter(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'offhook-bench-agent-'));
  const nats = await EmbeddedNatsServer.start({ storeDir: join(dir, 'js') });
  const children: ChildProcess[] = [];
  try {
    const nc = await connect({ servers: nats.url });
    await ensureStreams(nc, new Subjects());
    // The bundle as installed (npm run build into a scratch dir) and the source through tsx, as in development.
    await buildDist(join(dir, 'dist'));
    const command: Record<(typeof AGENTS)[number], string[]> = {
      built: [join(dir, 'dist', 'offhook')],
      tsx: [process.execPath, 'offhook.mjs'],
      before: [join(BEFORE_DIST ?? '', 'offhook')],
    };
    const pids = {} as Record<(typeof AGENTS)[number], number>;
    for (const how of AGENTS) {
      const config = join(dir, `agent-${how}.yaml`);
      const settings = { host: `bench-${how}`, nats: { servers: [nats.url] }, state_dir: join(dir, `state-${how}`) };
      writeFileSync(config, stringify({ ...settings, metrics_listen: '127.0.0.1:0' }));
      const [program, ...args] = command[how];
      const agent = spawn(program!, [...args, 'agent', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(agent);
      await waitForOutput(agent, /connected to NATS/, 30_000);
      pids[how] = agent.pid!;
    }

    if (spawnSync('which', ['prometheus-node-exporter']).status !== 0) {
      process.stdout.write('installing prometheus-node-exporter from apt...\n');
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'prometheus-node-exporter'], {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    }
    const exporter = spawn('prometheus-node-exporter', ['--web.listen-address=127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(exporter);
    const [, port] = await waitForOutput(exporter, /address=127\.0\.0\.1:(\d+)/, 15_000);
    const exporterUrl = `http://127.0.0.1:${port}/metrics`;
    await fetch(exporterUrl).then((r) => r.text());
    await delay(5000); // past start-up (first inventory, module loading) before the window opens

    const all = { ...pids, exporter: exporter.pid! };
    const start = Object.fromEntries(Object.entries(all).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const rss = Object.fromEntries(Object.keys(all).map((k) => [k, [] as number[]]));
    let scrapeBytes = 0;
    for (let s = 0; s < WINDOW_S; s++) {
      const tick = delay(1000);
      scrapeBytes += (await (await fetch(exporterUrl)).text()).length;
      for (const [k, pid] of Object.entries(all)) rss[k]!.push(rssBytes(pid));
      await tick;
    }
    const used = Object.fromEntries(Object.entries(all).map(([k, pid]) => [k, cpuSeconds(pid) - start[k]!]));
    await nc.close();
    const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const mib = 1024 * 1024;
    const exporterBase = (value: number) => ({ name: 'node_exporter, scraped 1/s', value });
    const rows: BenchRow[] = [];
    for (const how of AGENTS) {
      const share = (k: string): number => (used[k]! / WINDOW_S) * 100;
      rows.push(
        {
          name: `agent (${how}) CPU share of one core, default config (10 s samples + 250 ms fast tick)`,
          value: share(how),
          unit: '%',
          baseline: exporterBase(share('exporter')),
        },
        {
          name: `agent (${how}) RSS average`,
          value: avg(rss[how]!) / mib,
          unit: 'MiB',
          baseline: exporterBase(avg(rss.exporter!) / mib),
        },
        {
          name: `agent (${how}) RSS max`,
          value: Math.max(...rss[how]!) / mib,
          unit: 'MiB',
          baseline: exporterBase(Math.max(...rss.exporter!) / mib),
        },
      );
    }
    rows.at(-1)!.note =
      `the agents and node_exporter ran side by side for the same ${WINDOW_S} s window; ` +
      `node_exporter served ${(scrapeBytes / WINDOW_S / 1024).toFixed(0)} KiB per scrape; built = the esbuild ` +
      'bundle (npm run build) through the offhook launcher, ' +
      `tsx = node offhook.mjs${BEFORE_DIST ? `, before = ${BEFORE_DIST}` : ''}; ` +
      "the agent's RSS includes the Node runtime (a bare node process is ~40 MiB)";
    return rows;
  } finally {
    for (const child of children) await killAndWait(child, 'SIGTERM');
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 20 rules in the common subset of JS and POSIX ERE syntax, so grep -E runs the very same patterns. */
const RULES = [
  'Out of memory: Killed process [0-9]+',
  'I/O error, dev [a-z]+',
  'segfault at [0-9a-f]+',
  'EXT4-fs error',
  'nf_conntrack: table full',
  'authentication failure',
  'Failed password for',
  'session opened for user root',
  'kernel BUG at',
  'watchdog: BUG: soft lockup',
  '\\[error\\] .*File does not exist',
  'AH[0-9]+: .*timeout',
  '" 5[0-9][0-9] [0-9]+',
  'PHP Fatal error',
  'upstream timed out',
  'InnoDB: Assertion failure',
  'mysqld got signal [0-9]+',
  'Too many connections',
  'Deadlock found',
  'Disk full',
];

function writeLogFile(path: string): Promise<number> {
  const out = createWriteStream(path);
  const normal = [
    '127.0.0.1 - - [25/Nov/2026:14:00:00 +0000] "GET /index.html HTTP/1.1" 200 5123 "-" "Mozilla/5.0"',
    'Nov 25 14:00:00 web1 CRON[1234]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)',
    'Nov 25 14:00:01 web1 kernel: [12345.678901] e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex',
  ];
  const matching = [
    'Nov 25 14:00:02 web1 sshd[999]: Failed password for root from 192.0.2.1 port 4242 ssh2',
    '10.0.0.1 - - [25/Nov/2026:14:00:03 +0000] "POST /api HTTP/1.1" 503 120 "-" "curl"',
  ];
  let matches = 0;
  for (let i = 0; i < LOG_LINES; i++) {
    // 1 % of lines match, like a real log where alerts are rare.
    if (i % 100 === 0) {
      out.write(`${matching[i % 2]} #${i}\n`);
      matches++;
    } else out.write(`${normal[i % 3]} #${i}\n`);
  }
  return new Promise((resolve) => out.end(() => resolve(matches)));
}

async function logThroughput(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'offhook-bench-log-'));
  try {
    const file = join(dir, 'access.log');
    const expected = await writeLogFile(file);
    const rules = new RuleSet(
      RULES.map((pattern, i) => ({ name: `rule${i}`, pattern, severity: 'warning' as const, ignore_case: false })),
    );
    let lines = 0;
    let matched = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const start = performance.now();
    const follower = new FileFollower(file, {
      pollMs: 1000,
      maxLineBytes: 4096,
      startAt: 'beginning',
      onLines: async (batch) => {
        for (const line of batch) matched += rules.match(line.text).length;
        lines += batch.length;
        if (lines >= LOG_LINES) resolveDone();
      },
    });
    follower.start();
    await done;
    const agentSeconds = (performance.now() - start) / 1000;
    await follower.stop();
    if (matched !== expected) throw new Error(`follower matched ${matched}, expected ${expected}`);

    const grepStart = performance.now();
    const grep = spawnSync('sh', ['-c', `tail -n +1 "$1" | grep -E -c "$2"`, 'sh', file, RULES.join('|')], {
      encoding: 'utf8',
    });
    const grepSeconds = (performance.now() - grepStart) / 1000;
    if (Number(grep.stdout.trim()) !== expected)
      throw new Error(`grep counted ${grep.stdout.trim()}, expected ${expected}`);
    return [
      {
        name: `log lines/s, follower + 20 rules (${LOG_LINES} lines, 1 % match)`,
        value: LOG_LINES / agentSeconds,
        unit: 'lines/s',
        baseline: { name: 'tail -n +1 | grep -E (20 alternatives)', value: LOG_LINES / grepSeconds },
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The same 20 rules in memory, then with the landmine `^(a|aa)+$` added and 1 % of lines a near-miss for it
 * ("a" × 60 + "!"): before shared/safe-regex.ts such a line never finished; now it costs one fallback to the
 * linear-time engine. CPU time, so other load on the machine skews it less than wall time.
 */
function landmineThroughput(): BenchRow[] {
  const lines = Array.from({ length: 100_000 }, (_, i) =>
    i % 100 === 50 ? `${'a'.repeat(60)}!` : `Nov 25 14:00:01 web1 kernel: e1000: eth0 NIC Link is Up #${i}`,
  );
  const rate = (rules: RuleSet): number => {
    const start = process.cpuUsage();
    for (const line of lines) rules.match(line);
    const used = process.cpuUsage(start);
    return lines.length / ((used.user + used.system) / 1e6);
  };
  const rule = (pattern: string, i: number) => ({
    name: `rule${i}`,
    pattern,
    severity: 'warning' as const,
    ignore_case: false,
  });
  const plain = rate(new RuleSet(RULES.map(rule)));
  const mined = rate(new RuleSet([...RULES, '^(a|aa)+$'].map(rule)));
  return [
    {
      name: 'log lines/s (CPU), 20 rules + ^(a|aa)+$, 1 % near-miss lines',
      value: mined,
      unit: 'lines/s',
      baseline: { name: 'the 20 rules alone', value: plain },
    },
  ];
}

export async function run(): Promise<void> {
  // OFFHOOK_BENCH_PARTS=footprint (or sample, log; comma-separated) runs only those, into their own results file.
  const { bench, parts } = runParts('agent');
  const rows = await measureParts(parts, [
    ['sample', sampleCost],
    ['log', async () => [...(await logThroughput()), ...landmineThroughput()]],
    ['footprint', agentVersusNodeExporter],
  ]);
  report({ bench, parts, rows });
}
