import type { Server } from 'node:http';

/*
 * What the log path benches share (e2e-log.ts, e2e-log-floor.ts, agent-log-stages.ts): the line each trial writes,
 * the agent's log source that matches it, and waiting for a trial's arrivals by its number.
 */

const TRIAL_TIMEOUT_MS = 30_000;

/** The line trial `trial` appends (without its newline); `extra` goes before the message. */
export function trialLine(trial: number | string, extra = ''): string {
  return `2026-11-25T12:00:00Z app[7]: FATAL trial=${trial}${extra} out of widgets`;
}

/** The agent's log source for `path`: every trial line matches rule "fatal", its number as label `trial`. */
export function trialLogSource(path: string) {
  return {
    path,
    // "agent started" is printed before the follower opens the file: from the beginning, no early trial is skipped.
    start_at: 'beginning',
    // A trial every ~30-60 ms is faster than the default flood limit refills (10/s, burst 50): past ~100 trials
    // matches would be held for the 1 s flush, measuring the limiter rather than the path.
    rate_limit: { per_second: 1000, burst: 1000 },
    rules: [{ name: 'fatal', pattern: 'FATAL trial=(?<trial>\\d+)', severity: 'critical' }],
  };
}

/** Per trial number, what resolves its arrival with the nowMs() it was seen at. */
export type Arrivals = Map<string, (at: number) => void>;

export function arrival(waiting: Arrivals, trial: string, what: string): Promise<number> {
  let timer: NodeJS.Timeout;
  return new Promise<number>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what} of trial ${trial}`)), TRIAL_TIMEOUT_MS);
    waiting.set(trial, resolve);
  }).finally(() => clearTimeout(timer));
}

export function settle(waiting: Arrivals, trial: string | undefined, at: number): void {
  if (trial === undefined) return;
  waiting.get(trial)?.(at);
  waiting.delete(trial);
}

/** Settles each alert the webhook receiver (deploy/lib/webhook-receiver.ts) takes in, by its `trial` label. */
export function settleWebhooks(
  hook: { server: Server; alerts: { labels: Record<string, string>; at: number }[] },
  waiting: Arrivals,
): void {
  hook.server.on('request', (req) =>
    req.on('end', () =>
      setImmediate(() => {
        for (const alert of hook.alerts.splice(0)) settle(waiting, alert.labels.trial, alert.at);
      }),
    ),
  );
}
