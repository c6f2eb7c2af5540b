import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { readStreamFrom, type StreamFeed } from '../../../collector/intake/index.ts';
import {
  ensureStreams,
  jetstreamClient,
  publishDurable,
  silentLogger,
  streamNames,
  Subjects,
} from '../../../shared/index.ts';
import { connectTo, type EmbeddedNatsServer } from '../../helpers/nats-server.ts';

export interface EventsStream {
  /** Publishes event `e<n>` (web1, resource) into EVENTS, durably. */
  send(n: number): ReturnType<typeof publishDurable>;
  /** A feed on EVENTS from its first message, silent logger; stopped after the describe unless the test did. */
  read(onMessage: (msg: JsMsg) => void): Promise<StreamFeed>;
}

export interface StreamFeeds {
  /** The test's own connection, from the before hook to the after hook. */
  readonly nc: NatsConnection;
  /** The streams of `prefix`, created on `nc` as an agent would, and a sender and feed reader over its EVENTS. */
  events(prefix: string): Promise<EventsStream>;
}

/**
 * Registers, in the calling describe, a connection to `server` (before) and, after, the stop of every feed read()
 * opened that the test left open, then the drain of the connection. Call it after useNatsServer().
 */
export function useStreamFeeds(server: EmbeddedNatsServer, connectOptions: Record<string, unknown> = {}): StreamFeeds {
  let nc: NatsConnection | undefined;
  const open = new Set<StreamFeed>();
  before(async () => {
    nc = await connectTo(server, connectOptions);
  });
  after(async () => {
    for (const feed of open) feed.stop();
    open.clear();
    await nc?.drain();
  });
  const connection = (): NatsConnection => {
    if (!nc) throw new Error('useStreamFeeds: no connection yet (read nc inside hooks and tests)');
    return nc;
  };
  return {
    get nc() {
      return connection();
    },
    async events(prefix) {
      const subjects = new Subjects(prefix);
      await ensureStreams(connection(), subjects);
      const js = jetstreamClient(connection());
      return {
        send: (n) => publishDurable(js, subjects.event('web1', 'resource'), { id: `e${n}` }),
        async read(onMessage) {
          const options = { logger: silentLogger() };
          const feed = await readStreamFrom(connection(), streamNames(subjects).events, 0, options, onMessage);
          open.add(feed);
          // Stopped once: a feed the test stops is not stopped again by the hook.
          return {
            stop() {
              open.delete(feed);
              feed.stop();
            },
          };
        },
      };
    },
  };
}
