import { ConfigError } from './config.ts';

/**
 * One exit-code convention for every offhook command (README, Operations): 0 ok, 1 a runtime failure (NATS
 * unreachable, no collector answered, a port taken), 2 a usage or config error the operator fixes by editing the
 * command line or the file. `offhook agent --once` is the exception: it returns Nagios plugin codes.
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A bad flag or argument: exit code 2, like a config error. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The exit code an error stands for: config and usage errors 2, anything else 1. */
export function exitCodeFor(err: unknown): number {
  return err instanceof ConfigError || err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}

/** The one-line (per problem) text an operator sees for an error: no stack trace. */
export function describeError(err: unknown): string {
  if (err instanceof ConfigError || err instanceof UsageError) return err.message;
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

/** Prints the error and sets the exit code for it; the process ends once its handles close. */
export function reportError(err: unknown, prefix = ''): void {
  process.stderr.write(`${prefix}${describeError(err)}\n`);
  process.exitCode = exitCodeFor(err);
}
