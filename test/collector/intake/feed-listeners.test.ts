import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { until } from '../../helpers/wait.ts';
import { useStreamFeeds } from './feed-harness.ts';

/**
 * The connection's status listeners, as the client keeps them: `nc.status()` adds one and only its iterator's stop
 * removes it. No public count exists; this is the client's own list, read, never changed.
 */
function statusListeners(nc: NatsConnection): number {
  return (nc as unknown as { protocol: { listeners: unknown[] } }).protocol.listeners.length;
}

/**
 * Each feed listens for reconnects. A stopped feed used to leave its listener until the next connection event, and a
 * group member opens two feeds in every round that takes partitions: on a quiet connection they piled up for good.
 */
describe('a stream feed stopped', () => {
  const feeds = useStreamFeeds(useNatsServer());

  it('stops listening to the connection: opening and stopping feeds leaves no listener behind', async () => {
    const { nc } = feeds;
    const { send, read } = await feeds.events('feedlisten');
    await send(1);
    const before = statusListeners(nc);
    for (let i = 0; i < 20; i++) {
      let seen = 0;
      const feed = await read(() => {
        seen++;
      });
      await until(() => seen === 1, `feed ${i} read the message`);
      assert.ok(statusListeners(nc) > before, 'an open feed listens for reconnects');
      feed.stop();
    }
    await until(() => statusListeners(nc) === before, 'every stopped feed stopped listening').catch((err: Error) => {
      throw new Error(`${err.message}: ${statusListeners(nc) - before} listeners left by 20 stopped feeds`);
    });
  });
});
