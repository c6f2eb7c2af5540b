import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ensureStreams,
  jetstreamClient,
  publishDurable,
  silentLogger,
  streamNames,
  Subjects,
} from '../../../shared/index.ts';
import { readStreamFrom, type StreamFeed } from '../../../collector/intake/index.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { until } from '../../helpers/wait.ts';

/**
 * The client stops a consume for good when its callback throws, and says nothing (its status stream just ends): a
 * handler that failed once on one message used to leave the collector reading nothing more, its leases still held.
 */
describe('a stream feed whose handler throws on one message', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  let feed: StreamFeed | undefined;
  before(async () => {
    nc = await connectTo(server);
  });
  after(async () => {
    feed?.stop();
    await nc.drain();
  });

  it('passes that message over and goes on reading', async () => {
    const subjects = new Subjects('feederr');
    await ensureStreams(nc, subjects);
    const js = jetstreamClient(nc);
    const send = (n: number) => publishDurable(js, subjects.event('web1', 'resource'), { id: `e${n}` });
    const seen: number[] = [];
    await send(1);
    feed = await readStreamFrom(nc, streamNames(subjects).events, 0, { logger: silentLogger() }, (msg) => {
      if (msg.seq === 1) throw new Error('a handler bug on this one message');
      seen.push(msg.seq);
    });
    await send(2);
    await send(3);
    await until(() => seen.length === 2, 'the messages after the one that failed');
    assert.deepEqual(seen, [2, 3]);
  });
});
