import { selfSignedCertificate as certificate, type SelfSigned } from '../helpers/certificate.ts';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import { CheckConfig, pluginFor } from '../../agent/index.ts';
import type { CheckOutcome } from '../../agent/checks/index.ts';
import { CheckScheduler, type ScheduledCheck } from '../../agent/core/scheduler.ts';
import { silentLogger } from '../../shared/index.ts';

/** Validates `config` as the agent would, then runs the check once with its timeout. */
export async function probe(config: Record<string, unknown>): Promise<CheckOutcome & { failure: string | null }> {
  const check = CheckConfig.parse({ name: 'probe', ...config }) as unknown as ScheduledCheck['config'];
  const instance = pluginFor(check.kind)!.create(check);
  let result: (CheckOutcome & { failure: string | null }) | null = null;
  const scheduler = new CheckScheduler(
    [{ config: check, instance }],
    (_c, outcome, _ms, failure) => (result = { ...outcome, failure }),
    silentLogger(),
  );
  await scheduler.runOnce({ config: check, instance });
  scheduler.stop();
  return result!;
}

export interface TestServer {
  port: number;
  close(): Promise<void>;
}

/** A TCP server on an ephemeral loopback port; `onConnection` plays the protocol. */
export async function tcpServer(onConnection: (socket: Socket) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Calls `handler` with each line the client sends. */
export function onLines(socket: Socket | TLSSocket, handler: (line: string) => void): void {
  let buffered = '';
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    let at: number;
    while ((at = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, at).replace(/\r$/, '');
      buffered = buffered.slice(at + 1);
      handler(line);
    }
  });
}

export type { SelfSigned } from '../helpers/certificate.ts';

/** A certificate for localhost and 127.0.0.1 valid for `days` (the TLS checks' expiry cases differ by days). */
export function selfSignedCertificate(dir: string, days: number): SelfSigned {
  return certificate(dir, {
    name: `tls-${days}`,
    days,
    commonName: 'localhost',
    altNames: 'DNS:localhost,IP:127.0.0.1',
  });
}

/** Server side of STARTTLS: the plain socket becomes TLS, lines keep flowing to `handler`. */
export function upgradeServerSide(
  socket: Socket,
  tls: SelfSigned,
  handler: (secure: TLSSocket, line: string) => void,
): void {
  socket.removeAllListeners('data');
  const secure = new TLSSocket(socket, { isServer: true, key: tls.key, cert: tls.cert });
  secure.on('error', () => undefined);
  onLines(secure, (line) => handler(secure, line));
}
