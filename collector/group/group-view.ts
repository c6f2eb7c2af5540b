import type { Alert, Clock } from '../../shared/index.ts';
import type { AlertRecord } from '../alerts/index.ts';
import type { RecentNotification } from '../alerts/index.ts';
import type { AlertEngine } from '../alerts/index.ts';
import type { HostInfo } from '../alerts/index.ts';
import type { PartitionRuntime } from './partition.ts';
import type { StatusDeps } from '../status/index.ts';

/**
 * The partitions a member holds, read as one engine by the status page, its JSON API and `offhook status`
 * (`idle` carries the silences every partition shares).
 */
export function groupView(
  runtimes: Map<number, PartitionRuntime>,
  idle: AlertEngine,
  clock: Clock,
): Omit<StatusDeps, 'clock'> {
  const held = (): PartitionRuntime[] => [...runtimes.values()];
  const owner = (fp: string): AlertEngine => held().find((r) => r.engine.records.has(fp))?.engine ?? idle;
  const engine: StatusDeps['engine'] = {
    get records(): Map<string, AlertRecord> {
      return new Map(held().flatMap((r) => [...r.engine.records]));
    },
    hosts: (): Map<string, HostInfo> => new Map(held().flatMap((r) => [...r.engine.hosts()])),
    hostDown: (host: string): boolean => held().some((r) => r.engine.hostDown(host)),
    silencedBy: (alert: Alert, now = clock.now()) => idle.silencedBy(alert, now),
    isAcknowledged: (record: AlertRecord): boolean => owner(record.alert.fingerprint).isAcknowledged(record),
    activeSilenceList: () => idle.activeSilenceList(),
  };
  const queue = {
    get recent(): RecentNotification[] {
      return held()
        .flatMap((r) => r.queue.recent)
        .sort((a, b) => b.at - a.at)
        .slice(0, 100);
    },
  };
  return { engine, queue };
}
