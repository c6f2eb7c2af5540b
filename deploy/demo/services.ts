import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny web service on a free loopback port that the demo agent's HTTP check watches; the scenario stops and restarts
 * it.
 */
export class DemoWebService {
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('demo shop is open\n');
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get running(): boolean {
    return this.server !== undefined;
  }
}

/** An application log the demo agent tails; the scenario writes database errors into it. */
export class DemoLog {
  constructor(readonly path: string) {
    writeFileSync(path, '');
  }
  write(line: string): void {
    appendFileSync(this.path, `${new Date().toISOString()} ${line}\n`);
  }
}

/** Receives the collector's webhook notifications (Alertmanager v4 payload) so the demo can show them. */
export async function startWebhookReceiver(
  onPayload: (payload: unknown) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        onPayload(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        onPayload(null);
      }
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
