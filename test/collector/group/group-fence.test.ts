import assert from 'node:assert/strict';
import { CollectorGroup, GroupConfig, type PartitionHandler } from '../../../collector/group/index.ts';
import { CollectorConfig } from '../../../collector/config.ts';
import {
  counter,
  createRegistry,
  ensureStreams,
  jetstreamClient,
  ManualClock,
  openBucket,
  publishDurable,
  type Registry,
  silentLogger,
  Subjects,
} from '../../../shared/index.ts';
import { useCollectorBed } from '../../helpers/collector-bed.ts';
import { EventScript } from '../alerts/engine-harness.ts';
import { RecordingSink } from '../nats-harness.ts';

const FENCES = 'offhook_collector_lease_fence_total';

/**
 * Time that passes without any timer firing (the process was paused: SIGSTOP, a long GC), and a wall clock that can
 * be stepped (NTP, an operator) while the monotonic one goes on as before.
 */
class PausableClock extends ManualClock {
  paused = 0;
  step = 0;
  override now(): number {
    return super.now() + this.paused + this.step;
  }
  override monotonic(): number {
    return super.monotonic() + this.paused;
  }
}

async function fenceCounts(registry: Registry): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(FENCES);
  const counts: Record<string, number> = {};
  for (const v of (await metric!.get()).values) counts[String(v.labels.outcome)] = v.value;
  return counts;
}

/**
 * Every alert write is fenced by the partition lease (twice per transition, once per checkpoint). While the last
 * renewal of the lease was sent less than lease_timeout / 2 ago nobody else can hold it, so the fence answers without
 * a KV round trip; past that it renews at the revision held, and finds a takeover. Real nats-server and KV; time is a
 * ManualClock, so no renewal timer fires unless a test advances it.
 */
describe('collector group: the lease fence is local while the lease is fresh', function () {
  this.timeout(30_000);
  const bed = useCollectorBed();
  const { server } = bed;
  const groups: CollectorGroup[] = [];
  afterEach(async () => {
    for (const group of groups.splice(0)) await group.stop();
  });

  const leaseRevision = async (subjects: Subjects, partition: number): Promise<number | undefined> =>
    (await (await openBucket(bed.nc, subjects, 'checkpoints')).get(`group.partition.${partition}`))?.revision;

  it('commits and a checkpoint while the lease is fresh: every fence local, the lease key not written', async () => {
    const subjects = new Subjects('fencelocal');
    await ensureStreams(bed.nc, subjects);
    const clock = new ManualClock(Date.now());
    const registry = createRegistry('collector');
    const sink = new RecordingSink();
    const config = CollectorConfig.parse({
      nats: { servers: [server.url], prefix: 'fencelocal' },
      listen: '127.0.0.1:0',
      checkpoint_interval: '1h',
      rules: [{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }],
    });
    const collector = await bed.start(config, { registry, clock, sink });
    const before = await leaseRevision(subjects, 0);
    assert.ok(before !== undefined, 'the lone collector holds partition 0');
    const js = jetstreamClient(bed.nc);
    const script = new EventScript(clock);
    for (const [host, value] of [
      ['web1', 95],
      ['web2', 95],
      ['web1', 50],
    ] as const)
      await publishDurable(js, subjects.event(host, 'resource'), script.resource(host, 'disk_used', value));
    await sink.waitForCount(3);
    await collector.idle();
    await collector.checkpoint();
    assert.deepEqual(sink.lines(), [
      'firing web1 disk critical g1',
      'firing web2 disk critical g1',
      'resolved web1 disk critical g1',
    ]);
    assert.equal(await leaseRevision(subjects, 0), before, 'no fence renewed the lease in KV');
    const counts = await fenceCounts(registry);
    assert.equal(counts.local, 7, 'two fences per transition, one for the checkpoint');
    assert.deepEqual([counts.renewed, counts.lost, counts.error], [0, 0, 0]);
  });

  const handler = (lost: number[]): PartitionHandler => ({
    prepare: async () => undefined,
    acquire: async () => undefined,
    acquired: async () => undefined,
    release: async () => undefined,
    lost: (partition) => void lost.push(partition),
    position: () => 0,
  });

  /** A group member with only the group's own callbacks; `a`, started first, takes both partitions. */
  const member = async (
    prefix: string,
    clock: PausableClock,
    lost: number[] = [],
    name = 'a',
    first = name === 'a',
  ) => {
    const subjects = new Subjects(prefix);
    await ensureStreams(bed.nc, subjects);
    const registry = createRegistry('collector');
    const group = new CollectorGroup(await openBucket(bed.nc, subjects, 'checkpoints'), {
      member: name,
      config: GroupConfig.parse({ partitions: 2, lease_timeout: '2s' }),
      clock,
      logger: silentLogger(),
      handler: handler(lost),
      fences: counter(registry, FENCES, 'fences', ['outcome']),
    });
    groups.push(group);
    await group.start();
    if (first) assert.deepEqual(group.claim().owned, [0, 1]);
    return { group, registry, subjects };
  };

  it('a lease taken over once its renewal aged past the margin: the next fence goes to KV and fails', async () => {
    const clock = new PausableClock(Date.now());
    const lost: number[] = [];
    const { group, registry, subjects } = await member('fencetaken', clock, lost);
    assert.equal(await group.fence(0), true);
    // Paused past the margin (lease_timeout / 2), no timer run yet; meanwhile another member took the lease.
    clock.paused = 1000;
    const kv = await openBucket(bed.nc, subjects, 'checkpoints');
    const taken = await kv.put('group.partition.0', JSON.stringify({ member: 'b', seq: 0, at: clock.now() }));
    assert.equal(await group.fence(0), false, 'fenced: the lease is not ours');
    assert.equal(await group.fence(0), false, 'and stays so');
    assert.deepEqual(lost, [0]);
    assert.deepEqual(group.claim().owned, [1]);
    assert.equal(await leaseRevision(subjects, 0), taken, 'the member wrote nothing to the lease it lost');
    const counts = await fenceCounts(registry);
    assert.deepEqual([counts.local, counts.lost, counts.renewed], [1, 2, undefined]);
  });

  it('local up to the margin; past it, or after a wall-clock step either way, the fence renews in KV', async () => {
    const clock = new PausableClock(Date.now());
    const { group, registry, subjects } = await member('fencestep', clock);
    const first = await leaseRevision(subjects, 0);
    clock.paused = 999;
    assert.equal(await group.fence(0), true);
    assert.equal(await leaseRevision(subjects, 0), first, 'renewal sent 999 ms ago, margin 1 s: local');
    clock.paused = 1000;
    assert.equal(await group.fence(0), true);
    const renewed = await leaseRevision(subjects, 0);
    assert.ok(renewed! > first!, 'at the margin: renewed in KV');
    clock.step = 1000;
    assert.equal(await group.fence(0), true);
    const second = await leaseRevision(subjects, 0);
    assert.ok(second! > renewed!, 'wall clock stepped forward past the margin: renewed in KV');
    clock.step = 500; // 500 ms back from the renewal just sent
    assert.equal(await group.fence(0), true);
    assert.ok((await leaseRevision(subjects, 0))! > second!, 'wall clock stepped back: renewed in KV');
    assert.equal(await group.fence(0), true);
    const counts = await fenceCounts(registry);
    assert.deepEqual([counts.local, counts.renewed], [2, 3]);
  });

  it("a wall-clock step on another member does not make a live member's leases look stale to it", async () => {
    await member('stepother', new PausableClock(Date.now()));
    const clock = new PausableClock(Date.now());
    const { group: b, subjects } = await member('stepother', clock, [], 'b'); // its first round saw a's leases
    clock.step = 2000; // lease_timeout
    await b.round();
    assert.deepEqual(b.claim().owned, [], 'b took none of the partitions a is renewing');
    const kv = await openBucket(bed.nc, subjects, 'checkpoints');
    for (const p of [0, 1])
      assert.equal((await kv.get(`group.partition.${p}`))?.json<{ member: string }>().member, 'a');
  });

  it('a restart under the same id takes its leases back only once the previous run no longer trusts them', async () => {
    const t0 = Date.now();
    const oldClock = new PausableClock(t0);
    const lost: number[] = [];
    const { group: old } = await member('restart', oldClock, lost);
    // The previous run is only paused (SIGSTOP), not dead; a supervisor started another run under the same id.
    const clock = new PausableClock(t0);
    const { group: restarted, subjects } = await member('restart', clock, [], 'a', false);
    assert.deepEqual(restarted.claim().owned, [], 'the previous run may still write: nothing taken yet');
    clock.paused = 999;
    await restarted.round();
    assert.deepEqual(restarted.claim().owned, []);
    clock.paused = 1000; // lease_timeout / 2 after the previous run sent its last lease write
    await restarted.round();
    assert.deepEqual(restarted.claim().owned, [0, 1], 'taken back');
    const revisions = await Promise.all([0, 1].map((p) => leaseRevision(subjects, p)));
    oldClock.paused = 1000; // the previous run resumes: its renewals are as old as the restarted run found them
    assert.deepEqual([await old.fence(0), await old.fence(1)], [false, false], 'the previous run is fenced');
    assert.deepEqual(lost, [0, 1]);
    assert.deepEqual(await Promise.all([0, 1].map((p) => leaseRevision(subjects, p))), revisions);
  });
});
