import * as z from 'zod';
import { DEFAULT_EVENTS_MAX_MSGS_PER_SUBJECT, Duration } from '../../shared/index.ts';
import { DEFAULT_INTAKE_LIMITS, type IntakeLimits } from './gate.ts';

/** collector.yaml `intake:`: what an agent event may claim, and one host's share of EVENTS. */
export const IntakeConfig = z
  .object({
    /** An event whose ts is further ahead of its arrival in JetStream is refused (reason ts_future). */
    max_clock_skew: Duration.pipe(z.number().min(1000, { error: 'expected at least 1s' })).default(
      DEFAULT_INTAKE_LIMITS.maxClockSkewMs,
    ),
    /** An event older than this at its arrival is refused (ts_past); the agent's spool holds events through outages. */
    max_event_age: Duration.pipe(z.number().min(60_000, { error: 'expected at least 1m' })).default(
      DEFAULT_INTAKE_LIMITS.maxEventAgeMs,
    ),
    /** Largest seq step within an epoch, and the highest first seq of a new epoch: above a spool's size in events. */
    max_seq_jump: z.number().int().min(1000).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_INTAKE_LIMITS.maxSeqJump),
    /** Epochs (agent sequence numberings) remembered per host. */
    epochs_per_host: z.number().int().min(2).max(64).default(DEFAULT_INTAKE_LIMITS.epochsPerHost),
    /** EVENTS `max_msgs_per_subject` (one subject = one host's resource, check or log events); 0 = unlimited. */
    events_max_msgs_per_subject: z.number().int().min(0).default(DEFAULT_EVENTS_MAX_MSGS_PER_SUBJECT),
  })
  .strict();
export type IntakeConfig = z.infer<typeof IntakeConfig>;

export const DEFAULT_INTAKE_CONFIG: IntakeConfig = {
  max_clock_skew: DEFAULT_INTAKE_LIMITS.maxClockSkewMs,
  max_event_age: DEFAULT_INTAKE_LIMITS.maxEventAgeMs,
  max_seq_jump: DEFAULT_INTAKE_LIMITS.maxSeqJump,
  epochs_per_host: DEFAULT_INTAKE_LIMITS.epochsPerHost,
  events_max_msgs_per_subject: DEFAULT_EVENTS_MAX_MSGS_PER_SUBJECT,
};

export function intakeLimits(config: IntakeConfig): IntakeLimits {
  return {
    maxClockSkewMs: config.max_clock_skew,
    maxEventAgeMs: config.max_event_age,
    maxSeqJump: config.max_seq_jump,
    epochsPerHost: config.epochs_per_host,
  };
}
