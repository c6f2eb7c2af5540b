import type { KV } from '@nats-io/kv';
import { listKeys, newId, type Logger } from '../../shared/index.ts';
import type { Matcher } from './matchers.ts';
import { Silence } from './silence.ts';

/** Silences in KV `<prefix>-silences`, key = id. Expiring sets endsAt to now (the history stays readable). */
export class SilenceStore {
  constructor(
    private readonly kv: KV,
    private readonly logger?: Logger,
  ) {}

  async add(input: {
    matchers: Matcher[];
    startsAt: number;
    endsAt: number;
    createdBy: string;
    comment: string;
    createdAt: number;
  }): Promise<Silence> {
    const silence = Silence.parse({ id: newId().replace(/[^A-Za-z0-9_-]/g, ''), ...input });
    await this.kv.put(silence.id, JSON.stringify(silence));
    return silence;
  }

  async list(): Promise<Silence[]> {
    const keys: string[] = [];
    keys.push(...(await listKeys(this.kv)));
    const silences: Silence[] = [];
    for (const key of keys) {
      const silence = await this.get(key);
      if (silence) silences.push(silence);
    }
    return silences.sort((a, b) => a.startsAt - b.startsAt);
  }

  async get(id: string): Promise<Silence | null> {
    const entry = await this.kv.get(id);
    if (entry?.operation !== 'PUT') return null;
    const parsed = Silence.safeParse(entry.json());
    if (!parsed.success) this.logger?.warn({ id }, 'silence in KV is not valid; ignoring it');
    return parsed.success ? parsed.data : null;
  }

  async expire(id: string, now: number): Promise<Silence | null> {
    const silence = await this.get(id);
    if (!silence) return null;
    const expired = { ...silence, endsAt: Math.min(silence.endsAt, now) };
    await this.kv.put(id, JSON.stringify(expired));
    return expired;
  }

  /** Calls back with the full list whenever any silence changes (including at start). */
  async watch(onChange: (silences: Silence[]) => void): Promise<{ stop(): void }> {
    const current = new Map<string, Silence>();
    const watcher = await this.kv.watch({ key: '>' });
    void (async () => {
      for await (const entry of watcher) {
        if (entry.operation === 'PUT') {
          const parsed = Silence.safeParse(safeJson(entry.string()));
          if (parsed.success) current.set(entry.key, parsed.data);
          else this.logger?.warn({ id: entry.key }, 'silence in KV is not valid; ignoring it');
        } else current.delete(entry.key);
        onChange([...current.values()]);
      }
    })();
    return { stop: () => watcher.stop() };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
