import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { CollectorGroup, GroupConfig, type PartitionHandler } from '../../../collector/group/index.ts';
import { ensureStreams, openBucket, silentLogger, Subjects, systemClock } from '../../../shared/index.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { until } from '../../helpers/wait.ts';

const PARTITIONS = 4;
const RENEWALS = 6;

/**
 * A round waits for the partitions it took to load and for their feeds to open; opening a feed can take a JetStream
 * API timeout. Renewals used to run inside the round, so a member busy loading let its leases (and its member key) go
 * stale: the others took its partitions although it was alive. Real nats-server and KV; only the member's own load
 * step (the handler at the module boundary) is held open until the test lets it go.
 */
describe('collector group: leases are renewed while partitions load and feeds open', function () {
  this.timeout(60_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  const groups: CollectorGroup[] = [];

  before(async () => {
    nc = await connectTo(server);
  });
  afterEach(async () => {
    for (const group of groups.splice(0)) await group.stop();
  });
  after(async () => {
    await nc.drain();
  });

  const handler = (slow: Partial<PartitionHandler>): PartitionHandler => ({
    prepare: async () => undefined,
    acquire: async () => undefined,
    acquired: async () => undefined,
    release: async () => undefined,
    lost: () => undefined,
    position: () => 0,
    ...slow,
  });

  const member = async (prefix: string, name: string, h: PartitionHandler): Promise<CollectorGroup> => {
    const kv = await openBucket(nc, new Subjects(prefix), 'checkpoints');
    const config = GroupConfig.parse({ partitions: PARTITIONS, lease_timeout: '2s' });
    const group = new CollectorGroup(kv, {
      member: name,
      config,
      clock: systemClock,
      logger: silentLogger(),
      handler: h,
    });
    groups.push(group);
    return group;
  };

  const leases = async (prefix: string): Promise<Map<number, { member: string; revision: number }>> => {
    const kv = await openBucket(nc, new Subjects(prefix), 'checkpoints');
    const out = new Map<number, { member: string; revision: number }>();
    for (let p = 0; p < PARTITIONS; p++) {
      const entry = await kv.get(`group.partition.${p}`);
      if (entry?.operation === 'PUT')
        out.set(p, { member: entry.json<{ member: string }>().member, revision: entry.revision });
    }
    return out;
  };

  /**
   * `a` takes every partition and stalls in `stallIn`; `b` joins and gets `bShare` of them (from a's own round, so
   * only if that round is not stuck behind the stall); what a keeps must keep being renewed and stay a's.
   */
  const keepsItsLeases = async (prefix: string, stallIn: 'acquire' | 'acquired', bShare: number): Promise<void> => {
    await ensureStreams(nc, new Subjects(prefix));
    let stalled = false;
    let letGo: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    const stall = async (): Promise<void> => {
      stalled = true;
      await gate;
    };
    const a = await member(prefix, 'a', handler({ [stallIn]: stall }));
    const started = a.start();
    try {
      await until(() => stalled, `member a stalled in ${stallIn}`);
      assert.deepEqual(a.claim().owned, [0, 1, 2, 3], 'a took every partition before it stalled');
      const b = await member(prefix, 'b', handler({}));
      await b.start();
      const settled = (): boolean =>
        b.claim().owned.length === bShare && a.claim().owned.length === PARTITIONS - bShare;
      await until(settled, `b holding ${bShare} while a is stalled in ${stallIn}`).catch((err: Error) => {
        throw new Error(`${err.message}: a holds ${a.claim().owned}, b ${b.claim().owned}`);
      });
      const kept = a.claim().owned;
      // Every write of a lease from here on, counted per partition by the member it names.
      const kv = await openBucket(nc, new Subjects(prefix), 'checkpoints');
      const watch = await kv.watch({ key: 'group.partition.>', include: 'updates' });
      const renewed = new Map<string, number>();
      void (async () => {
        for await (const entry of watch) {
          const by = entry.operation === 'PUT' ? entry.json<{ member: string }>().member : 'deleted';
          renewed.set(`${entry.key} ${by}`, (renewed.get(`${entry.key} ${by}`) ?? 0) + 1);
        }
      })();
      const allRenewed = (): boolean =>
        kept.map((p) => renewed.get(`group.partition.${p} a`) ?? 0).every((n) => n >= RENEWALS);
      // RENEWALS renewals of each lease: a few lease timeouts (2 s, renewed every ~0.7 s) during which a stale
      // lease would have been taken.
      await until(allRenewed, `a's leases renewed while a is stalled in ${stallIn}`, 30_000)
        .catch((err: Error) => {
          throw new Error(`${err.message}: writes seen ${JSON.stringify([...renewed])}`);
        })
        .finally(() => watch.stop());
      const owners = await leases(prefix);
      const ofA = [...owners].filter(([, lease]) => lease.member === 'a').map(([p]) => p);
      assert.deepEqual(ofA, kept, 'nobody took the partitions a kept: it is alive');
      assert.deepEqual(a.claim().owned, kept);
      assert.equal(b.claim().owned.length, bShare);
    } finally {
      letGo();
      await started;
    }
  };

  it('a partition that takes long to load: every lease of the member is renewed meanwhile', async () => {
    // The round waits for its partitions to load (state is read before any is evaluated): no handover meanwhile.
    await keepsItsLeases('gslowacq', 'acquire', 0);
  });

  it('a lease lost while its partition loads: the partition is stopped once loaded, not left running', async () => {
    const prefix = 'gslowlost';
    await ensureStreams(nc, new Subjects(prefix));
    const running = new Set<number>();
    let stalled = false;
    let letGo: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    const a = await member(
      prefix,
      'a',
      handler({
        acquire: async (partition) => {
          if (partition === 0) {
            stalled = true;
            await gate;
          }
          running.add(partition);
        },
        release: async (partition) => void running.delete(partition),
        lost: (partition) => void running.delete(partition),
      }),
    );
    const started = a.start();
    try {
      await until(() => stalled, 'partition 0 loading');
      // Another writer moves the lease (what a member that took it over would do): a's next renewal finds out.
      const kv = await openBucket(nc, new Subjects(prefix), 'checkpoints');
      await kv.put('group.partition.0', JSON.stringify({ member: 'other', seq: 0, at: Date.now() }));
      await until(() => !a.claim().owned.includes(0), 'a renewal finding the lease of partition 0 moved');
    } finally {
      letGo();
      await started;
    }
    assert.deepEqual([...running].sort(), [1, 2, 3], 'partition 0 stopped once its load ended: it is not ours');
  });

  it('feeds slow to open: the rounds go on (a joiner gets its share) and the leases are renewed', async () => {
    await keepsItsLeases('gslowfeed', 'acquired', PARTITIONS / 2);
  });
});
