import type { ChildProcess } from 'node:child_process';
import { waitForOutput } from '../../deploy/lib/processes.ts';
import { scrape, sumOf } from '../../deploy/lib/metrics-text.ts';

/**
 * Sends SIGHUP to our own child (by its PID); resolves with the first line after it matching each pattern. The
 * waits are set up before the signal, so a line printed at once is not missed.
 */
export function hangUp(child: ChildProcess, ...patterns: RegExp[]): Promise<RegExpExecArray[]> {
  const seen = Promise.all(patterns.map((pattern) => waitForOutput(child, pattern, 30_000)));
  process.kill(child.pid!, 'SIGHUP');
  return seen;
}

/** One scrape of `url`: the reload metrics read from it. */
export async function reloadMetrics(url: string): Promise<{ outcome: (o: string) => number; successful: number }> {
  const samples = await scrape(url);
  return {
    outcome: (outcome) => sumOf(samples, 'offhook_config_reloads_total', { outcome }),
    successful: sumOf(samples, 'offhook_config_last_reload_successful'),
  };
}
