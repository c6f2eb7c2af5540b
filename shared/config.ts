import * as z from 'zod';
import { durationMessage, type DurationParse, readDuration } from './duration.ts';
import { safeRegexProblem } from './safe-regex.ts';

/** A config problem an operator can fix: each line names the file, the field, what was expected and what was found. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(problems.map((p) => `${file}: ${p}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * A duration in Prometheus's grammar (see duration.ts: "30s", "1h30m", "0"), parsed to milliseconds.
 * A YAML bare `0` is a number, not a string: accepted as zero, as Prometheus does; any other bare number is refused
 * because its unit would be a guess.
 * Defaults: zod 4's `.default()` skips the transform, so write `Duration.prefault('30s')` (or `.default(30_000)`).
 */
export const Duration = z
  .union([z.string(), z.number()], { error: durationMessage('not text') })
  .transform((value, ctx) => {
    const parsed = typeof value === 'string' ? readDuration(value) : bareNumber(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: durationMessage(parsed.problem) });
      return z.NEVER;
    }
    return parsed.ms;
  });

/** A duration with a floor, so "interval: 0" cannot turn a loop into a busy spin. */
export function DurationAtLeast(minMs: number, label: string) {
  return Duration.pipe(z.number().min(minMs, { error: `expected a duration of at least ${label}` }));
}

function bareNumber(value: number): DurationParse {
  return value === 0 ? { ok: true, ms: 0 } : { ok: false, problem: `a bare number has no unit (e.g. "${value}s")` };
}

export const Port = z
  .number({ error: 'expected integer 1-65535' })
  .int({ error: 'expected integer 1-65535' })
  .min(1, { error: 'expected integer 1-65535' })
  .max(65535, { error: 'expected integer 1-65535' });

/** "host:port" to listen on; loopback by default keeps /metrics off the network unless asked. */
export const ListenAddress = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, {
  error: 'expected "host:port", e.g. "127.0.0.1:9464" (port 0 picks a free one)',
});

export function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port: Number(listen.slice(at + 1)) };
}

/**
 * A regular expression given as a string; checked at load so a bad one is a config error, not a crash later,
 * and one the linear-time engine cannot run is refused (see safe-regex.ts: no pattern may hang a process).
 */
export const RegexSource = z
  .string()
  .min(1)
  .superRefine((source, ctx) => {
    const problem = safeRegexProblem(source);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * Refuses a second entry with the same name in a config list (`checks`, `rules`, `receivers`, `people`, `users`),
 * pointing at `<list>[i].name` and the first entry that has it. Returns every name seen, for later cross-checks.
 */
export function refineUniqueNames(
  ctx: z.RefinementCtx,
  list: string,
  names: readonly string[],
  what = 'name',
): Map<string, number> {
  const seen = new Map<string, number>();
  names.forEach((name, index) => {
    const first = seen.get(name);
    if (first === undefined) seen.set(name, index);
    else
      ctx.addIssue({
        code: 'custom',
        path: [list, index, 'name'],
        message: `expected a unique ${what}; ${JSON.stringify(name)} is also ${list}[${first}]`,
      });
  });
  return seen;
}
