import type { BaresipControl } from './control.ts';
import type { BaresipSupervisor } from './supervisor.ts';

/** What firstValue() listens to: `change`, emitted on every state change of the SIP line. */
interface Changes {
  on(event: 'change', listener: () => void): unknown;
  off(event: 'change', listener: () => void): unknown;
}

/**
 * Resolves with the first defined value of `check`, re-run on every `change` of the line, or undefined after
 * `timeoutMs`.
 */
export function firstValue<T>(line: Changes, check: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const first = check();
  if (first !== undefined) return Promise.resolve(first);
  return new Promise((resolve) => {
    const onChange = (): void => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      line.off('change', onChange);
      resolve(value);
    };
    const timer = setTimeout(() => {
      line.off('change', onChange);
      resolve(undefined);
    }, timeoutMs);
    line.on('change', onChange);
  });
}

/** baresip's control connection, waiting up to `timeoutMs` for a line that is down (restarting); null if still down. */
export async function upWithin(supervisor: BaresipSupervisor, timeoutMs: number): Promise<BaresipControl | null> {
  const up = supervisor.control;
  if (up) return up;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
  // A line that fails to come up is reported by the caller as no dial tone, with lastDownReason as the detail.
  const control = await Promise.race([supervisor.waitUntilUp().catch(() => null), timeout]);
  clearTimeout(timer);
  return control;
}
