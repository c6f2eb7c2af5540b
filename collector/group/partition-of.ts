import type { Alert } from '../../shared/index.ts';

/** FNV-1a: stable across processes and versions, so every member maps a host to the same partition. */
export function partitionOf(host: string, count: number): number {
  if (count <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < host.length; i++) {
    hash ^= host.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // murmur3's finaliser: FNV alone leaves names that differ in their last character too close together.
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35) >>> 0;
  return ((hash ^ (hash >>> 16)) >>> 0) % count;
}

/** Gateway and watchdog alerts (`external`) are no host's: partition 0 holds them, with the intakes raising them. */
export function alertPartition(alert: Pick<Alert, 'host' | 'ruleKind'>, count: number): number {
  return alert.ruleKind === 'external' ? 0 : partitionOf(alert.host, count);
}
