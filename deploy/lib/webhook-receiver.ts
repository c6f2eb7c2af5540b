import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedAlert {
  status: string;
  alertname: string;
  host: string;
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The payload's commonAnnotations. */
  commonAnnotations: Record<string, string>;
  /** Date.now() when the request arrived. */
  at: number;
}

/** A real Alertmanager-webhook (v4) receiver on loopback; `received` holds "status alertname host" per alert. */
export async function webhookReceiver(): Promise<{
  server: Server;
  url: string;
  received: string[];
  alerts: ReceivedAlert[];
  close(): Promise<void>;
}> {
  const received: string[] = [];
  const alerts: ReceivedAlert[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const at = Date.now();
      type Strings = Record<string, string>;
      type Payload = {
        commonAnnotations?: Strings;
        alerts: { status: string; fingerprint?: string; labels: Strings; annotations?: Strings }[];
      };
      const payload = JSON.parse(body) as Payload;
      const commonAnnotations = payload.commonAnnotations ?? {};
      for (const alert of payload.alerts) {
        received.push(`${alert.status} ${alert.labels.alertname} ${alert.labels.host}`);
        alerts.push({
          status: alert.status,
          alertname: alert.labels.alertname ?? '',
          host: alert.labels.host ?? '',
          fingerprint: alert.fingerprint ?? '',
          labels: alert.labels,
          annotations: alert.annotations ?? {},
          commonAnnotations,
          at,
        });
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, alerts, close };
}
