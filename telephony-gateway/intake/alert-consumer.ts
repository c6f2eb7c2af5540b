import {
  AckPolicy,
  DeliverPolicy,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import type { Alert, InboundValidator, Logger, NatsConnection, Subjects } from '../../shared/index.ts';
import { streamNames } from '../../shared/index.ts';
import { StateUnavailable } from '../state-store.ts';

const NS_PER_MS = 1_000_000;

export interface AlertDelivery {
  alert: Alert;
  redelivered: boolean;
  /** Messages still waiting in the stream after this one (0 = caught up). */
  pending: number;
}

/** What the gateway does with a message: keep it unacked until its escalation ends, or ack it now. */
export type Disposition = 'hold' | 'ack';

/**
 * The durable pull consumer on the ALERTS stream. A firing alert's message stays unacknowledged
 * until its escalation is over and is kept alive with `working()`, so a gateway killed mid-call
 * gets the alert redelivered instead of losing it.
 */
export class AlertConsumer {
  private messages: ConsumerMessages | null = null;
  private readonly held = new Map<string, JsMsg[]>();
  private keepAlive: NodeJS.Timeout | null = null;
  /** One message at a time, in stream order, so a resolve can never overtake its own firing. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly subjects: Subjects,
    private readonly validator: InboundValidator,
    private readonly logger: Logger,
    private readonly options: { durableName: string; ackWaitMs: number; catchUpMs: number; wallClock?: () => number },
  ) {}

  /**
   * Creates the durable consumer if needed. A new one starts `catchUpMs` back, so alerts fired while the gateway was
   * being installed still ring, and older history never does. An existing one keeps its position.
   */
  async ensure(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const stream = streamNames(this.subjects).alerts;
    const config = {
      durable_name: this.options.durableName,
      ack_policy: AckPolicy.Explicit,
      ack_wait: this.options.ackWaitMs * NS_PER_MS,
      max_deliver: -1,
      max_ack_pending: 10_000,
      filter_subject: this.subjects.allAlerts,
    };
    try {
      const info = await jsm.consumers.info(stream, this.options.durableName);
      if (info.config.ack_wait !== config.ack_wait)
        await jsm.consumers.update(stream, this.options.durableName, { ack_wait: config.ack_wait });
    } catch (err) {
      if (!/consumer not found/i.test((err as Error).message)) throw err;
      // Wall-clock time, not the injected clock: the server compares it with its own message timestamps.
      const startTime = new Date((this.options.wallClock ?? Date.now)() - this.options.catchUpMs);
      await jsm.consumers.add(stream, {
        ...config,
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: startTime.toISOString(),
      });
    }
  }

  async pendingAtStart(): Promise<number> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.consumers.info(streamNames(this.subjects).alerts, this.options.durableName);
    return info.num_pending;
  }

  async start(handle: (delivery: AlertDelivery) => Promise<Disposition>): Promise<void> {
    const consumer = await this.js.consumers.get(streamNames(this.subjects).alerts, this.options.durableName);
    this.messages = await consumer.consume({
      max_messages: 500,
      callback: (msg) => {
        this.chain = this.chain.then(() => this.dispatch(msg, handle));
      },
    });
    // Well inside ack_wait, so a held message is never redelivered while this process lives.
    const every = Math.max(100, Math.floor(this.options.ackWaitMs / 3));
    this.keepAlive = setInterval(() => this.workingAll(), every);
  }

  private async dispatch(msg: JsMsg, handle: (delivery: AlertDelivery) => Promise<Disposition>): Promise<void> {
    const decoded = this.validator.accept(msg.subject, msg.data);
    if (decoded?.type !== 'alert') {
      // Invalid forever: terminate so it is not redelivered (it is counted and logged by the validator).
      msg.term();
      return;
    }
    try {
      const disposition = await handle({
        alert: decoded.message,
        redelivered: msg.redelivered,
        pending: msg.info.pending,
      });
      if (disposition === 'ack') msg.ack();
      else this.hold(decoded.message.fingerprint, msg);
    } catch (err) {
      const fingerprint = decoded.message.fingerprint;
      // An unknown escalation state (KV did not answer) may be an ended escalation: held back, never called on.
      if (err instanceof StateUnavailable)
        this.logger.warn({ err, fingerprint }, 'escalation state unknown; the alert comes back once KV answers');
      else this.logger.error({ err, fingerprint }, 'handling an alert failed; it will be redelivered');
      msg.nak(1000);
    }
  }

  private hold(fingerprint: string, msg: JsMsg): void {
    const list = this.held.get(fingerprint) ?? [];
    list.push(msg);
    this.held.set(fingerprint, list);
  }

  /** The escalation for this alert is over: acknowledge every message that carried it. */
  release(fingerprint: string): void {
    for (const msg of this.held.get(fingerprint) ?? []) msg.ack();
    this.held.delete(fingerprint);
  }

  workingAll(): void {
    for (const list of this.held.values()) for (const msg of list) msg.working();
  }

  heldCount(): number {
    return this.held.size;
  }

  async stop(): Promise<void> {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
    this.messages?.stop();
    // Unfinished escalations go back to the stream at once for the next gateway to pick up.
    for (const list of this.held.values()) for (const msg of list) msg.nak();
    this.held.clear();
  }
}
