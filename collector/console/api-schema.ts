import * as z from 'zod';
import {
  AlertStatus,
  CallRecord,
  EpochMs,
  Fingerprint,
  GatewayStatus,
  Labels,
  RuleKind,
  Severity,
} from '../../shared/index.ts';
import { Silence } from '../silences/index.ts';

/**
 * The console's JSON API (collector/README.md, Web console): what GET /console/api/state returns and every SSE `state`
 * event carries. The frontend imports these types only (erased by the bundler).
 */
export const AlertState = z.enum(['firing', 'quiet', 'acknowledged', 'silenced', 'inhibited', 'flapping', 'resolved']);
export type AlertState = z.infer<typeof AlertState>;

export const ConsoleAlert = z.object({
  fingerprint: Fingerprint,
  generation: z.number().int().positive(),
  status: AlertStatus,
  /**
   * Firing and nobody told: `quiet` (its firing came from a replay of history, README "Time"); else the collector's
   * mute reason, same precedence: inhibited (host down) > silenced > flapping > acknowledged.
   */
  state: AlertState,
  /** What of it nobody was told while it fires ("not announced: replayed history", or its rise); null: told. */
  untold: z.string().nullable(),
  severity: Severity,
  host: z.string(),
  rule: z.string(),
  ruleKind: RuleKind,
  /** The agent check or log rule behind it (labels `check` / `log_rule`), null for other kinds. */
  check: z.string().nullable(),
  labels: Labels,
  summary: z.string(),
  value: z.number().nullable(),
  startsAt: EpochMs,
  endsAt: EpochMs,
  /** When the stored record last changed (a transition, an ack, a mute). */
  lastChangeAt: EpochMs,
  lastNotifiedAt: EpochMs,
  ack: z.object({ by: z.string(), at: EpochMs, until: EpochMs, comment: z.string().nullable() }).nullable(),
  silence: z.object({ id: z.string(), createdBy: z.string(), comment: z.string(), endsAt: EpochMs }).nullable(),
});
export type ConsoleAlert = z.infer<typeof ConsoleAlert>;

export const ConsoleHost = z.object({
  host: z.string(),
  /** A firing host_down alert says so (the collector's own judgement, not this page's guess). */
  down: z.boolean(),
  lastHeartbeatAt: EpochMs,
  agentVersion: z.string(),
  intervalMs: z.number().int().nonnegative(),
  /** Events the agent numbered that the collector has not accepted yet; null where another member holds the host. */
  eventLag: z.number().int().nullable(),
  /** Events waiting in the agent's spool (it could not publish them yet). */
  spoolDepth: z.number().int().nonnegative(),
});
export type ConsoleHost = z.infer<typeof ConsoleHost>;

export const ConsoleSilence = Silence.extend({ state: z.enum(['active', 'pending', 'expired']) });
export type ConsoleSilence = z.infer<typeof ConsoleSilence>;

/** A voice note a caller left with an acknowledgement (inbound call); audio at /console/api/voice-notes/<file>. */
export const ConsoleVoiceNote = z.object({
  file: z.string(),
  fingerprint: Fingerprint,
  by: z.string(),
  at: EpochMs,
  comment: z.string().nullable(),
});
export type ConsoleVoiceNote = z.infer<typeof ConsoleVoiceNote>;

export const ConsoleState = z.object({
  ts: EpochMs,
  /** The collector member that answered (any member serves the same alerts and silences from KV). */
  member: z.string(),
  alerts: z.array(ConsoleAlert),
  hosts: z.array(ConsoleHost),
  silences: z.array(ConsoleSilence),
  gateways: z.array(GatewayStatus),
  calls: z.array(CallRecord),
  voiceNotes: z.array(ConsoleVoiceNote),
});
export type ConsoleState = z.infer<typeof ConsoleState>;

export const SessionInfo = z.object({
  user: z.string().nullable(),
  csrf: z.string().nullable(),
  /** Whether a login form makes sense (users configured). */
  passwordLogin: z.boolean(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export const LoginRequest = z.object({ user: z.string().min(1).max(64), password: z.string().min(1).max(1024) });
export const AckRequest = z.object({
  fingerprint: Fingerprint,
  comment: z.string().max(1000).default(''),
});
export const SilenceRequest = z.object({
  /** Alertmanager matchers, as `offhook silence add` takes them: `host=web1 rule=~"disk.*"` or `{a="1",b=~"2"}`. */
  matchers: z.string().min(1).max(4000),
  /** A duration like 2h or 1h30m. */
  duration: z.string().min(1).max(32),
  comment: z.string().min(1).max(1000),
});
export type SilenceRequest = z.infer<typeof SilenceRequest>;
