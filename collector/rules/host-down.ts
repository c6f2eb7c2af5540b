import * as z from 'zod';
import { Severity, type Heartbeat } from '../../shared/index.ts';
import { formatDuration, renderSummary } from './summary.ts';
import { RuleCommon, unknownPlaceholdersIssue, type RuleInstance, type RulePlugin, type Verdict } from './types.ts';
import { mapToObject, objectToMap } from './series-key.ts';

const PLACEHOLDERS = ['host', 'rule', 'silence', 'interval'] as const;
const DEFAULT_SUMMARY = '{host} is down: no heartbeat for {silence} (expected every {interval})';

const HostDownConfig = RuleCommon.extend({
  kind: z.literal('host_down'),
  /** Down after this many heartbeat intervals without one (Sensu: 20 s heartbeats, down after 120 s). */
  missed_heartbeats: z.number().min(1).max(1000).default(6),
  severity: Severity.default('critical'),
})
  .strict()
  .superRefine((rule, ctx) => unknownPlaceholdersIssue(rule.summary, PLACEHOLDERS, ctx));
type HostDownConfig = z.infer<typeof HostDownConfig>;

interface Liveness {
  lastSeen: number;
  intervalMs: number;
  down: boolean;
}
const isLiveness = (v: unknown): v is Liveness =>
  typeof v === 'object' && v !== null && typeof (v as Liveness).lastSeen === 'number';

/** A host that never sent a heartbeat is unknown, not down: only hosts seen at least once are tracked. */
class HostDownRule implements RuleInstance {
  readonly kind = 'host_down' as const;
  readonly name: string;
  readonly forMs: number;
  readonly timeBase = 'clock' as const;
  private hosts = new Map<string, Liveness>();

  constructor(private readonly config: HostDownConfig) {
    this.name = config.name;
    this.forMs = config.for;
  }

  onHeartbeat(heartbeat: Heartbeat, now: number): Verdict[] {
    const previous = this.hosts.get(heartbeat.host);
    this.hosts.set(heartbeat.host, { lastSeen: now, intervalMs: heartbeat.intervalMs, down: false });
    // Every heartbeat says "up"; the engine ignores a clear verdict for a series that is not raised.
    return previous?.down
      ? [this.judge(heartbeat.host, { lastSeen: now, intervalMs: heartbeat.intervalMs, down: false }, now)]
      : [];
  }

  onTick(now: number): Verdict[] {
    const verdicts: Verdict[] = [];
    for (const [host, liveness] of this.hosts) {
      if (liveness.down) continue;
      if (now - liveness.lastSeen > this.config.missed_heartbeats * liveness.intervalMs) {
        liveness.down = true;
        verdicts.push(this.judge(host, liveness, now));
      }
    }
    return verdicts;
  }

  private judge(host: string, liveness: Liveness, now: number): Verdict {
    const vars = {
      host,
      rule: this.name,
      silence: formatDuration(Math.max(0, now - liveness.lastSeen)),
      interval: formatDuration(liveness.intervalMs),
    };
    const summary = liveness.down
      ? renderSummary(this.config.summary ?? DEFAULT_SUMMARY, vars, {}, DEFAULT_SUMMARY)
      : `${host} is up again: heartbeats are arriving`;
    return {
      host,
      labels: {},
      severity: liveness.down ? this.config.severity : null,
      value: Math.round((now - liveness.lastSeen) / 1000),
      summary,
    };
  }

  /** Hosts this rule currently considers down (for the status page). */
  lastSeen(): Map<string, Liveness> {
    return this.hosts;
  }

  snapshot(): unknown {
    return mapToObject(this.hosts);
  }
  restore(state: unknown): void {
    this.hosts = objectToMap(state, isLiveness);
  }
  /** The collector's own outage is not the hosts' fault: their timers restart from our start. */
  resume(now: number): void {
    for (const liveness of this.hosts.values())
      if (!liveness.down) liveness.lastSeen = Math.max(liveness.lastSeen, now);
  }
}

export const hostDownRule: RulePlugin<typeof HostDownConfig> = {
  kind: 'host_down',
  configSchema: HostDownConfig,
  create: (config) => new HostDownRule(config),
};
