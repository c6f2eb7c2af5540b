import { Gauge, type MetricPoint, type Registry } from '../../shared/index.ts';

/**
 * Mirrors the latest resource sample on the agent's /metrics, so a Prometheus can scrape the host
 * from the agent as it would from node_exporter. Everything is exposed as a gauge of the sampled
 * value (counters keep their _total names, so rate() still works on them).
 */
export class HostGauges {
  private readonly gauges = new Map<string, Gauge<string>>();

  constructor(private readonly registry: Registry) {}

  update(points: MetricPoint[]): void {
    for (const gauge of this.gauges.values()) gauge.reset();
    for (const point of points) {
      const labelNames = Object.keys(point.labels ?? {}).sort();
      const key = point.name;
      let gauge = this.gauges.get(key);
      if (!gauge) {
        if (this.registry.getSingleMetric(key)) continue;
        gauge = new Gauge({ name: key, help: `Host metric ${key} (sampled by the offhook agent)`, labelNames, registers: [this.registry] });
        this.gauges.set(key, gauge);
      }
      try {
        if (point.labels) gauge.set(point.labels, point.value);
        else gauge.set(point.value);
      } catch {
        // A label set that differs from the first one seen for this name: skip rather than break /metrics.
      }
    }
  }
}
