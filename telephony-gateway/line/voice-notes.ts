import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  VOICE_NOTE_CHUNK_BYTES,
  VOICE_NOTE_MAX_BYTES,
  VoiceNoteRequest,
  type Logger,
  type Subjects,
  type VoiceNoteReply,
} from '../../shared/index.ts';
import { controlSubject } from './control.ts';

/**
 * Hands out the voice notes callers left (state_dir/voice-notes) in chunks over NATS request/reply, so the web
 * console can play them without reading this host's disk. The file name is checked against a strict pattern and
 * joined to the one directory, so no request can reach another file.
 */
export function serveVoiceNotes(
  nc: NatsConnection,
  subjects: Subjects,
  gatewayHost: string,
  dir: string,
  logger: Logger,
): Subscription {
  return nc.subscribe(controlSubject(subjects, gatewayHost, 'voice_note'), {
    callback: (err, msg) => {
      if (err) return;
      const reply = (body: VoiceNoteReply): void => {
        msg.respond(JSON.stringify(body));
      };
      let request: VoiceNoteRequest;
      try {
        const parsed = VoiceNoteRequest.safeParse(msg.json());
        if (!parsed.success) return reply({ error: `file: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
        request = parsed.data;
      } catch {
        return reply({ error: 'request is not JSON' });
      }
      void readChunk(join(dir, request.file), request.offset)
        .then(reply)
        .catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') logger.warn({ err: error, file: request.file }, 'cannot read a voice note');
          reply({ error: error.code === 'ENOENT' ? `no voice note ${request.file} on ${gatewayHost}` : 'read failed' });
        });
    },
  });
}

async function readChunk(path: string, offset: number): Promise<VoiceNoteReply> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size > VOICE_NOTE_MAX_BYTES) return { error: 'voice note too large' };
    const buffer = Buffer.alloc(Math.max(0, Math.min(VOICE_NOTE_CHUNK_BYTES, size - offset)));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
    return { total: size, offset, data: buffer.subarray(0, bytesRead).toString('base64') };
  } finally {
    await file.close();
  }
}
