import type { Clock } from '../../shared/index.ts';
import { acknowledger, createMute, inhibitor, type Announcement } from '../mute/index.ts';
import type { NotificationMetrics } from './metrics.ts';
import type { NotifyStage } from './stage.ts';
import type { NotificationReason } from './types.ts';

/** A severity rise reaches the notifiers as a repeat (its own log key); the flapping alert's firing is a firing. */
const ANNOUNCEMENT: Record<NotificationReason, Announcement> = {
  firing: 'firing',
  flapping: 'firing',
  repeat: 'repeat',
  resolved: 'resolved',
  fallback: 'fallback',
};

/**
 * Mute: the same decision the engine makes (mute/mute.ts), over what a notification carries: the alert snapshot's
 * `inhibited` and `acknowledged`. The engine already asks the same function before it announces; here it keeps the
 * sink's promise for every submitter: an inhibited firing or an acknowledged repeat is never sent. Counted per
 * receiver and reason (`offhook_notifications_dropped_total`).
 */
export function muteStage(parts: { metrics: NotificationMetrics; clock: Clock }): NotifyStage {
  const mute = createMute([inhibitor, acknowledger]);
  return {
    name: 'mute',
    run(items) {
      const now = parts.clock.now();
      return items.filter((item) => {
        const decision = mute({ alert: item.alert }, now, ANNOUNCEMENT[item.reason]);
        if (decision.muted) parts.metrics.dropped.inc({ receiver: item.receiver.config.name, reason: decision.reason });
        return !decision.muted;
      });
    },
  };
}
