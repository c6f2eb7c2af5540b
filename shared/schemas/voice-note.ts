import * as z from 'zod';

/** A voice note's file name on the gateway: `<fingerprint>-<epoch ms>.wav` (telephony-gateway/inbound). */
export const VOICE_NOTE_FILE_RE = /^[0-9a-f]{16}-\d{1,16}\.wav$/;
/** Reply chunks stay well under NATS' default 1 MiB max_payload once base64 adds its third. */
export const VOICE_NOTE_CHUNK_BYTES = 256 * 1024;
/** A minute of 8 kHz 16-bit audio is about 1 MB; anything beyond this is not a voice note. */
export const VOICE_NOTE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Asks the gateway that recorded it for part of a voice note: `<root>.gatewayctl.<gateway host>.voice_note`. Voice
 * notes stay on the gateway's disk (state_dir/voice-notes); the web console fetches them this way to play them.
 */
export const VoiceNoteRequest = z.object({
  file: z.string().regex(VOICE_NOTE_FILE_RE, { error: 'expected a voice note file name like <fingerprint>-<ms>.wav' }),
  offset: z.number().int().nonnegative().max(VOICE_NOTE_MAX_BYTES),
});
export type VoiceNoteRequest = z.infer<typeof VoiceNoteRequest>;

export const VoiceNoteReply = z.union([
  z.object({
    total: z.number().int().nonnegative().max(VOICE_NOTE_MAX_BYTES),
    offset: z.number().int().nonnegative(),
    /** base64 of at most VOICE_NOTE_CHUNK_BYTES bytes from `offset`. */
    data: z.string().max(Math.ceil(VOICE_NOTE_CHUNK_BYTES / 3) * 4),
  }),
  z.object({ error: z.string().max(500) }),
]);
export type VoiceNoteReply = z.infer<typeof VoiceNoteReply>;
