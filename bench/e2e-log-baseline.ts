import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamClient, openBucket, publishDurable, type Subjects } from '../shared/index.ts';
import { nowMs, percentile } from './lib.ts';

export interface RoundTrips {
  publishP50: number;
  kvPutP50: number;
  /** One JetStream publish, then a KV put beside a KV get: the round trips on the path from line to webhook. */
  chainP50: number;
}

/**
 * What the NATS round trips alone cost on this machine and server, from the bench process: the floor under the
 * log path. One after the other before the webhook can be sent: the agent's publish (the collector's consumer gets
 * the event once it is stored, about when the PubAck leaves), then the alert record's put (persistence before
 * notify) with the dispatcher's notification-log lookup beside it. The lease fence is local while the lease is
 * fresh and the pending mark goes beside the POST, so neither is on the path any more (issue #17; until 11-29 the
 * floor was a publish and four puts in turn, ~3.5 ms). Writes its own keys (bench.rt.*) next to the collector's;
 * nothing reads them.
 */
export async function roundTrips(nc: NatsConnection, subjects: Subjects, rounds = 30): Promise<RoundTrips> {
  const js = jetstreamClient(nc);
  const kv = await openBucket(nc, subjects, 'alerts');
  const body = { id: '', alert: { labels: { trial: 'baseline' } }, pad: 'x'.repeat(600) };
  const publish: number[] = [];
  const put: number[] = [];
  const chain: number[] = [];
  // Each measurement after a pause like the trials': an idle process and server wake up for it, as for a lone line.
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));
  for (let i = 0; i < rounds; i++) {
    await pause();
    let t = nowMs();
    await publishDurable(js, subjects.event('bench-rt', 'log'), { ...body, id: `rt-${Date.now()}-${i}` });
    publish.push(nowMs() - t);
    await pause();
    t = nowMs();
    await kv.put(`bench.rt.${i % 10}`, JSON.stringify(body));
    put.push(nowMs() - t);
    await pause();
    t = nowMs();
    await publishDurable(js, subjects.event('bench-rt', 'log'), { ...body, id: `rtc-${Date.now()}-${i}` });
    await Promise.all([kv.put('bench.rt.record', JSON.stringify(body)), kv.get('bench.rt.lookup')]);
    chain.push(nowMs() - t);
  }
  return { publishP50: percentile(publish, 50), kvPutP50: percentile(put, 50), chainP50: percentile(chain, 50) };
}
