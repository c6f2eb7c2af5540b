import type { NotifyStage } from './stage.ts';

/**
 * Grouping: where Alertmanager's group_by / group_wait / group_interval go (issue #18). For now every notification
 * is its own group and goes on at once; a receiver's queue still coalesces what waits for it (`max_batch`).
 * A grouping stage replaces this one in the pipeline (dispatcher.ts `createStages`): it returns what goes on now
 * and sends a flushed group on with `later(items)`, which runs the stages after it (dedup) and queues the result.
 */
export function groupStage(): NotifyStage {
  return { name: 'group', run: (items) => items };
}
