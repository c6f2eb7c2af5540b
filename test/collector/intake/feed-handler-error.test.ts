import assert from 'node:assert/strict';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { until } from '../../helpers/wait.ts';
import { useStreamFeeds } from './feed-harness.ts';

/**
 * The client stops a consume for good when its callback throws, and says nothing (its status stream just ends): a
 * handler that failed once on one message used to leave the collector reading nothing more, its leases still held.
 */
describe('a stream feed whose handler throws on one message', () => {
  const feeds = useStreamFeeds(useNatsServer());

  it('passes that message over and goes on reading', async () => {
    const { send, read } = await feeds.events('feederr');
    const seen: number[] = [];
    await send(1);
    await read((msg) => {
      if (msg.seq === 1) throw new Error('a handler bug on this one message');
      seen.push(msg.seq);
    });
    await send(2);
    await send(3);
    await until(() => seen.length === 2, 'the messages after the one that failed');
    assert.deepEqual(seen, [2, 3]);
  });
});
