import { createServer, type Server, type Socket } from 'node:net';

// A free port: freeTcpPort() in shared/ports.ts.

/**
 * A loopback TCP server that accepts every connection, reads what it is sent and never answers:
 * the notifier endpoint that hangs (HTTP, SMTP greeting, anything).
 */
export async function blackhole(): Promise<{
  port: number;
  connections: () => number;
  bytesReceived: () => number;
  open: () => number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let bytes = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('data', (chunk) => (bytes += chunk.length));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections: () => connections,
    bytesReceived: () => bytes,
    open: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
