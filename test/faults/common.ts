import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CallRecord, type Subjects } from '../../shared/index.ts';

/**
 * What every fault scenario tried, what it counted and what was lost; printed as one table when
 * the suite ends (and written to $OFFHOOK_FAULTS_SUMMARY when set), so a run reads as a report.
 */
export interface FaultRecord {
  scenario: string;
  tried: string;
  counts: Record<string, number>;
  /** Must be zero: events, alerts, notifications or calls that went missing. */
  lost: number;
}

const records: FaultRecord[] = [];

export function recordFault(record: FaultRecord): void {
  records.push(record);
}

after(function () {
  if (records.length === 0) return;
  const lines = [
    '',
    'fault suite summary',
    ...records.map(
      (r) =>
        `- ${r.scenario}: ${r.tried}\n    counts: ${Object.entries(r.counts)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}\n    lost: ${r.lost}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.env.OFFHOOK_FAULTS_SUMMARY)
    writeFileSync(process.env.OFFHOOK_FAULTS_SUMMARY, JSON.stringify(records, null, 2));
});

/** One espeak cache for every gateway the suite starts: prompts are rendered once. */
export const speechDir = mkdtempSync(join(tmpdir(), 'offhook-faults-speech-'));

/** The sim far end answering and acknowledging `times` calls to `number`. */
export function answersAndAcks(number: string, times: number): object[] {
  return Array.from({ length: times }, () => ({
    number,
    answerAfterRings: 1,
    then: [{ waitForPrompt: 'menu' }, { press: '1' }],
  }));
}

/** Budget wide enough that the scenario, not the rate limits, decides how many calls happen. */
export const GENEROUS_BUDGET = {
  max_calls_per_hour: 1000,
  max_calls_per_day: 1000,
  max_call_minutes_per_day: 1000,
  per_number: { max_calls_per_minute: 100, max_calls_per_15m: 1000, max_calls_per_hour: 1000, max_calls_per_day: 1000 },
};

/** A gateway on the sim line whose one person (alice, 100) answers and acknowledges `calls` calls. */
export function ackingGatewayConfig(natsUrl: string, prefix: string, calls: number): Record<string, unknown> {
  return {
    gateway_host: 'gw1',
    nats: { servers: [natsUrl], prefix },
    state_dir: speechDir,
    metrics_listen: '127.0.0.1:0',
    line: { backend: 'sim', sim: { speed: 100, far_end: answersAndAcks('100', calls) } },
    people: [{ name: 'alice', number: '100' }],
    budget: GENEROUS_BUDGET,
  };
}

/** Every message of `stream` from the start (ordered consumer), until `expected` have arrived or `timeoutMs` passed. */
export async function readStream<T>(
  nc: NatsConnection,
  stream: string,
  expected: number,
  timeoutMs = 30_000,
): Promise<{ subject: string; seq: number; data: T }[]> {
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  const out: { subject: string; seq: number; data: T }[] = [];
  const timer = setTimeout(() => messages.stop(), timeoutMs);
  try {
    if (expected > 0) {
      for await (const msg of messages) {
        out.push({ subject: msg.subject, seq: msg.seq, data: msg.json<T>() });
        if (out.length >= expected) break;
      }
    }
  } finally {
    clearTimeout(timer);
    messages.stop();
  }
  return out;
}

/** Every call record the gateway publishes from now on, in arrival order. */
export function recordCalls(nc: NatsConnection, subjects: Subjects): CallRecord[] {
  const calls: CallRecord[] = [];
  nc.subscribe(subjects.allCalls, { callback: (_e, m) => void calls.push(CallRecord.parse(m.json())) });
  return calls;
}
