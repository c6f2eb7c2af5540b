import type { Clock, Logger } from '../../shared/index.ts';
import type { GatewayConfig } from '../config.ts';
import type { LineDriver } from '../drivers/driver.ts';
import type { InboundScript } from '../inbound/inbound.ts';
import { reportPinState } from '../inbound/pin-guard.ts';
import type { AckWatcher } from '../intake/ack-watcher.ts';
import type { AlertIntake } from '../intake/intake.ts';
import type { CallQueue } from '../calls/queue.ts';
import type { StateStore } from '../state-store.ts';
import type { GatewayMetrics } from '../status/metrics.ts';
import type { GatewayPublisher } from '../status/publisher.ts';
import type { CallRecords } from './call-records.ts';
import type { LineOwner, LineUser, Turn } from './line-owner.ts';

export interface InboundCallParts {
  owner: LineOwner;
  config: GatewayConfig;
  driver: LineDriver;
  inbound: InboundScript;
  intake: AlertIntake;
  queue: CallQueue;
  acks: Pick<AckWatcher, 'remember'>;
  publisher: GatewayPublisher;
  records: CallRecords;
  store: StateStore;
  metrics: GatewayMetrics;
  logger: Logger;
  clock: Clock;
}

/** Calls to the gateway: a ring is answered before anything else on the line; the inbound script does the talking. */
export class InboundCalls implements LineUser {
  private ringPending = false;

  constructor(private readonly parts: InboundCallParts) {
    parts.driver.onRing(() => {
      if (!parts.config.inbound.enabled) return;
      this.ringPending = true;
      parts.owner.wake();
    });
  }

  turn(): Turn {
    if (!this.ringPending) return null;
    this.ringPending = false;
    return { call: () => this.answer() };
  }

  updatePinGauges(): void {
    reportPinState(this.parts.metrics, this.parts.inbound.lockoutSnapshot(), this.parts.clock.now());
  }

  private async answer(): Promise<void> {
    const { inbound, intake, publisher, acks, metrics, clock, logger } = this.parts;
    const startedAt = clock.now();
    const result = await this.parts.owner.offHook(() =>
      inbound.handle({
        firingAlerts: () => intake.firingAlerts(),
        acknowledge: async (alert, person, voiceNote) => {
          const ack = await publisher.ack(alert, {
            by: person.name,
            method: 'inbound_call',
            ...(voiceNote ? { voiceNote } : {}),
          });
          acks.remember(ack);
          const entry = this.parts.queue.get(alert.fingerprint);
          if (entry) await intake.finish(entry, 'acknowledged');
          intake.firing.delete(alert.fingerprint);
        },
      }),
    );
    // The rings that led to this call have been answered; only a ring after it is a new caller.
    this.ringPending = false;
    const durationMs = clock.now() - startedAt;
    if (result.wrongPins > 0) metrics.pinFailures.inc(result.wrongPins);
    if (result.pinAttempts > 0) metrics.pinAttempts.inc(result.pinAttempts);
    if (result.lockoutStarted) metrics.lockouts.inc();
    if (result.error && !result.person)
      metrics.rejectedCallers.inc({ reason: result.callerId ? 'unknown' : 'withheld' });
    else if (result.refused === 'global') metrics.rejectedCallers.inc({ reason: 'pin_attempts_cap' });
    else if (result.lockedOut && !result.lockoutStarted) metrics.rejectedCallers.inc({ reason: 'locked_out' });
    // Every PIN try was persisted as it happened; this catches only the clean-up of expired entries.
    await this.parts.store.saveLockouts(inbound.lockoutSnapshot());
    this.updatePinGauges();
    logger.info(
      {
        callerId: result.callerId,
        person: result.person,
        outcome: result.outcome,
        acked: result.acked.length,
        error: result.error,
      },
      'inbound call finished',
    );
    const fingerprints = result.acked.length > 0 ? result.acked : [];
    await this.parts.records.record(
      {
        person: result.person ?? undefined,
        number: result.callerId ?? 'withheld',
        alerts: [],
        fingerprints,
        attempt: 0,
        outcome: result.outcome,
        digits: result.digits.slice(0, 64),
        durationMs,
        cost: 0,
        error: result.error,
      },
      'inbound',
    );
  }
}
