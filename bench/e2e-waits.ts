import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { parse as parseYaml } from 'yaml';
import type { OffhookProcess } from '../deploy/lib/offhook-process.ts';
import { waitForOutput } from '../deploy/lib/processes.ts';
import type { ReceivedAlert, webhookReceiver } from '../deploy/lib/webhook-receiver.ts';
import { nowMs } from './lib.ts';

// Waiting for the end-to-end bench's events without polling or sleeps, and the loopback service it kills.

export const TRIAL_TIMEOUT_MS = 30_000;

interface Waiter<T> {
  match: (value: T) => boolean;
  resolve: (arrival: { value: T; at: number }) => void;
}

/** Subscribes once and hands each message to whoever waits for one like it (no polling, no sleeps). */
export class Inbox<T> {
  private waiters: Waiter<T>[] = [];
  constructor(nc: NatsConnection, subject: string, parse: (data: unknown) => T) {
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        const at = nowMs();
        const value = parse(msg.json());
        this.waiters = this.waiters.filter((w) => (w.match(value) ? (w.resolve({ value, at }), false) : true));
      },
    });
  }
  /** The next message matching, with the time it arrived here. */
  next(match: (value: T) => boolean, what: string): Promise<{ value: T; at: number }> {
    return withTimeout(new Promise<{ value: T; at: number }>((resolve) => this.waiters.push({ match, resolve })), what);
  }
}

export function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), TRIAL_TIMEOUT_MS)),
    ),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves with the `time` of the next "off hook" line the gateway logs. */
export async function nextOffHook(gateway: OffhookProcess): Promise<number> {
  const line = await waitForOutput(gateway.child, /"msg":"off hook"/, TRIAL_TIMEOUT_MS);
  return Date.parse((JSON.parse(line.input) as { time: string }).time);
}

/** Hands each alert the webhook receiver gets to whoever waits for one like it (no polling). */
export type WebhookWait = (match: (a: ReceivedAlert) => boolean, what: string) => Promise<ReceivedAlert>;
export function webhookInbox(hook: Awaited<ReturnType<typeof webhookReceiver>>): WebhookWait {
  let seen = 0;
  let waiters: { match: (a: ReceivedAlert) => boolean; resolve: (a: ReceivedAlert) => void }[] = [];
  hook.server.on('request', (req) =>
    req.on('end', () =>
      setImmediate(() => {
        for (; seen < hook.alerts.length; seen++) {
          const alert = hook.alerts[seen]!;
          waiters = waiters.filter((w) => (w.match(alert) ? (w.resolve(alert), false) : true));
        }
      }),
    ),
  );
  return (match, what) => withTimeout(new Promise<ReceivedAlert>((resolve) => waiters.push({ match, resolve })), what);
}

/** A loopback HTTP service the bench kills (close + drop keep-alive connections) and brings back on the same port. */
export class Service {
  private server: Server | null = null;
  port = 0;
  async start(): Promise<void> {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }
  kill(): void {
    this.server?.close();
    this.server?.closeAllConnections();
    this.server = null;
  }
}

/**
 * deploy/examples/agent.yaml as shipped; the caller replaces only what must point at this bench (and its checks and
 * logs, which name hosts and files that do not exist here).
 */
export function exampleAgentConfig(): Record<string, unknown> {
  const text = readFileSync(new URL('../deploy/examples/agent.yaml', import.meta.url), 'utf8');
  return parseYaml(text) as Record<string, unknown>;
}
