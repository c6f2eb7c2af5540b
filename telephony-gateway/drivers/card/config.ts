import * as z from 'zod';
import { Duration } from '../../../shared/index.ts';

export const SimLineConfig = z
  .object({
    speed: z.number().min(1).max(1000).default(1),
    dial_tone_delay: Duration.optional(),
    ring_period: Duration.optional(),
    no_dial_tone: z.boolean().default(false),
    /** Appends the sim's transcript as JSON lines (tests and the demo read it). */
    transcript_file: z.string().optional(),
    /** Far-end behaviour per number, consumed in order (see native/line.ts FarEndScript). */
    far_end: z.array(z.record(z.string(), z.unknown())).default([]),
    /** Inbound calls (native/line.ts InboundScript), rung one after another from start: each after the last on hook. */
    inbound: z.array(z.record(z.string(), z.unknown())).default([]),
  })
  .strict();

/** The card driver's settings, directly in `line:` (they were there before drivers had sections of their own). */
export const cardSettings = {
  /** vpb = the Voicetronix card through libvpb; sim = the simulated line. */
  backend: z.enum(['vpb', 'sim']).default('vpb'),
  vpb: z
    .object({
      library_path: z.string().optional(),
      board: z.number().int().min(0).default(0),
      channel: z.number().int().min(0).default(0),
    })
    .strict()
    .default({ board: 0, channel: 0 }),
  sim: SimLineConfig.default(SimLineConfig.parse({})),
};
