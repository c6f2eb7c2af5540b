import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { stringify } from 'yaml';
import { AgentConfig } from '../../agent/index.ts';
import { ConfigError, decode, parseConfigText, streamNames, Subjects, type Decoded } from '../../shared/index.ts';

export const subjects = new Subjects();

export function tempDir(prefix = 'offhook-agent-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function writeConfig(dir: string, config: Record<string, unknown>, name = 'agent.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(config));
  return file;
}

export type AgentEvent = Extract<Decoded, { type: 'resource' | 'check' | 'log' }>['message'];

/**
 * Reads the EVENTS stream from the start (ordered consumer) and returns the events of `host` until
 * `done(events)` is true. The timeout is a failure bound, not a wait.
 */
export async function readEvents(
  nc: NatsConnection,
  host: string,
  done: (events: AgentEvent[]) => boolean,
  timeoutMs = 20_000,
): Promise<AgentEvent[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(streamNames(subjects).events, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  const events: AgentEvent[] = [];
  const timer = setTimeout(() => messages.stop(), timeoutMs);
  try {
    for await (const m of messages) {
      const decoded = decode(m.subject, m.data);
      if (!decoded.ok) throw new Error(`invalid event on ${m.subject}: ${decoded.detail}`);
      if (decoded.message.host !== host) continue;
      events.push(decoded.message as AgentEvent);
      if (done(events)) break;
    }
  } finally {
    clearTimeout(timer);
    messages.stop();
  }
  if (!done(events)) throw new Error(`timed out after ${timeoutMs} ms with ${events.length} events of ${host}`);
  return events;
}

/** Resolves with the first core-NATS message on `subject` matching `accept`. */
export async function nextMessage<T>(
  nc: NatsConnection,
  subject: string,
  accept: (message: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const sub = nc.subscribe(subject);
  const timer = setTimeout(() => sub.unsubscribe(), timeoutMs);
  try {
    for await (const m of sub) {
      const message = m.json<T>();
      if (accept(message)) return message;
    }
  } finally {
    clearTimeout(timer);
    sub.unsubscribe();
  }
  throw new Error(`no matching message on ${subject} within ${timeoutMs} ms`);
}

/** The problems an agent.yaml text has, as check-config prints them (none → []). */
export function agentConfigProblems(yaml: string): string[] {
  try {
    parseConfigText(yaml, 'agent.yaml', AgentConfig);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
