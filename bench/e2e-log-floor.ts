import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { killAndWait, spawnTracked, waitForOutput } from '../deploy/lib/processes.ts';
import { webhookReceiver } from '../deploy/lib/webhook-receiver.ts';
import { nowMs } from './lib.ts';
import { arrival, settleWebhooks, trialLine, type Arrivals } from './log-trials.ts';

const RELAY = fileURLToPath(new URL('./log-relay.ts', import.meta.url));
const STREAM = 'BENCH_LOG_FLOOR';
const SUBJECT = 'bench-log-floor.events';

/**
 * Line → webhook through the bare relay (bench/log-relay.ts): the same hops as offhook's log path — inotify, a
 * JetStream publish delivered to an ordered consumer in another process, a KV put beside a KV get, a webhook POST to
 * this process — with no processing at any of them. Run after offhook's trials, alone on the machine, with the same
 * pacing; returns each trial's milliseconds (the warm-up trial left out).
 */
export async function relayLatencies(dir: string, serverUrl: string, nc: NatsConnection, trials: number) {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: [SUBJECT], duplicate_window: 120e9 });
  const file = join(dir, 'floor.log');
  writeFileSync(file, '');
  const hook = await webhookReceiver();
  const waiting: Arrivals = new Map();
  settleWebhooks(hook, waiting);
  const relay = (args: string[]) => {
    const child = spawnTracked(process.execPath, ['--import', 'tsx', RELAY, ...args]);
    return waitForOutput(child, /ready/, 30_000).then(() => child);
  };
  const committer = await relay(['committer', serverUrl, STREAM, 'bench-log-floor', hook.url]);
  const reader = await relay(['reader', serverUrl, SUBJECT, file]);
  const latencies: number[] = [];
  try {
    for (let trial = 0; trial <= trials; trial++) {
      const arrived = arrival(waiting, String(trial), "the relay's webhook");
      const writtenAt = nowMs();
      appendFileSync(file, `${trialLine(trial)}\n`);
      const at = await arrived;
      if (trial > 0) latencies.push(at - writtenAt);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    for (const child of [reader, committer]) await killAndWait(child, 'SIGTERM');
    await hook.close();
    await jsm.streams.delete(STREAM).catch(() => undefined);
  }
  return latencies;
}
