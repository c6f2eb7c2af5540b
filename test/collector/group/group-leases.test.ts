import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { LeaseTable, partitionOf, preferredOwner } from '../../../collector/group/index.ts';
import { ensureStreams, openBucket, Subjects } from '../../../shared/index.ts';
import { connectTo, startNatsServer, type EmbeddedNatsServer } from '../../helpers/nats-server.ts';

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

  it('a joining member wins partitions only from the others, never moving any between them', () => {
    for (let size = 1; size <= 6; size++) {
      const members = Array.from({ length: size }, (_, i) => `m${i}`);
      const joined = [...members, `m${size}`];
      for (let p = 0; p < 64; p++) {
        const before = preferredOwner(p, members);
        const after = preferredOwner(p, joined);
        assert.ok(after === before || after === `m${size}`, `partition ${p}: ${before} → ${after}`);
      }
    }
  });

  describe('leases on a real nats-server', () => {
    let server: EmbeddedNatsServer;
    let nc: NatsConnection;
    before(async () => {
      server = await startNatsServer();
      nc = await connectTo(server);
      await ensureStreams(nc, new Subjects());
    });
    after(async () => {
      await nc.drain();
      await server.dispose();
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
