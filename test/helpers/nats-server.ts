import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EmbeddedNatsServer, type NatsServerOptions } from '../../deploy/lib/embedded-nats.ts';
import { trackChild } from '../../deploy/lib/processes.ts';

/** Starts a real nats-server for one suite; every child it spawns is tracked and killed by PID. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<EmbeddedNatsServer> {
  return EmbeddedNatsServer.start({ ...options, onSpawn: (child) => trackChild(child) });
}

export async function connectTo(
  server: EmbeddedNatsServer,
  options: Record<string, unknown> = {},
): Promise<NatsConnection> {
  return connect({ servers: server.url, ...options });
}

export type { EmbeddedNatsServer } from '../../deploy/lib/embedded-nats.ts';
