import { EventEmitter } from 'node:events';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  decode,
  isCanary,
  type Subjects,
  type Ack,
  type Alert,
  type CallRecord,
  type FallbackRequest,
} from '../../shared/index.ts';

export type Say = (kind: string, text: string) => void;

/**
 * Prints the story of an incident as it crosses NATS (alerts, acks, calls, fallbacks) and emits
 * each message, so the scenario can wait for what it caused instead of sleeping.
 */
export class Narrator extends EventEmitter {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly say: Say,
  ) {
    super();
  }

  /** Resolves with the first message of `type` that satisfies `predicate`. */
  waitFor<T>(
    type: 'alert' | 'ack' | 'call' | 'fallback' | 'notify',
    predicate: (message: T) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off(type, listener);
        reject(new Error(`demo: no ${what} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const listener = (message: T): void => {
        if (!predicate(message)) return;
        clearTimeout(timer);
        this.off(type, listener);
        resolve(message);
      };
      this.on(type, listener);
    });
  }

  start(): void {
    // The watchdog canary goes by every minute to prove the alert path; it is not part of the story.
    this.follow(this.subjects.allAlerts, (message) => {
      if (!isCanary(message as Alert)) this.emit('alert', this.alert(message as Alert));
    });
    this.follow(this.subjects.allAcks, (message) => this.emit('ack', this.ack(message as Ack)));
    this.follow(this.subjects.allCalls, (message) => this.emit('call', this.call(message as CallRecord)));
    this.follow(this.subjects.allFallbacks, (message) =>
      this.emit('fallback', this.fallback(message as FallbackRequest)),
    );
  }

  private follow(subject: string, show: (message: unknown) => void): void {
    const subscription = this.nc.subscribe(subject);
    this.subscriptions.push(subscription);
    void (async () => {
      for await (const msg of subscription) {
        const result = decode(msg.subject, msg.data, this.subjects);
        if (result.ok) show(result.message);
      }
    })();
  }

  private alert(alert: Alert): Alert {
    const state = alert.status === 'firing' ? `FIRING (${alert.severity})` : 'RESOLVED';
    this.say(
      'alert',
      `${state} ${alert.host} ${alert.rule}: ${alert.summary} [fp ${alert.fingerprint}, ` +
        `generation ${alert.generation}]`,
    );
    return alert;
  }

  private ack(ack: Ack): Ack {
    this.say(
      'ack',
      `acknowledged ${ack.fingerprint} by ${ack.by} via ${ack.method}${ack.comment ? ` ("${ack.comment}")` : ''}`,
    );
    return ack;
  }

  private call(call: CallRecord): CallRecord {
    const who = call.person ? `${call.person} (${call.number})` : call.number;
    const pressed = call.digits ? `, pressed "${call.digits}"` : '';
    this.say(
      'call',
      `${call.direction} call ${who}: ${call.outcome}${pressed}, ` +
        `${(call.durationMs / 1000).toFixed(1)} s, ` +
        `about ${call.estimatedCost.toFixed(2)}${call.currency ? ` ${call.currency}` : ''} in ` +
        `call charges, ${call.fingerprints.length} alert(s)`,
    );
    return call;
  }

  private fallback(request: FallbackRequest): FallbackRequest {
    this.say(
      'fallback',
      `gateway handed ${request.alerts.length} alert(s) to the notifiers: ` +
        `${request.reason}${request.detail ? ` (${request.detail})` : ''}`,
    );
    return request;
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }
}
