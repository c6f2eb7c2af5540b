import type { Alert } from '../../shared/index.ts';
import type { NotificationReason, NotificationSink, SubmitContext } from '../../collector/notify/index.ts';

/**
 * Records every submit and lets a test wait for the n-th one (no sleeping). Like the dispatcher it records a gated
 * submission (the engine's) only once its gate opens, i.e. once the record announcing it is in KV.
 */
export class RecordingSink implements NotificationSink {
  readonly submitted: { alert: Alert; reason: NotificationReason; context?: SubmitContext }[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];
  submit(alert: Alert, reason: NotificationReason, context?: SubmitContext): void | Promise<void> {
    const copy = structuredClone(alert);
    const { gate, ...told } = context ?? {};
    const record = (): void => {
      this.submitted.push({ alert: copy, reason, ...(Object.keys(told).length > 0 ? { context: told } : {}) });
      this.waiters = this.waiters.filter((w) => (this.submitted.length >= w.count ? (w.resolve(), false) : true));
    };
    if (!gate) return record();
    return gate.then((open) => (open ? record() : undefined));
  }
  lines(): string[] {
    return this.submitted.map(
      (s) => `${s.reason} ${s.alert.host} ${s.alert.rule} ${s.alert.severity} g${s.alert.generation}`,
    );
  }
  async waitForCount(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.submitted.length >= count) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${count} notifications; got ${JSON.stringify(this.lines())}`)),
        timeoutMs,
      );
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

export { until } from '../helpers/wait.ts';
