import { basename } from 'node:path';
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import {
  decode,
  Ack,
  CallRecord,
  GatewayStatus,
  VOICE_NOTE_FILE_RE,
  jetstreamClient,
  streamNames,
  type Heartbeat,
  type Logger,
  type NatsConnection,
  type Subjects,
} from '../../shared/index.ts';
import type { Subscription } from '@nats-io/transport-node';
import { AlertRecord } from '../alerts/index.ts';
import { Silence } from '../silences/index.ts';
import type { ConsoleVoiceNote } from './api-schema.ts';

export interface Heard {
  beat: Heartbeat;
  /** When this member received it (the agent's `ts` is its own clock). */
  at: number;
}

const MAX_CALLS = 50;
const MAX_VOICE_NOTES = 50;
/** Acks read back at start to find voice notes (they ride on inbound-call acks, a small share of all acks). */
const ACKS_BACK = 1000;
const GATEWAY_FORGET_MS = 10_000;

export interface LiveDeps {
  nc: NatsConnection;
  subjects: Subjects;
  alertsKv: KV;
  silencesKv: KV;
  logger: Logger;
  now: () => number;
  /** Called after anything the console shows changed (the SSE side coalesces; routine ones wait longer). */
  changed: (routine?: boolean) => void;
}

/**
 * What the console shows, kept current from NATS: alert records and silences by watching their KV buckets (so every
 * collector member shows the same), heartbeats, the gateways' status answers and the CALLS stream.
 */
export class ConsoleLive {
  /** Alert records as last read (records()). */
  private readonly parsed = new Map<string, AlertRecord>();
  /** What the alerts bucket's watch delivered since: a record's text, or null for its deletion. */
  private readonly unread = new Map<string, string | null>();
  readonly silences = new Map<string, Silence>();
  readonly heard = new Map<string, Heard>();
  readonly gateways = new Map<string, { status: GatewayStatus; at: number }>();
  calls: CallRecord[] = [];
  voiceNotes: ConsoleVoiceNote[] = [];
  private readonly stops: (() => void)[] = [];
  private stopped = false;
  private polling: Promise<void> | null = null;

  constructor(private readonly deps: LiveDeps) {}

  async start(): Promise<void> {
    // Read when the console is (records()), not as each write arrives: the collector's own alert puts come back here
    // beside their acknowledgements, and parsing one (~0.3 ms) held up the notification waiting on it (issue #17).
    await this.watchBucket(this.deps.alertsKv, (entry) => {
      this.unread.set(entry.key, entry.operation === 'PUT' ? entry.string() : null);
    });
    await this.watchBucket(this.deps.silencesKv, (entry) => {
      if (entry.operation !== 'PUT') return this.silences.delete(entry.key);
      const parsed = Silence.safeParse(safeJson(entry.string()));
      if (parsed.success) this.silences.set(entry.key, parsed.data);
      else this.deps.logger.warn({ id: entry.key }, 'console: silence in KV is not valid; ignoring it');
    });
    const beats: Subscription = this.deps.nc.subscribe(this.deps.subjects.allHeartbeats, {
      callback: (err, msg) => {
        if (err) return;
        // decode(), not the intake's validator: the intake already counts and logs every invalid heartbeat once,
        // and offhook_invalid_messages_total must not count it a second time for the console's copy.
        const decoded = decode(msg.subject, msg.data, this.deps.subjects);
        if (!decoded.ok || decoded.type !== 'heartbeat') return;
        const before = this.heard.get(decoded.message.host);
        this.heard.set(decoded.message.host, { beat: decoded.message, at: this.deps.now() });
        // A new host or agent version shows at once; a heartbeat only refreshes "last heartbeat".
        this.deps.changed(before?.beat.agentVersion === decoded.message.agentVersion);
      },
    });
    this.stops.push(() => beats.unsubscribe());
    await this.follow('calls', MAX_CALLS, (data) => {
      const parsed = CallRecord.safeParse(data);
      if (!parsed.success) return false;
      this.calls = [parsed.data, ...this.calls].slice(0, MAX_CALLS);
      return true;
    });
    await this.follow('acks', ACKS_BACK, (data) => {
      const parsed = Ack.safeParse(data);
      const file = parsed.success && parsed.data.voiceNote ? basename(parsed.data.voiceNote) : '';
      if (!parsed.success || !VOICE_NOTE_FILE_RE.test(file)) return false;
      const { fingerprint, by, ts, comment } = parsed.data;
      const note = { file, fingerprint, by, at: ts, comment: comment ?? null };
      this.voiceNotes = [note, ...this.voiceNotes].slice(0, MAX_VOICE_NOTES);
      return true;
    });
  }

  /** Every alert record in the bucket, by fingerprint; one not valid is logged (once per write) and left out. */
  records(): Map<string, AlertRecord> {
    for (const [key, text] of this.unread) {
      const parsed = text === null ? null : AlertRecord.safeParse(safeJson(text));
      if (parsed?.success) this.parsed.set(key, parsed.data);
      else this.parsed.delete(key);
      if (parsed && !parsed.success)
        this.deps.logger.warn({ fingerprint: key }, 'console: alert record in KV is not valid; ignoring it');
    }
    this.unread.clear();
    return this.parsed;
  }

  private async watchBucket(kv: KV, apply: (entry: KvWatchEntry) => unknown): Promise<void> {
    const watcher = await kv.watch({ key: '>' });
    this.stops.push(() => watcher.stop());
    void (async () => {
      for await (const entry of watcher) {
        apply(entry);
        this.deps.changed();
      }
    })().catch((err: Error) => this.deps.logger.warn({ err }, 'console: KV watch ended'));
  }

  /** The last `back` messages of a stream, then each new one (an ordered consumer: no acks, no state). */
  private async follow(kind: 'calls' | 'acks', back: number, take: (data: unknown) => boolean): Promise<void> {
    const { nc, subjects } = this.deps;
    const js = jetstreamClient(nc);
    const stream = streamNames(subjects)[kind];
    let start = 1;
    try {
      const info = await (await js.jetstreamManager()).streams.info(stream);
      start = Math.max(1, info.state.first_seq, info.state.last_seq - back + 1);
    } catch (err) {
      this.deps.logger.warn({ err, stream }, 'console: cannot read a stream; its part of the page stays empty');
      return;
    }
    const consumer = await js.consumers.get(stream, {
      filter_subjects: kind === 'calls' ? subjects.allCalls : subjects.allAcks,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: start,
    });
    const messages: ConsumerMessages = await consumer.consume();
    this.stops.push(() => void messages.stop());
    void (async () => {
      for await (const msg of messages) if (take(safeJson(msg.string()))) this.deps.changed();
    })().catch((err: Error) => this.deps.logger.warn({ err, stream }, 'console: stream reader ended'));
  }

  /** Asks every gateway for its status (line, queue, escalation, budget); called about once a second while watched. */
  pollGateways(): Promise<void> {
    this.polling ??= this.askGateways().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async askGateways(): Promise<void> {
    const now = this.deps.now();
    const before = this.gatewaysKey();
    try {
      const replies = await this.deps.nc.requestMany(this.deps.subjects.statusRequest('gateway'), '', {
        strategy: 'stall',
        stall: 200,
        maxWait: 1000,
      });
      for await (const msg of replies) {
        const parsed = GatewayStatus.safeParse(safeJson(msg.string()));
        if (parsed.success) this.gateways.set(parsed.data.gatewayHost, { status: parsed.data, at: now });
      }
    } catch (err) {
      // No gateway running answers "no responders": the panel then shows none after GATEWAY_FORGET_MS.
      if (!/no responders/i.test((err as Error).message))
        this.deps.logger.debug({ err }, 'console: asking the gateways failed');
    }
    for (const [host, entry] of this.gateways) if (now - entry.at > GATEWAY_FORGET_MS) this.gateways.delete(host);
    // Asked every second: only a real change (not the answer's own timestamp) is news.
    if (!this.stopped && this.gatewaysKey() !== before) this.deps.changed();
  }

  private gatewaysKey(): string {
    return JSON.stringify([...this.gateways.values()].map((g) => ({ ...g.status, ts: 0 })));
  }

  stop(): void {
    this.stopped = true;
    for (const stop of this.stops.splice(0)) stop();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
