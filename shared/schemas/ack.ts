import * as z from 'zod';
import { EpochMs, Envelope, Fingerprint } from './common.ts';

/** A person took responsibility for an alert. `host` is the alert's host. */
export const Ack = Envelope.extend({
  fingerprint: Fingerprint,
  /** The generation acknowledged; a later re-fire is a new problem and is not covered. */
  generation: z.number().int().positive().optional(),
  by: z.string().min(1).max(200),
  method: z.enum(['dtmf', 'cli', 'http', 'inbound_call']),
  /** Acks may expire so a festering problem calls again (0 = until resolved). */
  until: EpochMs.default(0),
  comment: z.string().max(1000).optional(),
  /** Path of a recorded voice note on the gateway host, when one was left. */
  voiceNote: z.string().max(1024).optional(),
});
export type Ack = z.infer<typeof Ack>;
