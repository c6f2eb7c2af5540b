import { Counter, Gauge, type MetricPoint, type Registry } from '../../shared/index.ts';

/**
 * node_exporter spells these meminfo fields in camelCase, which `promtool check metrics` refuses; on /metrics they
 * get snake_case offhook_ names (the event stream keeps node_exporter's, so existing collector rules still match).
 */
const RENAMED: Record<string, string> = {
  node_memory_MemTotal_bytes: 'offhook_memory_total_bytes',
  node_memory_MemFree_bytes: 'offhook_memory_free_bytes',
  node_memory_MemAvailable_bytes: 'offhook_memory_available_bytes',
  node_memory_SwapTotal_bytes: 'offhook_swap_total_bytes',
  node_memory_SwapFree_bytes: 'offhook_swap_free_bytes',
  node_memory_SwapCached_bytes: 'offhook_swap_cached_bytes',
};

/** The name a sampled point has on /metrics, or null when it is not exported there. */
export function exportedName(point: MetricPoint): string | null {
  // Per-second rates are worked out for the collector's threshold rules; a Prometheus rate()s the raw counters.
  if (point.name.endsWith('_per_second') && point.name.startsWith('offhook_')) return null;
  // A counter's family name must end in _total and a gauge's must not: anything else would be typed wrong.
  if ((point.type === 'counter') !== point.name.endsWith('_total')) return null;
  return RENAMED[point.name] ?? point.name;
}

/**
 * Mirrors the latest resource sample on the agent's /metrics, so a Prometheus can scrape the host from the agent as
 * it would from node_exporter: counters are typed counter (set to the value /proc gave), gauges gauge.
 */
export class HostGauges {
  private readonly families = new Map<string, Gauge<string> | Counter<string>>();

  constructor(private readonly registry: Registry) {}

  update(points: MetricPoint[]): void {
    // Synchronous from reset to the last set, so a scrape never sees a half-written sample.
    for (const family of this.families.values()) family.reset();
    for (const point of points) {
      const name = exportedName(point);
      if (name === null) continue;
      const family = this.family(name, point);
      if (!family) continue;
      try {
        if (family instanceof Counter) {
          if (point.value < 0) continue;
          if (point.labels) family.inc(point.labels, point.value);
          else family.inc(point.value);
        } else if (point.labels) family.set(point.labels, point.value);
        else family.set(point.value);
      } catch {
        // A label set that differs from the first one seen for this name: skip rather than break /metrics.
      }
    }
  }

  private family(name: string, point: MetricPoint): Gauge<string> | Counter<string> | null {
    const known = this.families.get(name);
    if (known) return known instanceof Counter === (point.type === 'counter') ? known : null;
    // A name the agent's own metrics already use is not overwritten by a sampled point.
    if (this.registry.getSingleMetric(name)) return null;
    const options = {
      name,
      help: `Host metric ${name} (sampled by the offhook agent)`,
      labelNames: Object.keys(point.labels ?? {}).sort(),
      registers: [this.registry],
    };
    const family = point.type === 'counter' ? new Counter(options) : new Gauge(options);
    this.families.set(name, family);
    return family;
  }
}
