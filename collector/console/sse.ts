import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, ClockTimer } from '../../shared/index.ts';
import { securityHeaders } from './http.ts';

const MAX_CLIENTS = 200;
const KEEPALIVE_MS = 15_000;
/** Changes within this window go out as one event: a burst of KV writes is one redraw, well inside the 1 s goal. */
const COALESCE_MS = 100;
/** Routine changes (heartbeats) wait longer: a thousand agents must not mean a snapshot every 100 ms. */
const ROUTINE_MS = 2000;

/**
 * Server-Sent Events: every client gets the whole state as one `state` event at connect and after each change
 * (coalesced). A full snapshot keeps the client free of merge logic; it is a few hundred bytes per alert.
 */
export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private flushTimer: ClockTimer | undefined;
  private flushAt = 0;
  private keepaliveTimer: ClockTimer | undefined;

  constructor(
    private readonly snapshot: () => string,
    private readonly clock: Clock,
    private readonly onCount: (clients: number) => void,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= MAX_CLIENTS) {
      res.writeHead(503, { ...securityHeaders(), 'Content-Type': 'text/plain', 'Retry-After': '10' });
      res.end('too many live consoles\n');
      return;
    }
    res.writeHead(200, {
      ...securityHeaders(),
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
      // nginx would otherwise buffer the stream (deploy example in collector/README.md).
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 2000\nevent: state\ndata: ${this.snapshot()}\n\n`);
    this.clients.add(res);
    this.onCount(this.clients.size);
    req.on('close', () => {
      this.clients.delete(res);
      this.onCount(this.clients.size);
    });
    this.keepalive();
  }

  /** Something changed: send the new state to everyone within COALESCE_MS (ROUTINE_MS for routine changes). */
  changed(routine = false): void {
    if (this.clients.size === 0) return;
    const delay = routine ? ROUTINE_MS : COALESCE_MS;
    const at = this.clock.now() + delay;
    if (this.flushTimer) {
      if (this.flushAt <= at) return;
      this.clock.clearTimeout(this.flushTimer);
    }
    this.flushAt = at;
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushTimer = undefined;
      const frame = `event: state\ndata: ${this.snapshot()}\n\n`;
      for (const client of this.clients) client.write(frame);
    }, delay);
  }

  private keepalive(): void {
    if (this.keepaliveTimer) return;
    this.keepaliveTimer = this.clock.setTimeout(() => {
      this.keepaliveTimer = undefined;
      if (this.clients.size === 0) return;
      for (const client of this.clients) client.write(': keepalive\n\n');
      this.keepalive();
    }, KEEPALIVE_MS);
  }

  close(): void {
    if (this.flushTimer) this.clock.clearTimeout(this.flushTimer);
    if (this.keepaliveTimer) this.clock.clearTimeout(this.keepaliveTimer);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }
}
