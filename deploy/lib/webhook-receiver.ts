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
  /** The alert's idempotency key (annotation offhook_notification_key), '' when the sender gave none. */
  key: string;
  /** The request's Idempotency-Key header as sent (a quoted string), '' when absent. */
  requestKey: string;
  /**
   * Epoch ms when the request arrived, with sub-ms resolution (performance.timeOrigin + performance.now()), so a bench
   * in this process can measure a few milliseconds without Date.now()'s 1 ms steps.
   */
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
      const at = performance.timeOrigin + performance.now();
      type Strings = Record<string, string>;
      type Payload = {
        commonAnnotations?: Strings;
        alerts: { status: string; fingerprint?: string; labels: Strings; annotations?: Strings }[];
      };
      const payload = JSON.parse(body) as Payload;
      const commonAnnotations = payload.commonAnnotations ?? {};
      const requestKey = req.headers['idempotency-key'] ?? '';
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
          key: alert.annotations?.offhook_notification_key ?? '',
          requestKey: typeof requestKey === 'string' ? requestKey : requestKey.join(', '),
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

/** Copies of one alert transition, sorted by what they mean for delivery (at-least-once with idempotency keys). */
export interface Copies {
  /** Transitions told more than once under different keys: two separate decisions to notify, a real duplicate. */
  twice: string[];
  /** Transitions told more than once under one key: a resend of the same accepted notification (at-least-once). */
  resent: string[];
  /** Keys of the resent ones (one each). */
  resentKeys: string[];
  /** Notifications without a key: nothing could tell a resend from a second decision. */
  unkeyed: number;
}

/** Groups `alerts` by `transition` (e.g. status + host + the value that decided it) and sorts out the copies. */
export function copiesOf(alerts: ReceivedAlert[], transition: (a: ReceivedAlert) => string): Copies {
  const keys = new Map<string, string[]>();
  for (const a of alerts) {
    const t = transition(a);
    keys.set(t, [...(keys.get(t) ?? []), a.key]);
  }
  const copies: Copies = { twice: [], resent: [], resentKeys: [], unkeyed: alerts.filter((a) => !a.key).length };
  for (const [t, ks] of keys) {
    if (ks.length < 2) continue;
    // An unkeyed copy counts as a decision of its own: without a key it cannot be shown to be a resend.
    if (new Set(ks).size > 1 || ks[0] === '') copies.twice.push(t);
    else {
      copies.resent.push(t);
      copies.resentKeys.push(ks[0]!);
    }
  }
  return copies;
}
