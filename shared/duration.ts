/**
 * Durations follow Prometheus's grammar (prometheus/common model.ParseDuration) so a value copied from a
 * Prometheus or Alertmanager config means the same here: whole numbers, units ms s m h d w y (y = 365d),
 * compounds largest unit first ("1h30m"), a bare "0", nothing else (no fractions, signs or spaces).
 */

const UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ['y', 365n * 86_400_000n],
  ['w', 7n * 86_400_000n],
  ['d', 86_400_000n],
  ['h', 3_600_000n],
  ['m', 60_000n],
  ['s', 1000n],
  ['ms', 1n],
];
const UNIT_RANK = new Map(UNITS.map(([unit, ms], rank) => [unit, { ms, rank }]));

/** Prometheus holds durations in int64 nanoseconds: anything past ~292 years is out of range there too. */
const MAX_NS = (1n << 63n) - 1n;

export const DURATION_EXAMPLES = '"30s", "5m", "1h30m", "1d", "2w" or "0"';
export const DURATION_RULE = 'whole numbers with units ms, s, m, h, d, w, y, largest unit first';

export type DurationParse = { ok: true; ms: number } | { ok: false; problem: string };

/** Why `text` is not a duration, or its length in milliseconds. */
export function readDuration(text: string): DurationParse {
  if (text === '0') return { ok: true, ms: 0 };
  if (text === '') return { ok: false, problem: 'empty' };
  let rest = text;
  let totalNs = 0n;
  let lastRank = -1;
  while (rest !== '') {
    const number = /^\d+/.exec(rest)?.[0];
    if (number === undefined) return { ok: false, problem: notANumber(rest) };
    rest = rest.slice(number.length);
    const unit = /^\D+/.exec(rest)?.[0];
    if (unit === undefined) return { ok: false, problem: `"${number}" has no unit (e.g. "${number}s")` };
    rest = rest.slice(unit.length);
    const known = UNIT_RANK.get(unit);
    if (!known) return { ok: false, problem: unknownUnit(unit) };
    if (known.rank <= lastRank) return { ok: false, problem: 'units must go from largest to smallest, each once' };
    lastRank = known.rank;
    totalNs += BigInt(number) * known.ms * 1_000_000n;
    if (totalNs > MAX_NS) return { ok: false, problem: 'out of range (at most about 292y)' };
  }
  return { ok: true, ms: Number(totalNs / 1_000_000n) };
}

function notANumber(rest: string): string {
  if (rest.startsWith('.')) return 'no fractions: write "1h30m" rather than "1.5h", "1500ms" rather than "1.5s"';
  if (/^\s/.test(rest) || /\s$/.test(rest)) return 'no spaces';
  if (rest.startsWith('-') || rest.startsWith('+')) return 'no sign';
  return 'expected a whole number before each unit';
}

function unknownUnit(unit: string): string {
  if (unit.startsWith('.')) return 'no fractions: write "1h30m" rather than "1.5h", "1500ms" rather than "1.5s"';
  if (/\s/.test(unit)) return 'no spaces';
  return `unknown unit "${unit}" (units are ms, s, m, h, d, w, y)`;
}

/** Milliseconds, or null when `text` is not a duration. */
export function parseDuration(text: string): number | null {
  const parsed = readDuration(text);
  return parsed.ok ? parsed.ms : null;
}

/** The one-line message every config field and CLI flag gives for a bad duration. */
export function durationMessage(problem: string): string {
  return `expected a duration like ${DURATION_EXAMPLES} (${DURATION_RULE}): ${problem}`;
}

/** Milliseconds written back in the same grammar, as Prometheus prints them: 5400000 → "1h30m", 0 → "0s". */
export function formatPromDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in whole milliseconds: ${ms}`);
  let rest = BigInt(ms);
  let out = '';
  for (const [unit, size] of UNITS) {
    if (rest >= size) {
      out += `${rest / size}${unit}`;
      rest %= size;
    }
  }
  return out || '0s';
}
