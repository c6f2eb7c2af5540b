import {
  VOICE_NOTE_FILE_RE,
  VOICE_NOTE_MAX_BYTES,
  VoiceNoteReply,
  type NatsConnection,
  type Subjects,
} from '../../shared/index.ts';

const REQUEST_TIMEOUT_MS = 3000;

/**
 * Fetches a voice note from the gateway that recorded it (telephony-gateway/line/voice-notes.ts), chunk by chunk over
 * NATS. Voice notes never leave the gateway's disk otherwise; the ack only names the file. Tries each gateway the
 * console knows of; null when none has it.
 */
export async function fetchVoiceNote(
  nc: NatsConnection,
  subjects: Subjects,
  gateways: string[],
  file: string,
): Promise<Buffer | null> {
  if (!VOICE_NOTE_FILE_RE.test(file)) return null;
  for (const gateway of gateways) {
    const subject = `${subjects.root}.gatewayctl.${gateway}.voice_note`;
    const chunks: Buffer[] = [];
    let offset = 0;
    let total = Number.POSITIVE_INFINITY;
    try {
      while (offset < total) {
        const msg = await nc.request(subject, JSON.stringify({ file, offset }), { timeout: REQUEST_TIMEOUT_MS });
        const reply = VoiceNoteReply.parse(msg.json());
        if ('error' in reply) break;
        const data = Buffer.from(reply.data, 'base64');
        if (
          reply.offset !== offset ||
          reply.total > VOICE_NOTE_MAX_BYTES ||
          (data.length === 0 && offset < reply.total)
        )
          break;
        chunks.push(data);
        offset += data.length;
        total = reply.total;
      }
    } catch {
      // No responder, a timeout or a malformed reply: that gateway does not have it; ask the next.
      continue;
    }
    if (offset === total) return Buffer.concat(chunks);
  }
  return null;
}
