import { jetstreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import {
  ensureStreams,
  fingerprint,
  jetstreamClient,
  ManualClock,
  openBucket,
  publishDurable,
  type Registry,
  streamNames,
  Subjects,
} from '../../shared/index.ts';
import { AlertRecord } from '../../collector/alerts/alert-record.ts';
import { CollectorConfig } from '../../collector/config.ts';
import type { CollectorBed } from '../helpers/collector-bed.ts';
import { EventScript } from './alerts/engine-harness.ts';
import { type RecordingSink, until } from './nats-harness.ts';

export const HOUR = 3_600_000;
export const DISK = fingerprint('web1', 'disk', {});

/**
 * A collector over its own prefix on the bed's nats-server, and what a replay test makes and reads: events published
 * as agents do (their clocks right), history made for real (events stored more than the window after it), the stored
 * records. `skewMs`: how far the collector's clock is ahead of the server's; `within`: replay.announce_within;
 * `config`: the rest of collector.yaml (the disk rule when it has no `rules`).
 */
export async function replaySetup(
  bed: CollectorBed,
  prefix: string,
  { skewMs = 3 * HOUR, within = '100ms', config: extra = {} as Record<string, unknown> } = {},
) {
  const own = new Subjects(prefix);
  await ensureStreams(bed.nc, own); // as an agent does: it may publish before any collector ran
  const config = CollectorConfig.parse({
    nats: { servers: [bed.server.url], prefix },
    listen: '127.0.0.1:0',
    checkpoint_interval: '1h',
    replay: { announce_within: within },
    rules: [{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }],
    ...extra,
  });
  const clock = new ManualClock(Date.now() + skewMs);
  const script = new EventScript(new ManualClock(Date.now())); // the agents' clocks are right
  const js = jetstreamClient(bed.nc);
  const metric = (name: string, value: number, host = 'web1') =>
    publishDurable(js, own.event(host, 'resource'), script.resource(host, name, value));
  const disk = (value: number, host = 'web1') => metric('disk_used', value, host);
  const start = (sink: RecordingSink, registry?: Registry, logger?: Logger) =>
    bed.start(config, { logger, registry, clock, sink });
  const storedAt = async (seq: number) => {
    const jsm = await jetstreamManager(bed.nc);
    return (await jsm.streams.getMessage(streamNames(own).events, { seq }))!.time.getTime();
  };
  const alertsPublished = async () =>
    (await (await jetstreamManager(bed.nc)).streams.info(streamNames(own).alerts)).state.messages;
  /** Evaluation has gone through stream sequence `seq` and everything it committed is written and handed on. */
  const evaluated = async (seq: number) => {
    await until(() => bed.collector!.engine.state.streamSeq >= seq, `event ${seq} to be evaluated`);
    await bed.collector!.idle();
  };
  const stored = async (fp = DISK) => {
    const kv = await openBucket(bed.nc, own, 'alerts');
    return AlertRecord.parse((await kv.get(fp))!.json());
  };
  /**
   * Makes what is stored so far history: another host's events until one is stored more than the window after
   * `seq` (the head of EVENTS is then that much newer). Waits for real time to pass, not a guess at it.
   */
  const history = async (seq: number) => {
    const before = await storedAt(seq);
    const windowMs = config.replay.announce_within;
    for (;;) {
      await until(() => Date.now() - before > windowMs, 'the window to pass');
      const later = await disk(10, 'web2');
      if ((await storedAt(later.seq)) - before > windowMs) return later;
    }
  };
  return {
    own,
    config,
    clock,
    metric,
    disk,
    start,
    stop: bed.stop,
    storedAt,
    alertsPublished,
    evaluated,
    stored,
    history,
  };
}
