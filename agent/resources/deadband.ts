import type { MetricPoint } from '../../shared/index.ts';
import { groupKey, KEY_METRIC, type Family, type GaugeGroup } from './fast-gauges.ts';

export type Deadbands = Record<Family, number>;

/**
 * Report by exception: remembers the last value of each group's key metric that reached the collector (by a
 * fast publish or a full sample) and lets a group through only when it has moved at least its family's band.
 * A group never published before (a new mount) counts as moved.
 */
export class Deadband {
  private readonly last = new Map<string, number>();

  constructor(private readonly bands: Deadbands) {}

  moved(groups: GaugeGroup[]): GaugeGroup[] {
    return groups.filter((group) => {
      const before = this.last.get(group.key);
      return before === undefined || Math.abs(group.value - before) >= this.bands[group.family];
    });
  }

  /** Records what was published (fast groups or a full sample's points) as the new baselines. */
  published(points: MetricPoint[]): void {
    for (const point of points) {
      const family = KEY_METRIC[point.name];
      if (family) this.last.set(groupKey(family, point.labels), point.value);
    }
  }
}
