import type { FlappingConfig } from '../rules/types.ts';

/** Nagios keeps the last 21 results: 20 possible state changes. */
export const FLAP_HISTORY = 21;

/**
 * Nagios percent state change: each change between consecutive results counts with a weight
 * rising from 0.8 (oldest) to 1.2 (newest), so recent churn matters more than old churn.
 * `history` holds result levels, oldest first (0 ok, 1 warning, 2 critical).
 */
export function percentStateChange(history: readonly number[]): number {
  if (history.length < 2) return 0;
  let weighted = 0;
  const changes = FLAP_HISTORY - 1;
  const offset = changes - (history.length - 1);
  for (let i = 1; i < history.length; i++) {
    if (history[i] !== history[i - 1]) weighted += 0.8 + (0.4 * (offset + i - 1)) / (changes - 1);
  }
  return (weighted * 100) / changes;
}

/** Pushes a result and says whether the series is flapping now (hysteresis between the two thresholds). */
export function updateFlapping(
  history: number[],
  level: number,
  wasFlapping: boolean,
  config: FlappingConfig,
): { flapping: boolean; percent: number } {
  history.push(level);
  while (history.length > FLAP_HISTORY) history.shift();
  const percent = percentStateChange(history);
  if (!config.enabled) return { flapping: false, percent };
  const flapping = wasFlapping ? percent >= config.low_threshold : percent >= config.high_threshold;
  return { flapping, percent };
}
