import { z } from 'zod';
import { safeRegexProblem } from './safe-regex.ts';

/** A config problem an operator can fix: each line names the file, the field, what was expected and what was found. */
export class ConfigError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(problems.map((p) => `${file}: ${p}`).join('\n'));
    this.name = 'ConfigError';
  }
}

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | null {
  const match = DURATION_RE.exec(text.trim());
  if (!match) return null;
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
}

/**
 * A duration written the Prometheus way ("500ms", "30s", "5m", "2h", "1d"), parsed to milliseconds.
 * Defaults: zod 4's `.default()` skips the transform, so write `Duration.prefault('30s')` (or `.default(30_000)`).
 */
export const Duration = z
  .string({ error: 'expected a duration like "30s", "5m" or "2h"' })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration like "30s", "5m" or "2h"' });
      return z.NEVER;
    }
    return ms;
  });

export const Port = z
  .number({ error: 'expected integer 1-65535' })
  .int({ error: 'expected integer 1-65535' })
  .min(1, { error: 'expected integer 1-65535' })
  .max(65535, { error: 'expected integer 1-65535' });

/** "host:port" to listen on; loopback by default keeps /metrics off the network unless asked. */
export const ListenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, { error: 'expected "host:port", e.g. "127.0.0.1:9464" (port 0 picks a free one)' });

export function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port: Number(listen.slice(at + 1)) };
}

/**
 * A regular expression given as a string; checked at load so a bad one is a config error, not a crash later,
 * and one the linear-time engine cannot run is refused (see safe-regex.ts: no pattern may hang a process).
 */
export const RegexSource = z.string().min(1).superRefine((source, ctx) => {
  const problem = safeRegexProblem(source);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
