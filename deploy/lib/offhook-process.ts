import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { spawnTracked, waitForOutput } from './processes.ts';

const OFFHOOK = fileURLToPath(new URL('../../offhook.mjs', import.meta.url));

export type ProcessKind = 'agent' | 'collector' | 'gateway';

export interface OffhookProcess {
  kind: ProcessKind;
  child: ChildProcess;
  /** Base URL of its HTTP server (…/metrics, …/healthz). */
  url: string;
  metricsUrl: string;
  configFile: string;
  /** Everything it printed so far (stdout + stderr). */
  output(): string;
  alive(): boolean;
}

/** What each process prints once it is up, and how to find its HTTP address in that line. */
const READY: Record<ProcessKind, { pattern: RegExp; url: (match: RegExpExecArray) => string }> = {
  collector: { pattern: /collector listening on (\S+)/, url: (m) => m[1]!.replace(/\/$/, '') },
  gateway: {
    pattern: /"msg":"gateway started"/,
    url: (m) => String((JSON.parse(m.input) as { metrics?: string }).metrics ?? '').replace(/\/metrics$/, ''),
  },
  agent: {
    pattern: /"msg":"agent started"/,
    url: (m) => String((JSON.parse(m.input) as { metrics?: string }).metrics ?? '').replace(/\/metrics$/, ''),
  },
};

/**
 * Writes `config` as YAML to DIR/NAME.yaml and runs the real `offhook <kind> --config` as a tracked child
 * (killed by PID when the run ends), resolving once it says it is up.
 */
export async function startOffhook(
  kind: ProcessKind,
  dir: string,
  name: string,
  config: Record<string, unknown>,
  timeoutMs = 30_000,
): Promise<OffhookProcess> {
  const configFile = join(dir, `${name}.yaml`);
  writeFileSync(configFile, stringify(config));
  // The installed launcher runs the agent with V8 flags (deploy/build/layout.ts); the same variable lets a bench or
  // test run the development entry point with them too, to see what they cost.
  const flags = kind === 'agent' ? (process.env.OFFHOOK_AGENT_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? []) : [];
  const child = spawnTracked(process.execPath, [...flags, OFFHOOK, kind, '--config', configFile], {
    cwd: dir,
    env: { ...process.env, OFFHOOK_LOG_LEVEL: process.env.OFFHOOK_LOG_LEVEL ?? 'info' },
  });
  let text = '';
  const keep = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    if (process.env.OFFHOOK_TEST_LOG) process.stderr.write(`[${name}] ${chunk.toString('utf8')}`);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let match: RegExpExecArray;
  try {
    match = await waitForOutput(child, READY[kind].pattern, timeoutMs);
  } catch (err) {
    throw new Error(`${name} did not start: ${(err as Error).message}\n${text.slice(-3000)}`);
  }
  const url = READY[kind].url(match);
  return {
    kind,
    child,
    url,
    metricsUrl: `${url}/metrics`,
    configFile,
    output: () => text,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}
