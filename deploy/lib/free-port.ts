import { createServer } from 'node:net';

/**
 * A loopback port that was free a moment ago. Only for handing a port to a child process that
 * cannot report the one it bound (the demo's metrics listeners); tests use port 0 directly.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
