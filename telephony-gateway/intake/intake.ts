import { EventEmitter } from 'node:events';
import type { Ack, Alert, Clock, Logger } from '../../shared/index.ts';
import type { Disposition, AlertDelivery } from './alert-consumer.ts';
import type { GatewayConfig } from '../config.ts';
import { initialEscalation } from '../calls/escalation.ts';
import type { GatewayMetrics } from '../status/metrics.ts';
import type { CallQueue, QueuedAlert } from '../calls/queue.ts';
import { severityAtLeast } from '../calls/schedule.ts';
import type { EscalationRecord, StateStore } from '../state-store.ts';
import { EndedEscalations } from './ended.ts';

export type FinishReason =
  | 'acknowledged'
  | 'resolved'
  | 'inhibited'
  | 'nobody_answered'
  | 'quiet_hours'
  | 'budget_exhausted';

export interface AckLookup {
  coveringAck(alert: Pick<Alert, 'fingerprint' | 'generation' | 'startsAt'>, now: number): Ack | null;
}

/**
 * The mute stage in front of the queue: resolved alerts leave it, acknowledged, inhibited and
 * low-severity ones never enter it, and a redelivered alert resumes its escalation from KV instead
 * of starting over. Also ends escalations (releasing the held JetStream message).
 */
export class AlertIntake {
  /** Firing, unacknowledged alerts, read to inbound callers. */
  readonly firing = new Map<string, Alert>();
  /**
   * `handled` (fingerprint, disposition) per message, `queued` (fingerprint) and `finished` (fingerprint, reason) as
   * escalations start and end: tests and the benchmark wait on them.
   */
  readonly events = new EventEmitter();
  /** Ended generations KV has not taken yet (written again until it does). */
  readonly ended: EndedEscalations;
  private readonly startedAt: number;

  constructor(
    private readonly queue: CallQueue,
    private readonly config: GatewayConfig,
    private readonly acks: AckLookup,
    private readonly store: StateStore,
    private readonly release: (fingerprint: string) => void,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly wake: () => void,
  ) {
    this.startedAt = clock.now();
    this.ended = new EndedEscalations(store, metrics, logger, clock);
  }

  async onAlert(delivery: AlertDelivery): Promise<Disposition> {
    const disposition = await this.admit(delivery);
    this.events.emit('handled', delivery.alert.fingerprint, disposition);
    return disposition;
  }

  private async admit(delivery: AlertDelivery): Promise<Disposition> {
    const { alert } = delivery;
    const log = this.logger.child({ fingerprint: alert.fingerprint, host: alert.host, rule: alert.rule });
    const now = this.clock.now();
    if (alert.status === 'resolved') {
      this.firing.delete(alert.fingerprint);
      const queued = this.queue.get(alert.fingerprint);
      if (queued && queued.alert.generation <= alert.generation) await this.finish(queued, 'resolved');
      else
        await this.ended.end(alert.fingerprint, { generation: alert.generation, status: 'done', reason: 'resolved' });
      log.info({ wasQueued: Boolean(queued) }, 'alert resolved');
      return 'ack';
    }
    const queued = this.queue.get(alert.fingerprint);
    if (alert.acknowledged || this.acks.coveringAck(alert, now)) {
      this.firing.delete(alert.fingerprint);
      if (queued) await this.finish(queued, 'acknowledged');
      return 'ack';
    }
    // Readable to inbound callers even when it does not ring a phone.
    this.firing.set(alert.fingerprint, alert);
    if (alert.inhibited || !severityAtLeast(alert.severity, this.config.escalation.min_severity)) {
      // A host-down alert now speaks for this one (inhibited), or the collector lowered its severity.
      if (queued) await this.finish(queued, 'inhibited');
      return 'ack';
    }
    if (queued && queued.alert.generation >= alert.generation) {
      this.queue.upsert(alert, queued.receivedAt, queued.escalation);
      return 'hold';
    }
    // It re-fired: the old generation's escalation is over, the new one starts from the top.
    if (queued) await this.finish(queued, 'resolved');
    // An ended generation KV has not taken yet speaks first. A KV that does not answer throws StateUnavailable out of
    // here: the consumer naks the message and it comes back, because an unknown state may be an ended escalation.
    const record = this.endedInMemory(alert) ?? (await this.store.loadEscalation(alert.fingerprint));
    if (record && record.generation > alert.generation) return 'ack';
    if (record?.generation === alert.generation && record.status === 'done') {
      // Ended for good, or ended already and this is only the crash/restart redelivery of it.
      if (record.reason === 'acknowledged' || record.reason === 'resolved' || delivery.redelivered) {
        log.info({ generation: alert.generation, reason: record.reason }, 'repeat of an ended escalation: acked');
        return 'ack';
      }
    }
    const resumed = record?.generation === alert.generation && record.status === 'active' && record.state;
    const receivedAt = resumed ? (record.receivedAt ?? now) : now;
    const escalation = resumed ? record.state! : initialEscalation(now, this.config.escalation);
    this.ended.supersede(alert.fingerprint, alert.generation);
    const entry = this.queue.upsert(alert, receivedAt, escalation);
    if (resumed && record.announced) entry.announced = true;
    if (resumed && record.unannouncedFallback) entry.unannouncedFallback = true;
    // A fresh escalation is not written yet: after a crash, starting it again is the same thing.
    if (resumed) await this.persist(entry);
    this.metrics.queueDepth.set(this.queue.size);
    this.events.emit('queued', alert.fingerprint);
    log.info(
      { severity: alert.severity, resumed: Boolean(resumed), round: escalation.round, person: escalation.person },
      resumed ? 'alert resumed after restart' : 'alert queued for a call',
    );
    this.wake();
    return 'hold';
  }

  /** An ack from anywhere: stop that escalation before its next call. */
  async onAck(ack: Ack): Promise<void> {
    // The watcher replays the latest ack per alert at start; count only the new ones.
    if (ack.ts >= this.startedAt) this.metrics.acks.inc({ method: ack.method });
    const entry = this.queue.get(ack.fingerprint);
    const now = this.clock.now();
    if (!entry || !this.acks.coveringAck(entry.alert, now)) return;
    this.firing.delete(ack.fingerprint);
    this.logger.info(
      { fingerprint: ack.fingerprint, host: entry.alert.host, rule: entry.alert.rule, by: ack.by, method: ack.method },
      'acknowledged: escalation stopped',
    );
    await this.finish(entry, 'acknowledged');
  }

  private endedInMemory(alert: Alert): EscalationRecord | undefined {
    const ended = this.ended.get(alert.fingerprint);
    return ended && ended.generation >= alert.generation ? ended : undefined;
  }

  async persist(entry: QueuedAlert): Promise<void> {
    const record: EscalationRecord = {
      generation: entry.alert.generation,
      status: 'active',
      state: entry.escalation,
      receivedAt: entry.receivedAt,
      ...(entry.announced ? { announced: true } : {}),
      ...(entry.unannouncedFallback ? { unannouncedFallback: true } : {}),
    };
    await this.store.saveEscalation(entry.alert.fingerprint, record);
  }

  async finish(entry: QueuedAlert, reason: FinishReason): Promise<void> {
    const fingerprint = entry.alert.fingerprint;
    // Two paths may end the same escalation (our own DTMF ack also comes back through the watcher).
    if (this.queue.get(fingerprint) !== entry) return;
    this.queue.remove(fingerprint);
    if (reason === 'acknowledged' || reason === 'resolved') this.firing.delete(fingerprint);
    // KV first: if the process dies between the two, the redelivered message is recognised as done.
    await this.ended.end(fingerprint, { generation: entry.alert.generation, status: 'done', reason });
    this.release(fingerprint);
    this.metrics.escalations.inc({ result: reason });
    this.logger.info({ fingerprint, host: entry.alert.host, rule: entry.alert.rule, reason }, 'escalation finished');
    this.metrics.queueDepth.set(this.queue.size);
    this.events.emit('finished', fingerprint, reason);
    this.wake();
  }

  /** Firing and not acknowledged, worst first, for an inbound caller. */
  firingAlerts(): Alert[] {
    const now = this.clock.now();
    return [...this.firing.values()]
      .filter((alert) => !this.acks.coveringAck(alert, now))
      .sort((a, b) =>
        a.severity === b.severity
          ? a.startsAt - b.startsAt
          : a.severity === 'critical'
            ? -1
            : b.severity === 'critical'
              ? 1
              : 0,
      );
  }
}
