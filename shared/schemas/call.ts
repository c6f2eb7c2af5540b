import * as z from 'zod';
import { Envelope, Fingerprint } from './common.ts';

export const CallOutcome = z.enum([
  'acknowledged', // answered and the ack key was pressed
  'passed', // answered, the person pressed "next person"
  'answered', // answered, no (valid) key before the prompt gave up
  'busy',
  'no_answer',
  'no_dial_tone',
  'hung_up', // the far end hung up during the call
  'failed', // driver or line error
  'rejected_budget', // not placed: a call limit was reached
  'cancelled', // hung up by the gateway: every alert in the call was acknowledged or resolved elsewhere meanwhile
]);
export type CallOutcome = z.infer<typeof CallOutcome>;

/** One attempt on the line, outbound or inbound. `host` is the gateway's host. */
export const CallRecord = Envelope.extend({
  callId: z.string().min(1).max(128),
  direction: z.enum(['outbound', 'inbound']),
  fingerprints: z.array(Fingerprint).max(1000),
  person: z.string().max(200).optional(),
  number: z.string().max(64),
  attempt: z.number().int().nonnegative(),
  outcome: CallOutcome,
  digits: z.string().max(64).default(''),
  durationMs: z.number().int().nonnegative(),
  estimatedCost: z.number().nonnegative(),
  /** The gateway's budget.currency, which estimatedCost is in (absent from older gateways). */
  currency: z.string().max(8).optional(),
  error: z.string().max(1000).optional(),
  /** The text of each prompt played in the call, in order (absent from older gateways). */
  spoken: z.array(z.string().max(1000)).max(50).optional(),
});
export type CallRecord = z.infer<typeof CallRecord>;
