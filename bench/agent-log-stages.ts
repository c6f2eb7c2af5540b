import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Agent, AgentConfig } from '../agent/index.ts';
import { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import { ensureStreams, silentLogger, Subjects } from '../shared/index.ts';
import { trialLogSource } from './log-trials.ts';

/**
 * Where an idle agent's time goes between a log line's write and its JetStream publish leaving the socket, stage by
 * stage, in-process: a real Agent (no resources, no checks) on a spawned nats-server, a writer in another process
 * putting one matching line every GAP ms with its CLOCK_MONOTONIC time in it (process.hrtime is the same clock in
 * both processes). Run it as the installed agent runs for the production picture:
 * node $(AGENT_NODE_FLAGS) --import tsx bench/agent-log-stages.ts [LINES] [GAP_MS]
 */
const LINES = Number(process.argv[2] ?? 150);
const GAP_MS = Number(process.argv[3] ?? 30);
const WARMUP = 10;
const STAGES = ['wake', 'look', 'handle', 'submit', 'parsed', 'publish', 'socket', 'ack', 'checkpoint'] as const;
type Stage = (typeof STAGES)[number];

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
let current: Partial<Record<Stage, number>> | null = null;
const done: Partial<Record<Stage, number>>[] = [];
const texts = new Map<Partial<Record<Stage, number>>, string>();
const mark = (stage: Stage): void => {
  if (!current) {
    if (stage !== 'wake') return;
    current = {};
  }
  current[stage] ??= now();
};

/** Wraps obj[name] so each call marks `stage` first (on entry) or when its promise settles (`after`). */
function wrap(obj: object, name: string, stage: Stage, after = false): void {
  const target = obj as Record<string, (...args: unknown[]) => unknown>;
  const original = target[name]!;
  target[name] = function (this: unknown, ...args: unknown[]) {
    if (!after) mark(stage);
    const result = original.apply(this, args);
    if (after) {
      if (result instanceof Promise) void result.then(() => mark(stage));
      else mark(stage);
    }
    return result;
  };
}

const dir = mkdtempSync(join(tmpdir(), 'offhook-stages-'));
const server = EmbeddedNatsServer.create({});
await server.start();
const subjects = new Subjects('stages');
const admin = await connect({ servers: server.url });
await ensureStreams(admin, subjects);
const logFile = join(dir, 'app.log');
writeFileSync(logFile, '');
const config = AgentConfig.parse({
  host: 'stages',
  nats: { servers: [server.url], prefix: 'stages' },
  state_dir: join(dir, 'state'),
  metrics_listen: '127.0.0.1:0',
  resources: { enabled: false },
  logs: [trialLogSource(logFile)],
});
const agent = new Agent(config, { logger: silentLogger() });
const source = agent.logSources[0]! as unknown as Record<string, unknown>;
const follower = source.follower as Record<string, unknown>;
const trigger = follower.trigger as () => Promise<void>;
follower.trigger = function (this: unknown) {
  mark('wake');
  const polled = trigger.call(follower);
  // A timer poll that found nothing is no trial.
  void polled.then(() => {
    if (current && current.handle === undefined) current = null;
  });
  return polled;
};
wrap(follower, 'look', 'look', true);
const handle = source.handle as (lines: { text: string }[], position: unknown) => Promise<void>;
source.handle = (lines: { text: string }[], position: unknown) => {
  mark('handle');
  // Read from the text once the trial is over: a regex here would be timed as the agent's work.
  if (current) texts.set(current, lines[0]?.text ?? '');
  return handle.call(source, lines, position);
};
const publisher = agent.publisher as unknown as Record<string, unknown>;
wrap(publisher, 'submit', 'submit');
wrap((publisher.options as Record<string, unknown>).sequence as object, 'next', 'parsed');
const attach = publisher.attach as (js: Record<string, unknown>) => void;
publisher.attach = (js: Record<string, unknown>) => {
  wrap(js, 'publish', 'publish');
  wrap(js, 'publish', 'ack', true);
  attach.call(publisher, js);
};
const write = Socket.prototype.write;
Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
  if (current?.publish !== undefined) mark('socket');
  return (write as (...a: unknown[]) => boolean).apply(this, args);
};
// A checkpoint ends a trial: the line's last step.
const save = source.saveCheckpoint as (...args: unknown[]) => void;
source.saveCheckpoint = (...args: unknown[]) => {
  mark('checkpoint');
  save.apply(source, args);
  if (current?.ack !== undefined) {
    done.push(current);
    current = null;
  }
};

await agent.start();
await new Promise<void>((resolve, reject) => {
  const check = setInterval(() => {
    if (!(publisher.connected as boolean)) return;
    clearInterval(check);
    resolve();
  }, 20);
  setTimeout(() => reject(new Error('agent not connected')), 10_000).unref();
});

const writer = spawn(
  process.execPath,
  [
    '-e',
    `const fs = require('node:fs'); const fd = fs.openSync(${JSON.stringify(logFile)}, 'a'); let n = 0;
     const t = setInterval(() => {
       const at = Number(process.hrtime.bigint()) / 1e6;
       const line = '2026-11-25T12:00:00Z app[7]: FATAL trial=' + n + ' at=' + at.toFixed(4) + ' out of widgets';
       fs.writeSync(fd, line + '\\n');
       if (++n >= ${LINES + WARMUP}) { clearInterval(t); process.exit(0); }
     }, ${GAP_MS});`,
  ],
  { stdio: 'inherit' },
);
const cpuBefore = process.cpuUsage();
await new Promise((resolve) => writer.on('exit', resolve));
await new Promise((resolve) => setTimeout(resolve, 200));
const cpu = process.cpuUsage(cpuBefore);
await agent.stop();
await admin.close();
await server.dispose();
rmSync(dir, { recursive: true, force: true });

// With --cpu-prof: the windows (wake-up to socket write, ms on CLOCK_MONOTONIC) to restrict the profile to.
if (process.env.STAGES_WINDOWS)
  writeFileSync(process.env.STAGES_WINDOWS, JSON.stringify(done.slice(WARMUP).map((t) => [t.wake, t.socket])));
const rows = done.slice(WARMUP).flatMap((trial) => {
  const at = /at=([\d.]+)/.exec(texts.get(trial) ?? '');
  return at ? [{ trial, written: Number(at[1]) }] : [];
});
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
process.stdout.write(`flags: ${process.execArgv.filter((a) => a.startsWith('--')).join(' ') || 'none'}\n`);
process.stdout.write(`${rows.length} lines, ${GAP_MS} ms apart; ms from the line's write (p50 / p90)\n`);
const perLine = (us: number): string => (us / 1000 / (LINES + WARMUP)).toFixed(3);
process.stdout.write(`  cpu/line    ${perLine(cpu.user)} user + ${perLine(cpu.system)} system (ms, whole process)\n`);
for (const stage of STAGES) {
  const values = rows.filter((r) => r.trial[stage] !== undefined).map((r) => r.trial[stage]! - r.written);
  if (values.length === 0) continue; // a stage a changed path no longer passes through
  const p50 = percentile(values, 50).toFixed(3);
  process.stdout.write(`  ${stage.padEnd(11)} ${p50.padStart(7)}  ${percentile(values, 90).toFixed(3).padStart(7)}\n`);
}
