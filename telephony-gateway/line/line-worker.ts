import type { Clock, Logger } from '../../shared/index.ts';
import type { Budget } from '../calls/budget.ts';
import type { CallScript } from '../calls/call-script.ts';
import type { CallQueue } from '../calls/queue.ts';
import type { GatewayConfig } from '../config.ts';
import type { LineDriver } from '../drivers/driver.ts';
import type { InboundScript } from '../inbound/inbound.ts';
import type { AckWatcher } from '../intake/ack-watcher.ts';
import type { AlertIntake } from '../intake/intake.ts';
import type { StateStore } from '../state-store.ts';
import type { LineActivity } from './line-activity.ts';
import type { GatewayMetrics } from '../status/metrics.ts';
import type { GatewayPublisher } from '../status/publisher.ts';
import { CallRecords } from './call-records.ts';
import { InboundCalls } from './inbound-calls.ts';
import { LineOwner } from './line-owner.ts';
import { OutboundCalls } from './outbound-calls.ts';
import { type TestCallResult, TestCalls } from './test-calls.ts';

export type { TestCallResult } from './test-calls.ts';

export interface LineWorkerParts {
  config: GatewayConfig;
  gatewayHost: string;
  driver: LineDriver;
  queue: CallQueue;
  intake: AlertIntake;
  budget: Budget;
  callScript: CallScript;
  inbound: InboundScript;
  acks: Pick<AckWatcher, 'remember'>;
  publisher: GatewayPublisher;
  store: StateStore;
  metrics: GatewayMetrics;
  logger: Logger;
  clock: Clock;
  /** The prompts' text for each call record. */
  activity?: Pick<LineActivity, 'takeSpoken'>;
}

/**
 * The only code that touches the line: the line owner's one loop, asking in this order an inbound ring
 * (inbound-calls.ts), a requested test call (test-calls.ts), then the next planned alert call (outbound-calls.ts).
 * Everything else only changes the queue and wakes it.
 */
export class LineWorker {
  private readonly owner: LineOwner;
  private readonly records: CallRecords;
  private readonly outbound: OutboundCalls;
  private readonly inbound: InboundCalls;
  private readonly tests: TestCalls;

  constructor(parts: LineWorkerParts) {
    const owner = new LineOwner(parts);
    const records = new CallRecords(parts);
    this.owner = owner;
    this.records = records;
    this.outbound = new OutboundCalls({ ...parts, owner, records });
    this.inbound = new InboundCalls({ ...parts, owner, records });
    this.tests = new TestCalls({ ...parts, owner, records });
  }

  /** True while the line is off hook for a call (outbound, inbound or test). */
  get busy(): boolean {
    return this.owner.busy;
  }

  /** Calls start only once the consumer has caught up, so a backlog's resolve can cancel its firing first. */
  setReady(): void {
    this.outbound.setReady();
  }

  wake(): void {
    this.owner.wake();
  }

  start(): void {
    this.owner.start([this.inbound, this.tests, this.outbound]);
  }

  /** Stops after the current step; a call in progress is hung up rather than finished (its alert is redelivered). */
  async stop(): Promise<void> {
    this.outbound.stop();
    await this.owner.stop();
  }

  testCall(number: string): Promise<TestCallResult> {
    return this.tests.request(number);
  }

  updatePinGauges(): void {
    this.inbound.updatePinGauges();
  }

  updateBudgetGauges(): void {
    this.records.updateBudgetGauges();
  }
}
