import type { KV } from '@nats-io/kv';
import type { Clock, ClockTimer, Counter, Logger, PartitionClaim } from '../../shared/index.ts';
import type { GroupConfig } from './config.ts';
import { LeaseTable, type LeaseEntry } from './leases.ts';
import { planRound } from './balance.ts';
import { type FenceOutcome, LeaseTrust } from './lease-trust.ts';
import { LeaseSightings } from './sightings.ts';

export { GroupConfig, DEFAULT_GROUP } from './config.ts';
export { alertPartition, partitionOf } from './partition-of.ts';
export { planRound, score, settledAssignment } from './balance.ts';
export { LeaseTable } from './leases.ts';
export { FENCE_OUTCOMES, type FenceOutcome } from './lease-trust.ts';

/** What the group asks of the collector when a partition comes or goes. */
export interface PartitionHandler {
  /** Partitions were taken this round: read what they need (alert records) once, after every lease is ours. */
  prepare(): Promise<void>;
  /** Load the partition's state and start evaluating it; `fence` must pass before anything of it is written. */
  acquire(partition: number, fence: () => Promise<boolean>): Promise<void>;
  /** This round's partitions are loaded: start reading EVENTS for them. */
  acquired(): Promise<void>;
  /** Stop evaluating and save state (the lease is still ours, fenced writes pass); then the lease is released. */
  release(partition: number): Promise<void>;
  /** The lease was lost (another member holds it): stop at once, write nothing. */
  lost(partition: number): void;
  /** Members live last round are gone (dead or stopped): what they had in flight in held partitions is ours now. */
  membersLeft?(gone: string[]): Promise<void>;
  /** How far the partition has read EVENTS, carried in its lease for the status page. */
  position(partition: number): number;
}

export interface PartitionOwner {
  partition: number;
  member: string | null;
  seq: number;
}

/**
 * One member of a collector group. Each round (a third of the lease timeout, at most a second) it follows
 * `planRound`: hands over what it holds above its share, takes free or stale partitions the plan gives it. Saying it
 * is alive and renewing the leases it holds run on their own timer, never behind a round: a round waits for the
 * partitions it took to load and their feeds to open (a JetStream API timeout, ~5 s), and leases left unrenewed that
 * long went stale under a live member, whose partitions then changed hands for nothing. All lease writes are
 * compare-and-swap on the KV revision, so two members can never both renew one lease: the loser finds out on its
 * next write and stops.
 */
export class CollectorGroup {
  private readonly held = new Map<number, number>();
  private readonly trust: LeaseTrust;
  private readonly sightings: LeaseSightings;
  private owners: PartitionOwner[] = [];
  private live = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private timer: ClockTimer | undefined;
  private renewTimer: ClockTimer | undefined;
  private renewing: Promise<void> = Promise.resolve();
  private reading: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly table: LeaseTable;
  private readonly logger: Logger;

  constructor(
    kv: KV,
    private readonly deps: {
      member: string;
      config: GroupConfig;
      clock: Clock;
      logger: Logger;
      handler: PartitionHandler;
      /** offhook_collector_lease_fence_total{outcome}: how often a fenced write needed a KV round trip. */
      fences?: Counter<'outcome'>;
    },
  ) {
    this.table = new LeaseTable(kv);
    this.trust = new LeaseTrust(deps.clock, deps.config.lease_timeout);
    this.sightings = new LeaseSightings(deps.config.lease_timeout);
    this.logger = deps.logger.child({ component: 'group', member: deps.member });
  }

  get member(): string {
    return this.deps.member;
  }

  /** The partitions this member evaluates now (the watchdog heartbeat's `partitions`). */
  claim(): PartitionClaim {
    return { count: this.deps.config.partitions, owned: [...this.held.keys()].sort((a, b) => a - b) };
  }

  /** Every partition's owner as of the last round (null: free or its member is gone). */
  partitionOwners(): PartitionOwner[] {
    return this.owners;
  }

  /** Whether `member` was live (its key moved within the lease timeout) in the last round; we always are. */
  isLive(member: string): boolean {
    return member === this.deps.member || this.live.has(member);
  }

  /**
   * First round: a lone member owns its partitions before it serves; one restarted under the same id takes its own
   * leases back as soon as its previous run can no longer trust them (`outlived`), at once if they are that old.
   */
  async start(): Promise<void> {
    await this.renewAll();
    this.scheduleRenewal(); // before the first round, which loads what it takes: that can outlast a lease
    await this.round();
    this.schedule();
  }

  /** Runs one round now (tests and the join path use it to converge without waiting). */
  round(): Promise<void> {
    this.chain = this.chain
      .then(() => this.runRound())
      .catch((err: unknown) => {
        this.logger.warn({ err }, 'collector group round failed; retrying next round');
      });
    return this.chain;
  }

  /** Hands every partition back (saved first) so the others take over without waiting for the lease timeout. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    if (this.renewTimer) this.deps.clock.clearTimeout(this.renewTimer);
    await this.chain;
    await this.renewing;
    await this.reading;
    for (const partition of [...this.held.keys()]) await this.handOver(partition);
    await this.table.leave(this.deps.member).catch((err: unknown) => {
      this.logger.warn({ err }, 'cannot remove the member key; it goes stale after the lease timeout');
    });
  }

  /**
   * Fences one write of `partition`: true while the lease is ours, false once it is not (lost, handed over, given up).
   * No KV round trip while the last successful write of the lease was sent less than lease_timeout / 2 ago: nobody
   * can take a lease before its last write was sent + lease_timeout, since the others count lease_timeout from their
   * first sighting of its revision (the argument: LeaseTrust). The renewal timer writes every lease_timeout / 3, so
   * in steady state no fence goes to KV. Past the margin (renewals failing, or a member paused by SIGSTOP, GC or a VM
   * freeze) the fence renews at the revision held, which fails if the lease moved: fenced, as before.
   */
  fence(partition: number): Promise<boolean> {
    return this.onLease(async () => {
      if (!this.held.has(partition)) return this.fenced('lost', false);
      if (this.trust.fresh(partition)) return this.fenced('local', true);
      const renewed = await this.renew(partition).catch((err: unknown) => {
        this.deps.fences?.inc({ outcome: 'error' });
        throw err;
      });
      return this.fenced(renewed ? 'renewed' : 'lost', renewed);
    });
  }

  private fenced(outcome: FenceOutcome, passes: boolean): boolean {
    this.deps.fences?.inc({ outcome });
    return passes;
  }

  /**
   * Every write to a lease we hold (renewal, fenced write, release) goes through here one at a time: a renewal
   * running beside a release could otherwise move the revision the release deletes at, and hold the partition again.
   */
  private onLease<T>(work: () => Promise<T>): Promise<T> {
    const run = this.fenceChain.then(work);
    this.fenceChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private fenceChain: Promise<void> = Promise.resolve();

  private async renew(partition: number): Promise<boolean> {
    const revision = this.held.get(partition);
    if (revision === undefined) return false;
    const sent = this.trust.sending();
    const value = { member: this.deps.member, seq: this.deps.handler.position(partition), at: sent.wall };
    const next = await this.table.swap(partition, value, revision);
    if (next === null) {
      this.held.delete(partition);
      this.logger.warn({ partition }, 'partition lease lost to another member: stopping it without writing');
      this.deps.handler.lost(partition);
      return false;
    }
    this.held.set(partition, next);
    this.trust.wrote(partition, sent);
    return true;
  }

  /** A lease is renewed a third of the timeout after its last write at the latest: fences stay local (`fence`). */
  private renewDue(partition: number): boolean {
    const { lease_timeout } = this.deps.config;
    return this.trust.age(partition) >= Math.floor(lease_timeout / 3) - roundEvery(this.deps.config);
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = roundEvery(this.deps.config);
    this.timer = this.deps.clock.setTimeout(() => void this.round().then(() => this.schedule()), every);
  }

  private scheduleRenewal(): void {
    if (this.stopped) return;
    const every = roundEvery(this.deps.config);
    this.renewTimer = this.deps.clock.setTimeout(() => {
      this.renewing = this.renewAll().then(() => this.scheduleRenewal());
    }, every);
  }

  /** Presence and every due lease, loading or not; a failed write is retried next time (before the lease is stale). */
  private async renewAll(): Promise<void> {
    if (this.stopped) return;
    const { member, clock } = this.deps;
    try {
      await this.table.announce(member, clock.now());
    } catch (err) {
      this.logger.warn({ err }, 'cannot say this member is alive; retrying');
    }
    for (const partition of [...this.held.keys()]) {
      if (!this.renewDue(partition)) continue;
      try {
        await this.onLease(() => this.renew(partition));
      } catch (err) {
        this.logger.warn({ err, partition }, 'cannot renew the partition lease; retrying');
      }
    }
  }

  private async runRound(): Promise<void> {
    if (this.stopped) return;
    const { member, config, clock } = this.deps;
    const entries = await withTimeout(this.table.list(), config.lease_timeout / 2, 'listing the group leases');
    const now = clock.monotonic(); // after the listing: LeaseSightings
    const live = this.sightings.liveMembers(member, entries, now);
    const gone = [...this.live].filter((id) => !live.includes(id));
    this.live = new Set(live);
    this.logger.debug({ live, held: [...this.held.keys()] }, 'group round');
    const leases = new Map<number, LeaseEntry>();
    for (const entry of entries) {
      const partition = LeaseTable.partitionOfKey(entry.key);
      if (partition !== null && partition < config.partitions) leases.set(partition, entry);
    }
    const holders = Array.from({ length: config.partitions }, (_, p) => this.viewHolder(p, leases.get(p), now));
    const plan = planRound(member, { partitions: config.partitions, live, holders });
    for (const partition of plan.release) if (this.held.has(partition)) await this.handOver(partition);
    const cap = Math.ceil(config.partitions / live.length);
    const taken: number[] = [];
    let takeFailed: unknown;
    for (let partition = 0; partition < config.partitions; partition++) {
      const lease = leases.get(partition);
      if (this.held.has(partition) || plan.release.includes(partition)) continue;
      const ownBack = holders[partition] === member && !!lease?.value && this.outlived(lease, now);
      const wanted = plan.take.includes(partition) || ownBack;
      // A stale lease nobody took for twice the timeout (its planned taker is gone too): anyone with room takes it.
      const orphan = !!lease?.value && this.sightings.stale(lease, now, 2) && this.held.size < cap;
      if (!wanted && !orphan) continue;
      try {
        if (await this.take(partition, lease)) taken.push(partition);
      } catch (err) {
        // The partitions taken so far are ours and must still be loaded below: a lease held and renewed but never
        // loaded is a partition nobody evaluates (seen for 75 s after a NATS node was killed).
        takeFailed = err;
        break;
      }
    }
    this.owners = Array.from({ length: config.partitions }, (_, partition) => {
      const lease = leases.get(partition);
      const holder = this.held.has(partition) ? member : this.sightings.holderOf(lease, now);
      return { partition, member: holder, seq: lease?.value?.seq ?? 0 };
    });
    if (taken.length > 0) await this.load(taken);
    if (takeFailed !== undefined) throw takeFailed;
    if (gone.length > 0 && this.held.size > 0) await this.deps.handler.membersLeft?.(gone);
  }

  /**
   * Who holds `partition` as far as the plan is concerned: us, or the member of a fresh lease. A fresh lease with
   * our own id that we do not hold is this member's from before a restart (kill -9): it counts as ours, to take back
   * (once `outlived`).
   */
  private viewHolder(partition: number, lease: LeaseEntry | undefined, now: number): string | null {
    if (this.held.has(partition)) return this.deps.member;
    if (!lease?.value) return null;
    return this.sightings.stale(lease, now) ? null : lease.value.member;
  }

  /** A previous run's lease of our own id: taken back once that run no longer trusts it (LeaseTrust.outlived). */
  private outlived(lease: LeaseEntry, now: number): boolean {
    return this.trust.outlived(lease.value?.at ?? 0, this.sightings.seenFor(lease, now));
  }

  /** State is read only once every lease taken this round is ours: no earlier holder can write after it. */
  private async load(taken: number[]): Promise<void> {
    try {
      await this.deps.handler.prepare();
    } catch (err) {
      this.logger.error({ err, partitions: taken }, "cannot read the partitions' state; releasing them");
      for (const partition of taken) await this.giveUp(partition);
      return;
    }
    for (const partition of taken) {
      try {
        await this.deps.handler.acquire(partition, () => this.fence(partition));
        // Lost while it loaded (a renewal found the revision moved): `lost` came before there was anything to stop.
        if (!this.held.has(partition)) this.deps.handler.lost(partition);
      } catch (err) {
        this.logger.error({ err, partition }, 'cannot load the partition; releasing it');
        await this.giveUp(partition);
      }
    }
    // Not awaited: opening the feeds can take a JetStream API timeout, and meanwhile the rounds go on (hand a share
    // over to a joining member, take a dead member's partitions). Feeds are restarted one after the other anyway.
    const reading = this.deps.handler.acquired().catch((err: unknown) => {
      this.logger.error({ err }, 'cannot start reading the partitions taken; the next round that takes one retries');
    });
    this.reading = this.reading.then(() => reading);
  }

  /**
   * Drops a partition that could not be loaded. Never throws: a failed release used to end the round in the middle of
   * `load`, leaving the partitions after it held (leases renewed every round) but never loaded or read, so nobody
   * evaluated them until the lease changed hands for another reason.
   */
  private async giveUp(partition: number): Promise<void> {
    this.deps.handler.lost(partition);
    await this.onLease(async () => {
      const held = this.held.get(partition);
      this.held.delete(partition);
      if (held === undefined) return;
      try {
        await this.table.release(partition, held);
      } catch (err) {
        // Safe: no longer renewed, the lease goes stale after lease_timeout and is taken again (by any member).
        this.logger.warn({ err, partition }, 'cannot release the lease of a partition given up; it goes stale');
      }
    });
  }

  /** The lease only; the partition is loaded once the round has taken all it takes. */
  private async take(partition: number, lease: LeaseEntry | undefined): Promise<boolean> {
    const sent = this.trust.sending();
    const value = { member: this.deps.member, seq: lease?.value?.seq ?? 0, at: sent.wall };
    const revision = lease?.value
      ? await this.table.swap(partition, value, lease.revision)
      : await this.table.create(partition, value);
    if (revision === null) return false; // another member was quicker; the next round sees who
    this.held.set(partition, revision);
    this.trust.wrote(partition, sent);
    this.logger.info({ partition, from: lease?.value?.member ?? null }, 'partition taken');
    return true;
  }

  private async handOver(partition: number): Promise<void> {
    await this.deps.handler.release(partition);
    await this.onLease(async () => {
      const revision = this.held.get(partition);
      this.held.delete(partition);
      if (revision !== undefined) await this.table.release(partition, revision);
    });
    this.logger.info({ partition }, 'partition handed over');
  }
}

/**
 * A third of the lease timeout, at most a second: a dead member's lease is seen stale within one round of
 * lease_timeout (the failover goal is lease_timeout + 2 s); renewals stay at a third of the timeout (renewDue).
 */
function roundEvery(config: GroupConfig): number {
  return Math.max(200, Math.min(1000, Math.floor(config.lease_timeout / 3)));
}

/** A read that hangs (a KV key listing once stalled a round for good in testing) fails the round; the next retries. */
function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms}ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
