import * as z from 'zod';
import { Duration } from '../shared/index.ts';

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  tib: 1024 ** 4,
};

/** A size as a number of bytes or text like "64MiB", "500kB", "1.5GB". */
export const Bytes = z.union([z.number().int().nonnegative(), z.string()]).transform((input, ctx) => {
  if (typeof input === 'number') return input;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  const factor = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a size like 1048576, "64MiB" or "500kB"' });
    return z.NEVER;
  }
  return Math.round(Number(match[1]) * factor);
});

export { DurationAtLeast } from '../shared/index.ts';

/** A duration within bounds the collector also holds the agent's messages to (shared/schemas/common.ts). */
export function DurationBetween(minMs: number, maxMs: number, minLabel: string, maxLabel: string) {
  return Duration.pipe(
    z
      .number()
      .min(minMs, { error: `expected a duration of at least ${minLabel}` })
      .max(maxMs, { error: `expected a duration of at most ${maxLabel}` }),
  );
}
