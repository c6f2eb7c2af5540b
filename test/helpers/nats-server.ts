import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EmbeddedNatsServer, type NatsServerOptions } from '../../deploy/lib/embedded-nats.ts';
import { trackChild } from '../../deploy/lib/processes.ts';
import { untilPolled } from './wait.ts';

/** Starts a real nats-server for one suite; every child it spawns is tracked and killed by PID. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<EmbeddedNatsServer> {
  const server = trackedServer(options);
  await server.start();
  return server;
}

export interface UseNatsServerOptions extends NatsServerOptions {
  /** A server of its own for every test (beforeEach / afterEach) instead of one for the describe. */
  perTest?: boolean;
}

/**
 * Registers, in the calling describe, a real nats-server started before its tests (before hook, or beforeEach with
 * perTest) and disposed after them. Returned at once, not yet started: read url, port and the rest inside hooks and
 * tests. The hooks registered after this call run once it is up; the dispose runs after all the describe's own
 * after hooks, since those may still need the server (a collector or client drains its connection on stop).
 */
export function useNatsServer(options: UseNatsServerOptions = {}): EmbeddedNatsServer {
  const { perTest, ...serverOptions } = options;
  const server = trackedServer(serverOptions);
  let disposeRegistered = false;
  const start = async function (this: Mocha.Context): Promise<void> {
    const suite = this.test?.parent;
    if (!suite) throw new Error('useNatsServer: its hook has no suite');
    if (!disposeRegistered) {
      disposeRegistered = true;
      // Added while the describe runs, so it comes after the after hooks the describe declared.
      if (perTest) suite.afterEach(() => server.dispose());
      else suite.afterAll(() => server.dispose());
    }
    await server.start();
  };
  if (perTest) beforeEach(start);
  else before(start);
  return server;
}

function trackedServer(options: NatsServerOptions): EmbeddedNatsServer {
  return EmbeddedNatsServer.create({ ...options, onSpawn: (child) => trackChild(child) });
}

export async function connectTo(
  server: EmbeddedNatsServer,
  options: Record<string, unknown> = {},
): Promise<NatsConnection> {
  return connect({ servers: server.url, ...options });
}

/** Resolves once `nc` is on a (re)started server again: a flush while it still reconnects is refused, so it retries. */
export function untilReconnected(nc: NatsConnection, what: string): Promise<void> {
  return untilPolled(
    () =>
      nc.flush().then(
        () => true,
        () => false,
      ),
    what,
  );
}

export type { EmbeddedNatsServer } from '../../deploy/lib/embedded-nats.ts';
