import { basename } from 'node:path';
import type { CheckStatus, MetricPoint } from '../../../shared/index.ts';
import type { CheckOutcome } from '../types.ts';
import { cleanText, splitOutput } from './output.ts';
import { parsePerfdata } from './perfdata.ts';
import { perfdataMetrics } from './metrics.ts';
import type { RunResult } from './run-plugin.ts';

export interface ReadOutput {
  message: string;
  longText: string;
  metrics: MetricPoint[];
  /** Labels reported as `U` (undetermined): skipped, not an error. */
  undetermined: string[];
  errors: string[];
}

/** Plugin stdout → message, long text and metric points. Pure: the golden files test exactly this. */
export function readPluginOutput(stdout: string, check: string): ReadOutput {
  const output = splitOutput(stdout);
  const perfdata = parsePerfdata(output.perfdata);
  const { points, errors } = perfdataMetrics(perfdata.items, check);
  const allErrors = [...perfdata.errors, ...errors];
  const metrics = [
    ...points,
    { name: 'offhook_nagios_perfdata_errors', type: 'gauge' as const, value: allErrors.length, labels: { check } },
  ];
  return {
    message: output.text,
    longText: output.longText,
    metrics,
    undetermined: perfdata.undetermined,
    errors: allErrors,
  };
}

const STATUS: Record<number, CheckStatus> = { 0: 'ok', 1: 'warning', 2: 'critical', 3: 'unknown' };
const MAX_MESSAGE_CHARS = 1500;

function firstLine(text: string): string {
  return cleanText(text.split(/\r?\n/).find((line) => line.trim() !== '') ?? '');
}

function sizeText(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

export interface PluginCall {
  check: string;
  command: readonly string[];
  timeoutMs: number;
  maxOutputBytes: number;
  /** The PATH the plugin was started with, for the "command not found" message. */
  path: string;
}

/**
 * Exit code 0/1/2/3 → ok/warning/critical/unknown; anything else (another code, a signal, a
 * timeout, too much output, a missing binary) is UNKNOWN with a message saying what happened and
 * naming the command, so the person on the phone hears "plugin broken", not "service down".
 */
export function interpretRun(call: PluginCall, run: RunResult): CheckOutcome {
  const name = basename(call.command[0]!);
  const target = call.command[0]!;
  const said = splitOutput(run.stdout).text || firstLine(run.stderr);
  const outcome = (status: CheckStatus, message: string, metrics?: MetricPoint[]): CheckOutcome => ({
    status,
    message: (message || '(no output)').slice(0, MAX_MESSAGE_CHARS),
    latencyMs: run.durationMs,
    target,
    ...(metrics ? { metrics } : {}),
  });
  const withOutput = (what: string): string => (said ? `${what}: ${said}` : what);
  const { end } = run;
  switch (end.kind) {
    case 'spawn_failed':
      if (end.code === 'ENOENT') {
        const where = target.includes('/')
          ? 'no such file (or its #! interpreter is missing)'
          : `not on PATH ${call.path}; give an absolute path or set env: PATH`;
        return outcome('unknown', `command not found: ${target}: ${where}`);
      }
      if (end.code === 'EACCES')
        return outcome('unknown', `cannot execute ${target}: permission denied (is it executable?)`);
      return outcome('unknown', `cannot start ${target}: ${end.message}`);
    case 'timeout':
      return outcome(
        'unknown',
        withOutput(`${name} did not finish within ${call.timeoutMs / 1000}s (timeout); process group killed`),
      );
    case 'overflow':
      return outcome(
        'unknown',
        withOutput(`${name} printed more than ${sizeText(call.maxOutputBytes)} (max_output); process group killed`),
      );
    case 'aborted':
      return outcome('unknown', `${name} stopped: the agent is shutting down`);
    case 'signaled':
      return outcome('unknown', withOutput(`${name} was killed by ${end.signal}`));
    case 'exited':
      break;
  }
  if (end.code === 127) return outcome('unknown', withOutput(`${name}: command not found (exit 127)`));
  if (end.code === 126) return outcome('unknown', withOutput(`${name}: command not executable (exit 126)`));
  const read = readPluginOutput(run.stdout, call.check);
  const status = STATUS[end.code];
  let message =
    status === undefined
      ? withOutput(`${name} exited with ${end.code}, not a Nagios state (0-3)`)
      : read.message || firstLine(run.stderr) || '(no output)';
  if (read.errors.length > 0)
    message +=
      ` [perfdata ignored: ` +
      `${cleanText(read.errors[0]!)}${read.errors.length > 1 ? `; +${read.errors.length - 1} more` : ''}]`;
  return outcome(status ?? 'unknown', message, read.metrics);
}
