import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decode, Subjects, type Ack, type Alert, type CallRecord, type FallbackRequest } from '../../shared/index.ts';

export type Say = (kind: string, text: string) => void;

/** Prints the story of an incident as it crosses NATS: alerts, acks, calls and fallbacks. */
export class Narrator {
  private readonly subscriptions: Subscription[] = [];

  constructor(private readonly nc: NatsConnection, private readonly subjects: Subjects, private readonly say: Say) {}

  start(): void {
    this.follow(this.subjects.allAlerts, (message) => this.alert(message as Alert));
    this.follow(this.subjects.allAcks, (message) => this.ack(message as Ack));
    this.follow(this.subjects.allCalls, (message) => this.call(message as CallRecord));
    this.follow(this.subjects.allFallbacks, (message) => this.fallback(message as FallbackRequest));
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

  private alert(alert: Alert): void {
    const state = alert.status === 'firing' ? `FIRING (${alert.severity})` : 'RESOLVED';
    this.say('alert', `${state} ${alert.host} ${alert.rule}: ${alert.summary} [fp ${alert.fingerprint}, generation ${alert.generation}]`);
  }

  private ack(ack: Ack): void {
    this.say('ack', `acknowledged ${ack.fingerprint} by ${ack.by} via ${ack.method}${ack.comment ? ` ("${ack.comment}")` : ''}`);
  }

  private call(call: CallRecord): void {
    const who = call.person ? `${call.person} (${call.number})` : call.number;
    const pressed = call.digits ? `, pressed "${call.digits}"` : '';
    this.say('call', `${call.direction} call ${who}: ${call.outcome}${pressed}, ${(call.durationMs / 1000).toFixed(1)} s, about ${call.estimatedCost.toFixed(2)} in call charges, ${call.fingerprints.length} alert(s)`);
  }

  private fallback(request: FallbackRequest): void {
    this.say('fallback', `gateway handed ${request.alerts.length} alert(s) to the notifiers: ${request.reason}${request.detail ? ` (${request.detail})` : ''}`);
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }
}
