import type { Counter } from 'prom-client';
import { decode, type Decoded } from './decode.ts';
import type { Logger } from './logger.ts';
import { invalidMessagesCounter, type Registry } from './metrics.ts';
import { Subjects } from './subjects.ts';

const LOG_EVERY_MS = 60_000;

/**
 * The one door every consumed message goes through: decode, count rejections in
 * offhook_invalid_messages_total, and log at most once a minute per source so a hostile
 * producer cannot flood the log.
 */
export class InboundValidator {
  private readonly invalid: Counter<'subject' | 'reason'>;
  private readonly lastLogged = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    registry: Registry,
    private readonly logger: Logger,
    private readonly subjects: Subjects = new Subjects(),
    private readonly now: () => number = Date.now,
  ) {
    this.invalid = invalidMessagesCounter(registry);
  }

  accept(subject: string, data: Uint8Array | string): Decoded | null {
    const result = decode(subject, data, this.subjects);
    if (result.ok) return result;
    const family = subjectFamily(subject, this.subjects);
    this.invalid.inc({ subject: family, reason: result.reason });
    const source = `${family}:${sourceToken(subject, this.subjects)}`;
    const last = this.lastLogged.get(source) ?? 0;
    if (this.now() - last >= LOG_EVERY_MS) {
      if (this.lastLogged.size > 10_000) this.lastLogged.clear();
      const suppressed = this.suppressed.get(source) ?? 0;
      this.logger.warn(
        {
          subject: subject.slice(0, 200),
          reason: result.reason,
          detail: result.detail,
          suppressedSinceLastLog: suppressed,
        },
        'rejected invalid message',
      );
      this.lastLogged.set(source, this.now());
      this.suppressed.set(source, 0);
    } else {
      this.suppressed.set(source, (this.suppressed.get(source) ?? 0) + 1);
    }
    return null;
  }
}

/** Low-cardinality label for metrics: events.log, heartbeat, alerts, ack, calls or "other". */
export function subjectFamily(subject: string, subjects: Subjects): string {
  const parts = subject.split('.');
  if (parts[0] !== subjects.prefix || parts[1] !== 'v1') return 'other';
  const family = parts[2];
  if (family === 'events')
    return ['resource', 'check', 'log'].includes(parts[4] ?? '') ? `events.${parts[4]}` : 'events.other';
  const heartbeatOf =
    (family === 'collector' || family === 'gateway') && parts[3] === 'heartbeat' && parts.length === 5;
  if (heartbeatOf) return `${family}.heartbeat`;
  return ['heartbeat', 'alerts', 'ack', 'calls', 'fallback', 'gateway'].includes(family ?? '') ? family! : 'other';
}

function sourceToken(subject: string, subjects: Subjects): string {
  const parts = subject.split('.');
  return parts[0] === subjects.prefix ? (parts[3] ?? '').slice(0, 64) : 'foreign';
}
