import { fingerprint, type Clock, type GatewayHeartbeat, type Logger } from '../../shared/index.ts';
import {
  cloneRecord,
  firingRecord,
  queueRepeat,
  reconcile,
  repeatDue,
  type AlertEngine,
  type AlertRecord,
  type EngineOutput,
} from '../alerts/index.ts';

export const GATEWAY_SILENT_RULE = 'gateway_silent';

/**
 * The collector's half of the watchdog: a telephony gateway that stops heartbeating cannot phone anyone, so the
 * notifiers (never the phone: ruleKind `external` stays off ALERTS) hear `gateway_silent` after `silenceMs`.
 * A gateway counts once it was heard or is listed in `expected`; its next heartbeat resolves the alert.
 */
export class GatewaySilence {
  /** Gateway host → when it was last heard (collector clock). */
  private readonly lastSeen = new Map<string, number>();
  private seeded = false;

  constructor(
    private readonly deps: {
      engine: AlertEngine;
      output: EngineOutput;
      clock: Clock;
      logger: Logger;
      silenceMs: number;
      repeatMs: number;
      expected: string[];
      onChange?: (silent: number) => void;
    },
  ) {
    for (const host of deps.expected) this.lastSeen.set(host, deps.clock.now());
  }

  static owns(record: AlertRecord): boolean {
    return record.alert.ruleKind === 'external' && record.alert.rule === GATEWAY_SILENT_RULE;
  }

  /** Gateways currently silent (firing `gateway_silent`). */
  silentCount(): number {
    let count = 0;
    for (const record of this.deps.engine.records.values()) {
      if (GatewaySilence.owns(record) && record.alert.status === 'firing') count++;
    }
    return count;
  }

  onHeartbeat(beat: GatewayHeartbeat): void {
    const now = this.deps.clock.now();
    this.lastSeen.set(beat.host, now);
    const record = this.deps.engine.records.get(fingerprint(beat.host, GATEWAY_SILENT_RULE));
    if (record?.alert.status !== 'firing') return;
    const summary = `${beat.host}: the telephony gateway is heard again`;
    Object.assign(record.alert, { status: 'resolved', ts: now, endsAt: now, summary });
    const { fingerprint: fp } = record.alert;
    this.deps.logger.info({ host: beat.host, fingerprint: fp }, 'gateway heard again: gateway_silent resolved');
    this.announce(record, now);
  }

  tick(): void {
    const { engine, clock, silenceMs } = this.deps;
    const now = clock.now();
    if (!this.seeded) {
      // After a restart a gateway that was silent before stays silent until it is heard, not only once re-learnt.
      this.seeded = true;
      for (const { alert } of engine.records.values()) {
        const silentBefore = GatewaySilence.owns({ alert } as AlertRecord) && alert.status === 'firing';
        if (silentBefore && !this.lastSeen.has(alert.host)) this.lastSeen.set(alert.host, alert.startsAt - silenceMs);
      }
    }
    if (silenceMs <= 0) return;
    for (const [host, at] of this.lastSeen) {
      const record = engine.records.get(fingerprint(host, GATEWAY_SILENT_RULE));
      if (now - at <= silenceMs) continue;
      if (record?.alert.status === 'firing') {
        if (repeatDue(record, engine.mute, this.deps.repeatMs, now)) {
          queueRepeat(record, now);
          this.commit(record);
        }
        continue;
      }
      this.raise(host, at, now, record);
    }
  }

  private raise(host: string, lastAt: number, now: number, previous: AlertRecord | undefined): void {
    const fp = fingerprint(host, GATEWAY_SILENT_RULE);
    const seconds = Math.round((now - lastAt) / 1000);
    const summary =
      `${host}: the telephony gateway has not been heard for ${seconds} s; nobody can be phoned until it is` +
      ' back (process, host or its NATS connection)';
    const record = firingRecord(
      {
        fingerprint: fp,
        host,
        rule: GATEWAY_SILENT_RULE,
        ruleKind: 'external',
        labels: {},
        severity: 'critical',
        summary,
        value: seconds,
        startsAt: now,
        inhibited: this.deps.engine.hostDown(host),
      },
      previous,
      0,
      now,
    );
    this.deps.engine.records.set(fp, record);
    this.deps.logger.error({ host, fingerprint: fp, silentSeconds: seconds }, 'gateway silent: gateway_silent firing');
    this.announce(record, now);
  }

  private announce(record: AlertRecord, now: number): void {
    reconcile(record, this.deps.engine.mute, now);
    this.commit(record);
    this.deps.onChange?.(this.silentCount());
  }

  private commit(record: AlertRecord): void {
    record.updatedAt = this.deps.clock.now();
    this.deps.output.commit(cloneRecord(record));
    record.outbox = [];
  }
}
