/** Where one epoch of one host's agent numbering stands. */
export interface EpochPosition {
  /** '' for messages without an epoch (agents from before epochs). */
  epoch: string;
  seq: number;
  ts: number;
  /** Events accepted in this epoch: an epoch with a long history is the last to be forgotten. */
  count: number;
  /** EVENTS sequence of the last accepted event (ties in eviction go to the least recent). */
  used: number;
}

export interface PositionLimits {
  /** Largest forward step of `seq` within an epoch (and the highest first `seq` of a new one). */
  maxSeqJump: number;
  /** Epochs remembered per host. */
  epochsPerHost: number;
}

export type PositionVerdict = 'accept' | 'duplicate' | 'seq_jump';

/** The legacy position is keyed by '' in the same list; older checkpoints kept only `hosts[h].seq/ts`. */
export const LEGACY_EPOCH = '';

/**
 * Exactly-once by agent sequence, without letting one message decide a host's future. Each host
 * keeps a few epochs, each with its own position, so a spoofed epoch (however high its seq) never
 * moves the real agent's; a step of more than `maxSeqJump` within an epoch is refused, and a new epoch
 * must start at a `seq` within that bound (a real one starts at 1; the spool can only drop whole
 * segments, fewer events than the bound). A host never seen takes any first seq, so a collector that
 * lost its checkpoint still follows agents whose numbering is old. The legacy epoch ('') keeps the
 * old rule that a lower seq with a newer timestamp is an agent that restarted its numbering.
 */
export class AgentPositions {
  readonly hosts = new Map<string, EpochPosition[]>();

  constructor(private readonly limits: PositionLimits) {}

  admit(host: string, epoch: string, seq: number, ts: number, streamSeq: number): PositionVerdict {
    const list = this.hosts.get(host);
    const position = list?.find((p) => p.epoch === epoch);
    if (position) return this.step(position, seq, ts, streamSeq);
    const known = list !== undefined && list.length > 0;
    if (known && epoch !== LEGACY_EPOCH && seq > this.limits.maxSeqJump) return 'seq_jump';
    const fresh: EpochPosition = { epoch, seq, ts, count: 1, used: streamSeq };
    if (!list) this.hosts.set(host, [fresh]);
    else {
      list.push(fresh);
      if (list.length > this.limits.epochsPerHost) this.evict(list, fresh);
    }
    return 'accept';
  }

  private step(position: EpochPosition, seq: number, ts: number, streamSeq: number): PositionVerdict {
    if (seq <= position.seq) {
      if (position.epoch !== LEGACY_EPOCH || ts <= position.ts) return 'duplicate';
    } else if (seq - position.seq > this.limits.maxSeqJump) {
      return 'seq_jump';
    }
    position.seq = seq;
    position.ts = Math.max(position.ts, ts);
    position.count++;
    position.used = streamSeq;
    return 'accept';
  }

  /** The epoch with the shortest history goes (then the least recent): a burst of spoofed ones evict each other. */
  private evict(list: EpochPosition[], keep: EpochPosition): void {
    let victim: EpochPosition | undefined;
    for (const p of list) {
      if (p === keep) continue;
      if (!victim || p.count < victim.count || (p.count === victim.count && p.used < victim.used)) victim = p;
    }
    list.splice(list.indexOf(victim!), 1);
  }

  snapshot(): Record<string, EpochPosition[]> {
    return Object.fromEntries([...this.hosts].map(([host, list]) => [host, list.map((p) => ({ ...p }))]));
  }

  /** From a checkpoint; `legacy` are older checkpoints' per-host seq/ts, kept as the legacy epoch. */
  restore(saved: unknown, legacy: Record<string, { seq?: unknown; ts?: unknown }> = {}): void {
    this.hosts.clear();
    if (saved && typeof saved === 'object') {
      for (const [host, list] of Object.entries(saved as Record<string, unknown>)) {
        if (!Array.isArray(list)) continue;
        const valid = list
          .filter(isPosition)
          .slice(-this.limits.epochsPerHost)
          .map((p) => ({ ...p }));
        if (valid.length > 0) this.hosts.set(host, valid);
      }
      return;
    }
    for (const [host, info] of Object.entries(legacy)) {
      const seq = Number(info?.seq);
      if (!Number.isSafeInteger(seq) || seq < 0) continue;
      this.hosts.set(host, [{ epoch: LEGACY_EPOCH, seq, ts: Number(info.ts) || 0, count: 1, used: 0 }]);
    }
  }
}

function isPosition(p: unknown): p is EpochPosition {
  const x = p as EpochPosition;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.epoch === 'string' &&
    Number.isSafeInteger(x.seq) &&
    typeof x.ts === 'number' &&
    typeof x.count === 'number' &&
    typeof x.used === 'number'
  );
}
