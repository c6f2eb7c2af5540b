import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { headers as newHeaders, type NatsConnection } from '@nats-io/transport-node';
import {
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { BUCKETS, bucketName, streamNames, type BucketName, type Subjects } from '../../shared/index.ts';

/**
 * Backup and restore of offhook's JetStream state (the four streams and the KV buckets' streams) through the
 * JetStream API, so it works against a running server or cluster with the `admin` user and needs no `nats` CLI.
 * Layout: <dir>/manifest.json, and per stream <name>.config.json + <name>.jsonl (one message per line, in order).
 */

export interface BackedUpMessage {
  seq: number;
  subject: string;
  /** Original store time (ISO); restored messages get the restore time, this keeps the original for audits. */
  time: string;
  headers?: [string, string][];
  data: string; // base64
}

export interface StreamBackup {
  name: string;
  messages: number;
  firstSeq: number;
  lastSeq: number;
}

export interface Manifest {
  format: 'offhook-jetstream-backup/1';
  createdAt: string;
  prefix: string;
  streams: StreamBackup[];
}

export function offhookStreams(subjects: Subjects): string[] {
  return [
    ...Object.values(streamNames(subjects)),
    ...(Object.keys(BUCKETS) as BucketName[]).map((b) => `KV_${bucketName(subjects, b)}`),
  ];
}

async function streamExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  return jsm.streams.info(name).then(
    () => true,
    (err: Error) => {
      if (/stream not found/i.test(err.message)) return false;
      throw err;
    },
  );
}

/** Copies every message up to the stream's last sequence at the start (a consistent cut per stream). */
async function backupStream(
  nc: NatsConnection,
  jsm: JetStreamManager,
  name: string,
  dir: string,
): Promise<StreamBackup> {
  const info = await jsm.streams.info(name);
  writeFileSync(join(dir, `${name}.config.json`), `${JSON.stringify(info.config, null, 2)}\n`);
  const out = createWriteStream(join(dir, `${name}.jsonl`));
  const { first_seq: firstSeq, last_seq: lastSeq, messages } = info.state;
  let written = 0;
  if (messages > 0) {
    const consumer = await jetstream(nc).consumers.get(name, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: firstSeq,
    });
    for (let done = false; !done; ) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 5000 });
      let got = 0;
      for await (const msg of batch) {
        got++;
        if (msg.seq > lastSeq) {
          done = true;
          break;
        }
        const record: BackedUpMessage = {
          seq: msg.seq,
          subject: msg.subject,
          time: msg.time.toISOString(),
          ...(msg.headers
            ? { headers: [...msg.headers].flatMap(([key, values]) => values.map((v): [string, string] => [key, v])) }
            : {}),
          data: Buffer.from(msg.data).toString('base64'),
        };
        written++;
        if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
        if (msg.seq === lastSeq) {
          done = true;
          break;
        }
      }
      if (got === 0)
        throw new Error(
          `${name}: stream stopped delivering before sequence ${lastSeq} (${written} of ${messages} messages copied)`,
        );
    }
  }
  out.end();
  await once(out, 'finish');
  return { name, messages: written, firstSeq, lastSeq };
}

export async function backup(nc: NatsConnection, subjects: Subjects, dir: string): Promise<Manifest> {
  mkdirSync(dir, { recursive: true });
  const jsm = await jetstreamManager(nc);
  const streams: StreamBackup[] = [];
  for (const name of offhookStreams(subjects)) {
    if (await streamExists(jsm, name)) streams.push(await backupStream(nc, jsm, name, dir));
  }
  const manifest: Manifest = {
    format: 'offhook-jetstream-backup/1',
    createdAt: new Date().toISOString(),
    prefix: subjects.prefix,
    streams,
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export function readManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) throw new Error(`${file} not found: not an offhook backup directory`);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  if (manifest.format !== 'offhook-jetstream-backup/1')
    throw new Error(`${file}: unknown format ${JSON.stringify(manifest.format)}`);
  return manifest;
}

export interface RestoreOptions {
  /** Replicas for the restored streams (a backup from one server restored onto a cluster): default as saved. */
  replicas?: number;
}

/**
 * Recreates each stream with its saved configuration and publishes its messages in order, headers included
 * (Nats-Msg-Id, KV delete/purge markers). Stream sequences are kept: the stream starts at the saved first
 * sequence and an interior gap (a deleted message) is reproduced, so the collector's checkpoint (which names an
 * EVENTS sequence) stays valid. Message times become the restore time (max_age counts from the restore).
 * Refuses a stream that already holds messages: restore into an empty server.
 */
export async function restore(nc: NatsConnection, dir: string, options: RestoreOptions = {}): Promise<StreamBackup[]> {
  const manifest = readManifest(dir);
  const jsm = await jetstreamManager(nc);
  for (const stream of manifest.streams) {
    if (await streamExists(jsm, stream.name)) {
      const { messages } = (await jsm.streams.info(stream.name)).state;
      if (messages > 0)
        throw new Error(
          `stream ${stream.name} already holds ${messages} messages; ` +
            `restore into an empty server (or delete the stream first)`,
        );
    }
  }
  const restored: StreamBackup[] = [];
  const js = jetstream(nc);
  for (const stream of manifest.streams) {
    const saved = JSON.parse(readFileSync(join(dir, `${stream.name}.config.json`), 'utf8')) as StreamConfig;
    const config = { ...saved, ...(options.replicas ? { num_replicas: options.replicas } : {}) };
    if (await streamExists(jsm, stream.name)) await jsm.streams.update(stream.name, config);
    else await jsm.streams.add(config);
    // An empty stream purged "up to" N continues at N: the restored messages keep their sequence numbers.
    if (stream.firstSeq > 1) await jsm.streams.purge(stream.name, { seq: stream.firstSeq });
    // KV streams deny deletes, so a gap there cannot be reproduced: their sequences (KV revisions) are renumbered,
    // which is harmless because revisions only guard concurrent updates within a running system.
    const exact = saved.deny_delete !== true;
    const gapSubject = (saved.subjects?.[0] ?? stream.name)
      .split('.')
      .map((t) => (t === '*' || t === '>' ? '_restore_gap' : t))
      .join('.');
    let count = 0;
    let expectedSeq = stream.firstSeq;
    const lines = createInterface({ input: createReadStream(join(dir, `${stream.name}.jsonl`)), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const message = JSON.parse(line) as BackedUpMessage;
      // Messages deleted from the middle of the source leave a gap; reproduce it so later sequences match.
      for (let seq = expectedSeq; exact && seq < message.seq; seq++) {
        const filler = await js.publish(gapSubject, new Uint8Array(0), { timeout: 10_000 });
        await jsm.streams.deleteMessage(stream.name, filler.seq, false);
      }
      const hdrs = message.headers?.length ? newHeaders() : undefined;
      for (const [key, value] of message.headers ?? []) hdrs!.append(key, value);
      const ack = await js.publish(message.subject, Buffer.from(message.data, 'base64'), {
        ...(hdrs ? { headers: hdrs } : {}),
        timeout: 10_000,
      });
      if (exact && ack.seq !== message.seq)
        throw new Error(
          `${stream.name}: message ${message.seq} was stored as ` +
            `${ack.seq}${ack.duplicate ? ' (a duplicate Nats-Msg-Id)' : ''}`,
        );
      expectedSeq = message.seq + 1;
      count++;
    }
    restored.push({ name: stream.name, messages: count, firstSeq: stream.firstSeq, lastSeq: stream.lastSeq });
  }
  return restored;
}
