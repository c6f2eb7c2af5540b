import type { NatsConnection } from '@nats-io/transport-node';
import {
  createLogger,
  ensureStreams,
  createRegistry,
  newId,
  silentLogger,
  Subjects,
  type Clock,
  type Registry,
} from '../../../shared/index.ts';
import { NotificationsConfig } from '../../../collector/notify/config.ts';
import { createDispatcher, type NotificationDispatcher } from '../../../collector/notify/index.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { HttpSink } from './helpers.ts';

export interface DispatcherFixture {
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
  readonly registry: Registry;
  sink(): Promise<HttpSink>;
  dispatcher(config: unknown, clock?: Clock): Promise<NotificationDispatcher>;
}

/**
 * Registers the hooks of a dispatcher test file in the calling describe: one nats-server per file, a fresh subject
 * prefix and metrics registry per test, and every dispatcher and HTTP sink a test opened closed after it.
 */
export function useDispatcherFixture(): DispatcherFixture {
  const server = useNatsServer();
  let nc: NatsConnection;
  let sinks: HttpSink[] = [];
  let dispatchers: NotificationDispatcher[] = [];
  let subjects: Subjects;
  let registry: Registry;

  before(async () => {
    nc = await connectTo(server);
  });
  after(async () => {
    await nc.drain();
  });
  beforeEach(() => {
    subjects = new Subjects(
      `t${newId()
        .replace(/[^a-z0-9]/g, '')
        .slice(-10)}`,
    );
    registry = createRegistry('collector');
  });
  afterEach(async () => {
    await Promise.all(dispatchers.map((d) => d.close()));
    await Promise.all(sinks.map((s) => s.close()));
    dispatchers = [];
    sinks = [];
  });

  async function sink(): Promise<HttpSink> {
    const s = await HttpSink.start();
    sinks.push(s);
    return s;
  }
  async function dispatcher(config: unknown, clock?: Clock): Promise<NotificationDispatcher> {
    await ensureStreams(nc, subjects);
    const d = await createDispatcher(NotificationsConfig.parse(config) as NotificationsConfig, {
      nc,
      subjects,
      logger: process.env.TEST_LOG ? createLogger('t') : silentLogger(),
      registry,
      ...(clock ? { clock } : {}),
    });
    dispatchers.push(d);
    return d;
  }

  return {
    get nc() {
      return nc;
    },
    get subjects() {
      return subjects;
    },
    get registry() {
      return registry;
    },
    sink,
    dispatcher,
  };
}

export const hook = (name: string, url: string, extra: Record<string, unknown> = {}) => ({
  name,
  kind: 'webhook',
  url,
  retry: { initial_backoff: '10ms', max_backoff: '20ms' },
  ...extra,
});
export const alertsIn = (s: HttpSink) =>
  s.requests.flatMap((r) => JSON.parse(r.body).alerts as { fingerprint: string; status: string }[]);
