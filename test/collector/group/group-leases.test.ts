import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { LeaseTable, partitionOf, planRound, settledAssignment } from '../../../collector/group/index.ts';
import { ensureStreams, openBucket, Subjects } from '../../../shared/index.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';

describe('collector group: partition hash and leases', () => {
  it('a host always lands in the same partition, and partitions spread the hosts', () => {
    assert.equal(partitionOf('web1', 1), 0);
    assert.equal(partitionOf('web1', 16), partitionOf('web1', 16));
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[partitionOf(`host-${i}`, 16)]! += 1;
    assert.ok(
      counts.every((n) => n > 500),
      `every partition gets hosts: ${counts.join(',')}`,
    );
  });

  describe('balanced, sticky assignment (planRound)', () => {
    // A fixed-seed generator: the same member names and round orders on every run.
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    /** Members take rounds one after the other in a shuffled order, each applying its plan, until nobody acts. */
    const settle = (partitions: number, live: string[], start: (string | null)[]): (string | null)[] => {
      const holders = [...start];
      for (let round = 0; round < 1000; round++) {
        let acted = false;
        for (const me of [...live].sort(() => random() - 0.5)) {
          const plan = planRound(me, { partitions, live: [...live].sort(), holders });
          for (const p of plan.release) holders[p] = null;
          for (const p of plan.take) if (holders[p] === null) holders[p] = me;
          acted ||= plan.release.length + plan.take.length > 0;
        }
        if (!acted) return holders;
      }
      throw new Error(`no fixed point for ${partitions} partitions over ${live.join(',')}`);
    };
    const assertBalanced = (partitions: number, live: string[], holders: (string | null)[], what: string): void => {
      assert.ok(!holders.includes(null), `${what}: every partition held`);
      const loads = live.map((m) => holders.filter((h) => h === m).length);
      const floor = Math.floor(partitions / live.length);
      const cap = Math.ceil(partitions / live.length);
      assert.ok(Math.max(...loads) <= cap && Math.min(...loads) >= floor, `${what}: loads ${loads.join('/')}`);
    };
    const cases = (): [number, string[]][] => {
      const out: [number, string[]][] = [];
      for (let trial = 0; trial < 20; trial++)
        for (const partitions of [1, 2, 5, 7, 8, 16, 32, 64])
          for (let size = 1; size <= 6; size++)
            out.push([partitions, Array.from({ length: size }, (_, i) => `t${trial}-m${i}-${random().toFixed(6)}`)]);
      return out;
    };

    it('16 partitions over 3 members: 6/5/5, not the plain rendezvous 4/3/9', () => {
      const holders = settledAssignment(16, ['m1', 'm2', 'm3']);
      const loads = ['m1', 'm2', 'm3'].map((m) => holders.filter((h) => h === m).length).sort();
      assert.deepEqual(loads, [5, 5, 6]);
    });

    it('members joining one by one: each join moves partitions only to the newcomer, and exactly its share', () => {
      for (const [partitions, members] of cases()) {
        let holders = new Array<string | null>(partitions).fill(null);
        const live: string[] = [];
        for (const member of members) {
          const before = holders;
          live.push(member);
          holders = settle(partitions, live, before);
          assertBalanced(partitions, live, holders, `${partitions} over ${live.length}`);
          const moved = holders.flatMap((h, p) => (before[p] !== null && before[p] !== h ? [[p, h]] : []));
          assert.ok(
            moved.every(([, to]) => to === member),
            `${partitions} partitions: moved between staying members ${JSON.stringify(moved)}`,
          );
          const share = holders.filter((h) => h === member).length;
          const fromFree = before.filter((h) => h === null).length;
          assert.equal(moved.length + fromFree, share, 'only what the newcomer takes changes hands');
        }
      }
    });

    it('a member leaving (dead or stopped): only its partitions move, the survivors stay balanced', () => {
      for (const [partitions, members] of cases()) {
        if (members.length < 2) continue;
        const holders = settle(partitions, members, new Array<string | null>(partitions).fill(null));
        const gone = members[Math.floor(random() * members.length)]!;
        const survivors = members.filter((m) => m !== gone);
        // Its leases go stale: the survivors see them as free.
        const after = settle(
          partitions,
          survivors,
          holders.map((h) => (h === gone ? null : h)),
        );
        assertBalanced(partitions, survivors, after, `${partitions} over ${survivors.length} after a leave`);
        const moved = after.filter((h, p) => holders[p] !== gone && holders[p] !== h);
        assert.deepEqual(moved, [], `${partitions} partitions: a survivor's partition moved`);
      }
    });
  });

  describe('leases on a real nats-server', () => {
    const server = useNatsServer();
    let nc: NatsConnection;
    before(async () => {
      nc = await connectTo(server);
      await ensureStreams(nc, new Subjects());
    });
    after(async () => {
      await nc.drain();
    });

    it('compare-and-swap: one creator wins, a stale revision cannot renew, a released lease is free', async () => {
      const table = new LeaseTable(await openBucket(nc, new Subjects(), 'checkpoints'));
      const first = await table.create(3, { member: 'a', seq: 0, at: 1 });
      assert.ok(first !== null);
      assert.equal(await table.create(3, { member: 'b', seq: 0, at: 1 }), null, 'a second create loses');
      const taken = await table.swap(3, { member: 'b', seq: 5, at: 2 }, first);
      assert.ok(taken !== null, 'a takeover at the observed revision succeeds');
      assert.equal(await table.swap(3, { member: 'a', seq: 0, at: 3 }, first), null, 'the old holder cannot renew');
      await table.release(3, first);
      const holder = (await table.list()).find((e) => e.key === LeaseTable.partitionKey(3))?.value?.member;
      assert.equal(holder, 'b', 'a stale release does nothing');
      await table.release(3, taken);
      assert.ok(await table.create(3, { member: 'c', seq: 0, at: 4 }), 'free after its holder released it');
    });
  });
});
