import type { KV } from '@nats-io/kv';
import type { Logger } from '../../shared/index.ts';
import type { EngineCheckpoint } from './engine-state.ts';

/** One collector (one partition) keeps the keys it always had; a partition of a group has its own. */
export function checkpointPrefix(partition: number, count: number): string {
  return count <= 1 ? 'collector.' : `collector.p${partition}.`;
}

/**
 * The checkpoint in KV `<prefix>-checkpoints`, sharded (one key per rule plus the engine's own)
 * so a large fleet stays under the message size limit. Shards carry the stream sequence they
 * cover and the rule's series (its `for` timers), so a crash between two shard writes only means
 * some rules skip events they have seen, with their state as of those events.
 */
export class CheckpointStore {
  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
    private readonly prefix = 'collector.',
  ) {}

  /** Rule names may hold ":" which KV keys do not allow; hex keeps every name a valid key. */
  private ruleKey(name: string): string {
    return `${this.prefix}rule.${Buffer.from(name).toString('hex')}`;
  }

  private get metaKey(): string {
    return `${this.prefix}engine`;
  }

  async save(checkpoint: EngineCheckpoint): Promise<void> {
    for (const [name, rule] of Object.entries(checkpoint.rules))
      await this.kv.put(this.ruleKey(name), JSON.stringify(rule));
    const { rules: _rules, ...engine } = checkpoint;
    await this.kv.put(this.metaKey, JSON.stringify(engine));
  }

  async load(ruleNames: string[]): Promise<EngineCheckpoint | null> {
    const meta = await this.read(this.metaKey);
    if (!meta) return null;
    const rules: EngineCheckpoint['rules'] = {};
    for (const name of ruleNames) {
      const rule = await this.read(this.ruleKey(name));
      if (rule) rules[name] = rule as EngineCheckpoint['rules'][string];
    }
    return { ...(meta as Omit<EngineCheckpoint, 'rules'>), rules };
  }

  /**
   * A shard that cannot be parsed starts fresh; a read that fails (timeout, no JetStream leader during an election)
   * throws: starting fresh then would replay or forget what the checkpoint holds, so the load fails and is retried.
   */
  private async read(key: string): Promise<unknown> {
    const entry = await this.kv.get(key);
    if (entry?.operation !== 'PUT') return null;
    try {
      return entry.json();
    } catch (err) {
      this.logger.warn({ err, key }, 'checkpoint shard unreadable; starting that part fresh');
      return null;
    }
  }
}
