import {
  ManualClock,
  silentLogger,
  SCHEMA_VERSION,
  type Ack,
  type CheckResult,
  type CheckStatus,
  type Heartbeat,
  type LogMatch,
  type ResourceSample,
} from '../../../shared/index.ts';
import type { AlertRecord, OutboxEntry } from '../../../collector/alerts/alert-record.ts';
import { AlertEngine, type EngineOutput } from '../../../collector/alerts/engine.ts';
import { buildRules } from '../../../collector/alerts/engine-rules.ts';
import { CollectorConfig } from '../../../collector/config.ts';
import { compileInhibitRules } from '../../../collector/mute/inhibit-rules.ts';
import type { StreamHead } from '../../../collector/intake/index.ts';

/** Persists like KV would and keeps every announcement, in order. */
export class MemoryOutput implements EngineOutput {
  readonly stored = new Map<string, AlertRecord>();
  readonly announced: OutboxEntry[] = [];
  commit(record: AlertRecord): void {
    this.announced.push(...record.outbox);
    this.stored.set(record.alert.fingerprint, { ...record, outbox: [] });
  }
  /** "firing web1 disk critical" lines: easy to compare whole sequences. */
  lines(): string[] {
    return this.announced.map(
      (e) =>
        `${e.reason} ${e.alert.host} ` +
        `${e.alert.rule}${e.alert.ruleKind === 'flapping' ? '(flapping)' : ''} ` +
        `${e.alert.severity} g${e.alert.generation}`,
    );
  }
  take(): string[] {
    const lines = this.lines();
    this.announced.length = 0;
    return lines;
  }
}

export function engineFor(
  rules: unknown[],
  options: {
    clock?: ManualClock;
    defaults?: unknown;
    output?: MemoryOutput;
    inhibit_rules?: unknown[];
    replay?: unknown;
    head?: StreamHead;
  } = {},
) {
  const config = CollectorConfig.parse({
    rules,
    ...(options.defaults ? { defaults: options.defaults } : {}),
    ...(options.replay ? { replay: options.replay } : {}),
    ...(options.inhibit_rules ? { inhibit_rules: options.inhibit_rules } : {}),
  });
  const clock = options.clock ?? new ManualClock();
  const output = options.output ?? new MemoryOutput();
  const engine = new AlertEngine({
    rules: buildRules(config.rules, config.defaults),
    clock,
    output,
    logger: silentLogger(),
    inhibit: { rules: compileInhibitRules(config.inhibit_rules) },
    announceWithinMs: config.replay.announce_within,
    ...(options.head ? { head: options.head } : {}),
  });
  return { engine, clock, output, config };
}

/** Makes agent events with growing per-host seq and stream seq, stamped with the clock. */
export class EventScript {
  private seq = new Map<string, number>();
  streamSeq = 0;
  constructor(private readonly clock: ManualClock) {}
  private next(host: string): number {
    const n = (this.seq.get(host) ?? 0) + 1;
    this.seq.set(host, n);
    return n;
  }
  private ids = 0;
  envelope(host: string) {
    const seq = this.next(host);
    return {
      v: SCHEMA_VERSION,
      id: `${host}-${seq}-${++this.ids}-${this.clock.now()}`,
      host,
      ts: this.clock.now(),
      seq,
    };
  }
  resource(host: string, metric: string, value: number, labels?: Record<string, string>): ResourceSample {
    return {
      ...this.envelope(host),
      kind: 'resource',
      intervalMs: 10_000,
      metrics: [{ name: metric, type: 'gauge', value, ...(labels ? { labels } : {}) }],
    };
  }
  check(host: string, check: string, status: CheckStatus, message = 'probe said so'): CheckResult {
    return { ...this.envelope(host), kind: 'check', check, checkKind: 'tcp', status, message, latencyMs: 12 };
  }
  log(host: string, rule: string, line: string, suppressed = 0): LogMatch {
    return {
      ...this.envelope(host),
      kind: 'log',
      file: '/var/log/syslog',
      rule,
      severity: 'warning',
      line,
      truncated: false,
      inode: 1,
      offset: 0,
      suppressed,
    };
  }
  heartbeat(host: string, intervalMs = 20_000): Heartbeat {
    return {
      ...this.envelope(host),
      kind: 'heartbeat',
      agentVersion: '0.1.0',
      uptimeSec: 1,
      intervalMs,
      spoolDepth: 0,
    };
  }
  ack(fingerprint: string, by = 'alice', until = 0): Ack {
    return {
      v: SCHEMA_VERSION,
      id: `ack-${fingerprint}-${this.clock.now()}`,
      host: 'web1',
      ts: this.clock.now(),
      fingerprint,
      by,
      method: 'cli',
      until,
    };
  }
  /** Hands the event to the engine under the next stream sequence. */
  feed(engine: AlertEngine, event: ResourceSample | CheckResult | LogMatch): boolean {
    this.streamSeq += 1;
    return engine.handleEvent(event, this.streamSeq);
  }
}
