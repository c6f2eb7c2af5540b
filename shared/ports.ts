import { createServer } from 'node:net';

/**
 * Whether `port` on `host` can be bound for TCP right now (0: any port), resolving with the port bound or null.
 * Another process may take it before the caller does: whoever hands it on must treat "address in use" as "pick
 * again".
 */
export function tcpPortFree(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ host, port, exclusive: true }, () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port nobody listens on at the moment (a connection to it is refused), for a child that cannot report the port
 * it bound (baresip's control port, the demo's listeners) or a test that needs a closed port. The one free-port helper.
 */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const port = await tcpPortFree(host, 0);
  if (port === null) throw new Error(`cannot bind any TCP port on ${host}`);
  return port;
}
