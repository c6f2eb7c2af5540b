import type { NatsConnection } from '@nats-io/transport-node';
import type { CollectorConfig } from '../../collector/config.ts';
import { type CollectorDeps, type RunningCollector, startCollector } from '../../collector/service.ts';
import { createRegistry, silentLogger } from '../../shared/index.ts';
import { connectTo, type EmbeddedNatsServer, useNatsServer } from './nats-server.ts';

export interface CollectorBedOptions {
  /** Options of the test's own connection; false: no connection (the test only talks to the collector). */
  connect?: Record<string, unknown> | false;
  /** One collector for the whole describe, its tests building on each other: stopped in after, not afterEach. */
  shared?: boolean;
}

export interface CollectorBed {
  /** Returned at once, not yet started: read its url inside hooks and tests. */
  readonly server: EmbeddedNatsServer;
  /** The test's own connection, from the before hook to the after hook. */
  readonly nc: NatsConnection;
  /** The collector start() gave last, until stop(). */
  readonly collector: RunningCollector | undefined;
  /** An in-process collector on `config`; logger silent and a registry of its own unless `deps` hands them in. */
  start(config: CollectorConfig, deps?: Partial<CollectorDeps>): Promise<RunningCollector>;
  /** Stops every collector start() gave (again at the hook: stop() is idempotent). */
  stop(): Promise<void>;
}

/**
 * Registers, in the calling describe, a real nats-server (useNatsServer()), a connection of the test's own and the
 * stop of every collector the tests start: after each test (or after the describe, `shared`), so a failed assertion
 * never leaves one running into the next test. Hooks the describe registers after this call run after these.
 */
export function useCollectorBed(options: CollectorBedOptions = {}): CollectorBed {
  const { connect = {}, shared = false } = options;
  const server = useNatsServer();
  let nc: NatsConnection | undefined;
  const started: RunningCollector[] = [];
  const stop = async (): Promise<void> => {
    for (const collector of started.splice(0)) await collector.stop();
  };
  if (connect !== false)
    before(async () => {
      nc = await connectTo(server, connect);
    });
  if (shared) after(stop);
  else afterEach(stop);
  after(async () => {
    await nc?.drain();
  });
  return {
    server,
    get nc(): NatsConnection {
      if (!nc)
        throw new Error('useCollectorBed: no connection yet (read nc inside hooks and tests, or connect: false)');
      return nc;
    },
    get collector(): RunningCollector | undefined {
      return started.at(-1);
    },
    async start(config, deps = {}) {
      const collector = await startCollector(config, {
        ...deps,
        logger: deps.logger ?? silentLogger(),
        registry: deps.registry ?? createRegistry('collector'),
      });
      started.push(collector);
      return collector;
    },
    stop,
  };
}
