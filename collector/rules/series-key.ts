import type { Labels } from '../../shared/index.ts';

/** Key of one series inside a rule's state: host plus sorted labels. */
export function seriesKey(host: string, labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? host : `${host}|${keys.map((k) => `${k}=${labels[k]}`).join(',')}`;
}

/** Plain-object snapshot of a Map, for checkpoints. */
export function mapToObject<V>(map: Map<string, V>): Record<string, V> {
  return Object.fromEntries(map);
}

export function objectToMap<V>(state: unknown, isValue: (v: unknown) => v is V): Map<string, V> {
  const map = new Map<string, V>();
  if (state && typeof state === 'object') for (const [k, v] of Object.entries(state)) if (isValue(v)) map.set(k, v);
  return map;
}
